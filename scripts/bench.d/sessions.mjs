// Helper of scripts/bench-sessions: sends one GET per session cookie of a file
// through the gateway, in passes, and watches the in-process session cache
// from the admin listener's /metrics while it does:
//
//   pass 1 "cold"   every cookie once (each a cache miss: the cache fills, then evicts)
//   pass 2 "again"  every cookie once more, same order (more sessions than the bound: misses again)
//   pass 3 "hot"    the last --hot cookies of pass 2, twice (fewer than the bound: hits)
//
//   node sessions.mjs --url URL --cookies FILE --metrics URL --pid PID --redis-port PORT
//                     [--connections 8] [--concurrency 64] [--hot 5000] [--sample-ms 200]
//   node sessions.mjs report --seed FILE --result FILE --redis-keys N --redis-memory TEXT
//                     --load-before TEXT --load-after TEXT --commit TEXT
//
// Every answer must be 2xx (the route needs a session: a request without one
// is checked to get 401 first). Prints one JSON object with per-pass figures;
// exits 1 when a request failed or tenantgate_session_cache_entries was ever
// above tenantgate_session_cache_max_entries.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';

function args(argv, defaults, required) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) throw new Error(`bad argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  for (const need of required) if (out[need] === undefined) throw new Error(`--${need} is required`);
  return out;
}

// The report of a run: seed is bench_seed_sessions' JSON line, r the load's, info the run's other facts.
export function report(seed, r, info) {
  const mib = (kib) => (kib / 1024).toFixed(1);
  const n = (x) => x.toLocaleString('en-US');
  const lines = [
    `Session cache with ${n(r.sessions)} sessions in Redis (commit ${info.commit}, ${info.when} UTC)`,
    `- seeded: ${n(seed.sessions)} sessions of ${seed.users} users in ${seed.seconds.toFixed(1)} s (${n(seed.writes)} pipelined SETs, ${seed.failed} failed); Redis: ${n(Number(info.redisKeys))} keys, ${info.redisMemory}`,
    `- requests without a session: answered ${r.refusedWithoutSession.join(', ')} (not let through)`,
    `- cache bound (cacheMaxEntries): ${n(r.bound)}; most entries seen: ${n(r.maxEntriesSeen)} (${r.samples} scrapes of /metrics, every 200 ms and after each pass)`,
    `- gateway VmRSS before any session: ${mib(r.rssBeforeKiB)} MiB`,
    '',
    '| pass | requests | 2xx | req/s | gateway CPU µs/req | cache hits | misses | evictions | entries after | Redis cmds/req | Redis commands | VmRSS MiB | VmHWM MiB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |',
  ];
  for (const p of r.passes) {
    const cmds = Object.entries(p.redisCommands)
      .map(([k, v]) => `${k} ${n(v)}`)
      .join(', ');
    const fails = Object.keys(p.failures).length ? ` (failed: ${JSON.stringify(p.failures)})` : '';
    lines.push(
      `| ${p.name} | ${n(p.requests)} | ${n(p.ok)}${fails} | ${n(p.reqPerS)} | ${n(p.gatewayCpuUsPerRequest)} | ${n(p.hits)} | ${n(p.misses)} | ${n(p.evictions)} | ${n(p.entriesAfter)} | ${p.redisPerRequest.toFixed(3)} | ${cmds} | ${mib(p.rssKiB)} | ${mib(p.hwmKiB)} |`
    );
  }
  for (const [status, body] of Object.entries(r.failureBodies ?? {})) lines.push(`- first answer ${status}: ${JSON.stringify(body)}`);
  lines.push('', `load average before / after: ${info.loadBefore} / ${info.loadAfter}`);
  return lines.join('\n');
}

// VmRSS and VmHWM of a process, in KiB.
export function memory(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
}

// CPU seconds (user + system) a process has used.
export function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

// The session cache series of a Prometheus text exposition (no labels on them but result="...").
export function cacheMetrics(text) {
  const value = (re) => {
    const m = re.exec(text);
    if (!m) throw new Error(`metric missing: ${re}`);
    return Number(m[1]);
  };
  return {
    entries: value(/^tenantgate_session_cache_entries (\d+)$/m),
    maxEntries: value(/^tenantgate_session_cache_max_entries (\d+)$/m),
    evictions: value(/^tenantgate_session_cache_evictions_total (\d+)$/m),
    hits: value(/^tenantgate_sessions_cache_total\{result="hit"\} (\d+)$/m),
    misses: value(/^tenantgate_sessions_cache_total\{result="miss"\} (\d+)$/m),
  };
}

// Calls per Redis command (INFO commandstats), without INFO itself.
export function commandCalls(text) {
  const calls = {};
  for (const m of text.matchAll(/^cmdstat_([a-z|_-]+):calls=(\d+)/gm)) if (m[1] !== 'info') calls[m[1]] = Number(m[2]);
  return calls;
}

function scrape(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 10000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`/metrics ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('/metrics timed out')));
    req.on('error', reject);
  });
}

function redisCalls(port) {
  return commandCalls(execFileSync('redis-cli', ['-p', String(port), 'INFO', 'commandstats'], { encoding: 'utf8' }));
}

function delta(after, before) {
  const out = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}

