// Helper of scripts/bench: holds COUNT concurrent HTTP/2 (TLS) connections to
// one proxy process, each proven live by one GET answered 200, then reads the
// process's memory while all of them are open, and closes them.
//
//   node connections.mjs --url https://127.0.0.1:PORT/PATH --count N --pid PID [--parallel 100] [--settle S]
//
// Opening thousands of TLS connections takes a while on a busy machine, longer
// than servers keep an idle HTTP/2 connection (h2o: 10 s): every open one gets
// a PING every 3 s, as a browser tab's keep-alive would, so they all stay open.
//
// Prints one JSON line: {count, open, ok, rssKiB, hwmKiB, rssBeforeKiB, kibPerConnection, seconds}, read 1 s
// after the last connection answered; with --settle S (seconds) also {settledRssKiB, settledOpen}, read S
// seconds later with every connection still open and pinged (what idle connections keep, once the server's
// periodic work, if any, had its turn).
// Exits 1 when fewer than COUNT connections were open and answered at once.
import fs from 'node:fs';
import http2 from 'node:http2';

function args(argv) {
  const out = { parallel: '100', settle: '0' };
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) throw new Error(`bad argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  if (!out.url || !out.count || !out.pid) throw new Error('usage: connections.mjs --url URL --count N --pid PID');
  return out;
}

// VmRSS and VmHWM of a process, in KiB.
function memory(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

// One connection and one GET on it; resolves the session once answered 200 (it stays open).
function open(url) {
  return new Promise((resolve) => {
    const u = new URL(url);
    const session = http2.connect(u.origin, { rejectUnauthorized: false });
    session.on('error', () => resolve(null));
    session.setTimeout(30000, () => {
      session.destroy();
      resolve(null);
    });
    const req = session.request({ ':path': `${u.pathname}${u.search}` });
    let status = 0;
    req.on('response', (h) => {
      status = h[':status'];
    });
    req.on('error', () => resolve(null));
    req.resume();
    req.on('end', () => {
      session.setTimeout(0);
      resolve(status === 200 ? session : null);
    });
  });
}

async function main() {
  const a = args(process.argv.slice(2));
  const count = Number(a.count);
  const parallel = Number(a.parallel);
  const pid = Number(a.pid);
  const before = memory(pid);
  const t0 = Date.now();
  const sessions = [];
  const keepAlive = setInterval(() => {
    for (const s of sessions) {
      try {
        if (!s.closed && !s.destroyed) s.ping(() => {});
      } catch {
        // too many pings outstanding: the connection is stuck, and counts as not open
      }
    }
  }, 3000);
  let next = 0;
  let ok = 0;
  const lane = async () => {
    while (next < count) {
      next += 1;
      const s = await open(a.url);
      if (s) {
        ok += 1;
        sessions.push(s);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, lane));
  await new Promise((r) => setTimeout(r, 1000)); // let the server settle its buffers
  const stillOpen = () => sessions.filter((s) => !s.closed && !s.destroyed).length;
  const openNow = stillOpen();
  const held = memory(pid);
  const out = {
    count,
    open: openNow,
    ok,
    rssKiB: held.rss,
    hwmKiB: held.hwm,
    rssBeforeKiB: before.rss,
    kibPerConnection: Number(((held.rss - before.rss) / Math.max(openNow, 1)).toFixed(2)),
    seconds: (Date.now() - t0) / 1000,
  };
  const settle = Number(a.settle);
  if (settle > 0) {
    console.error(`connections.mjs: ${openNow} open, RSS read; settling ${settle} s`);
    await new Promise((r) => setTimeout(r, settle * 1000));
    out.settledOpen = stillOpen();
    out.settledRssKiB = memory(pid).rss;
  }
  clearInterval(keepAlive);
  for (const s of sessions) s.destroy();
  console.log(JSON.stringify(out));
  return openNow === count && (out.settledOpen ?? count) === count ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`connections.mjs: ${err.message}`);
    process.exit(1);
  }
);