// One GET on session; resolves its status (0 on a stream error). The body of the first answer of each
// failing status goes into `failureBodies` (the gateway's own error pages name the cause, never a secret).
const failureBodies = {};
function get(session, path, cookie) {
  return new Promise((resolve) => {
    const headers = { ':path': path, accept: 'application/json' };
    if (cookie) headers.cookie = cookie;
    let req;
    try {
      req = session.request(headers);
    } catch {
      resolve(0);
      return;
    }
    let status = 0;
    let body = '';
    req.on('response', (h) => {
      status = h[':status'];
    });
    req.on('data', (d) => {
      if ((status < 200 || status >= 300) && body.length < 300) body += d;
    });
    req.on('error', () => resolve(0));
    req.on('close', () => {
      if ((status < 200 || status >= 300) && cookie && !(status in failureBodies)) failureBodies[status] = body.slice(0, 300);
      resolve(status);
    });
  });
}

// Sends one request per cookie over the sessions, at most `concurrency` at once.
async function pass(sessions, path, cookies, concurrency) {
  let next = 0;
  let ok = 0;
  const failures = {};
  const lane = async (lane) => {
    const session = sessions[lane % sessions.length];
    while (next < cookies.length) {
      const cookie = cookies[next];
      next += 1;
      const status = await get(session, path, cookie);
      if (status >= 200 && status < 300) ok += 1;
      else failures[status] = (failures[status] ?? 0) + 1;
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: Math.min(concurrency, cookies.length) }, (_, i) => lane(i)));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { requests: cookies.length, ok, failures, seconds };
}

async function main() {
  if (process.argv[2] === 'report') {
    const o = args(process.argv.slice(3), {}, ['seed', 'result', 'redis-keys', 'redis-memory', 'load-before', 'load-after', 'commit']);
    const read = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
    console.log(
      report(read(o.seed), read(o.result), {
        commit: o.commit,
        when: new Date().toISOString().slice(0, 16).replace('T', ' '),
        redisKeys: o['redis-keys'],
        redisMemory: o['redis-memory'],
        loadBefore: o['load-before'],
        loadAfter: o['load-after'],
      })
    );
    return 0;
  }
  const a = args(
    process.argv.slice(2),
    { connections: '8', concurrency: '64', hot: '5000', 'sample-ms': '200' },
    ['url', 'cookies', 'metrics', 'pid', 'redis-port']
  );
  const pid = Number(a.pid);
  const u = new URL(a.url);
  const path = `${u.pathname}${u.search}`;
  const cookies = fs.readFileSync(a.cookies, 'utf8').split('\n').filter(Boolean);
  const hot = Math.min(Number(a.hot), cookies.length);
  const connect = () =>
    new Promise((resolve, reject) => {
      const s = http2.connect(u.origin, { rejectUnauthorized: false, peerMaxConcurrentStreams: 1000 });
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
  const sessions = await Promise.all(Array.from({ length: Number(a.connections) }, connect));
  for (const s of sessions) s.on('error', () => {});

  // the route needs a session: no cookie, or a cookie of no session, is not let through
  const refused = [await get(sessions[0], path, null), await get(sessions[0], path, `__Host-tenantgate=${'A'.repeat(43)}`)];
  for (const status of Object.keys(failureBodies)) delete failureBodies[status]; // expected answers, not failures

  let maxSeen = 0;
  let samples = 0;
  let bound = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const m = cacheMetrics(await scrape(a.metrics));
      maxSeen = Math.max(maxSeen, m.entries);
      bound = m.maxEntries;
      samples += 1;
      await new Promise((r) => setTimeout(r, Number(a['sample-ms'])));
    }
  })();

  const snapshot = async () => ({
    metrics: cacheMetrics(await scrape(a.metrics)),
    memory: memory(pid),
    redis: redisCalls(a['redis-port']),
    cpu: cpuSeconds(pid),
  });
  const start = await snapshot();
  const plan = [
    ['cold', cookies],
    ['again', cookies],
    ['hot', [...cookies.slice(cookies.length - hot), ...cookies.slice(cookies.length - hot)]],
  ];
  const passes = [];
  let before = start;
  for (const [name, list] of plan) {
    const r = await pass(sessions, path, list, Number(a.concurrency));
    const after = await snapshot();
    const redis = delta(after.redis, before.redis);
    const redisTotal = Object.values(redis).reduce((x, y) => x + y, 0);
    passes.push({
      name,
      ...r,
      reqPerS: Math.round(r.requests / r.seconds),
      gatewayCpuUsPerRequest: Math.round(((after.cpu - before.cpu) * 1e6) / r.requests),
      hits: after.metrics.hits - before.metrics.hits,
      misses: after.metrics.misses - before.metrics.misses,
      evictions: after.metrics.evictions - before.metrics.evictions,
      entriesAfter: after.metrics.entries,
      redisPerRequest: Number((redisTotal / r.requests).toFixed(3)),
      redisCommands: redis,
      ...after.memory,
    });
    maxSeen = Math.max(maxSeen, after.metrics.entries);
    before = after;
  }
  sampling = false;
  await sampler;
  for (const s of sessions) s.close();

  const out = {
    sessions: cookies.length,
    refusedWithoutSession: refused,
    bound: before.metrics.maxEntries || bound,
    maxEntriesSeen: maxSeen,
    samples,
    rssBeforeKiB: start.memory.rssKiB,
    passes,
    failureBodies,
  };
  console.log(JSON.stringify(out));
  const failed = passes.some((p) => p.ok !== p.requests) || refused.some((s) => s >= 200 && s < 300);
  return failed || maxSeen > out.bound || out.bound === 0 ? 1 : 0;
}

if (import.meta.url === `file://${fs.realpathSync(process.argv[1])}`) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(`sessions.mjs: ${err.message}`);
      process.exit(1);
    }
  );
}
