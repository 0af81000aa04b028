// Helper of scripts/bench: free ports, one h2load run to a JSON line, and the
// report (terminal table + the generated section of docs/benchmarks.md).
//
//   node bench.mjs ports N
//   node bench.mjs summarize --row ID --run N --out H2LOAD_OUTPUT --log H2LOAD_LOG_FILE
//                            [--wall S] [--cpu-proxy S] [--cpu-upstream S] [--cpu-load S]
//                            [--rss-proxy KiB] [--redis-calls N]    (prints one JSON line)
//   node bench.mjs half-rate --results RESULTS.jsonl --row ID   (half its median req/s)
//   node bench.mjs login-summary --row ID --label L --run N --out LOGIN_MJS_OUTPUT --wall S
//                                [--cpu-idp S] [--cpu-proxy S] [--cpu-client S]  (one JSON line)
//   node bench.mjs report --results RESULTS.jsonl --rows ROWS.tsv --meta META.json
//                         [--logins LOGINS.jsonl] [--markdown FILE]
//                         (exit 1 when a row has no clean run or a run had errors)
//
// Everything here is plain Node: no package from tests/ is needed.
import fs from 'node:fs';
import net from 'node:net';
import { pathToFileURL } from 'node:url';

function args(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) throw new Error(`bad argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  return out;
}

// N distinct free loopback ports (bound together, then released).
async function ports(n) {
  const servers = [];
  for (let i = 0; i < n; i++) {
    const s = net.createServer();
    await new Promise((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, '127.0.0.1', resolve);
    });
    servers.push(s);
  }
  const list = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return list;
}

function num(s) {
  return Number(String(s).replace(/,/g, ''));
}

// The figures of h2load's text output that the report needs.
export function parseH2load(text) {
  const r = {};
  let m = text.match(/finished in ([\d.]+)s, ([\d.]+) req\/s/);
  if (m) {
    r.seconds = num(m[1]);
    r.rps = num(m[2]);
  }
  m = text.match(
    /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/
  );
  if (m) [r.total, r.started, r.done, r.succeeded, r.failed, r.errored, r.timeout] = m.slice(1).map(num);
  m = text.match(/status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/);
  if (m) [r.s2xx, r.s3xx, r.s4xx, r.s5xx] = m.slice(1).map(num);
  m = text.match(/Application protocol: (\S+)/);
  r.proto = m ? m[1] : null;
  m = text.match(/Cipher: (\S+)/);
  r.cipher = m ? m[1] : null;
  m = text.match(/time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)/);
  if (m) {
    const scale = { us: 0.001, ms: 1, s: 1000 };
    r.h2loadMeanMs = num(m[5]) * scale[m[6]];
  }
  return r;
}

// Mean and percentiles (ms) of the third column of h2load's --log-file (µs).
export function latencies(logText) {
  const v = [];
  for (const line of logText.split('\n')) {
    const f = line.split('\t');
    if (f.length >= 3 && f[1] !== '-1') v.push(Number(f[2]));
  }
  if (v.length === 0) return { count: 0 };
  v.sort((a, b) => a - b);
  const at = (p) => v[Math.min(v.length - 1, Math.ceil(p * v.length) - 1)] / 1000;
  const mean = v.reduce((a, b) => a + b, 0) / v.length / 1000;
  return { count: v.length, meanMs: mean, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: v[v.length - 1] / 1000 };
}

// Why a run does not count, or null when it is clean.
export function runProblem(r) {
  if (r.rps === undefined || r.done === undefined) return 'h2load printed no result';
  if (r.proto !== 'h2') return `negotiated ${r.proto ?? 'no protocol'}, not h2`;
  if (r.done === 0) return 'no request completed';
  if (r.failed > 0 || r.errored > 0 || r.timeout > 0)
    return `${r.failed} failed, ${r.errored} errored, ${r.timeout} timed out`;
  if (r.s2xx !== r.done) return `${r.done - r.s2xx} answers were not 2xx`;
  return null;
}

function summarize(a) {
  const r = parseH2load(fs.readFileSync(a.out, 'utf8'));
  const lat = fs.existsSync(a.log) ? latencies(fs.readFileSync(a.log, 'utf8')) : { count: 0 };
  const wall = num(a.wall ?? r.seconds ?? 0);
  const per = (s) => (s === undefined || !(wall > 0) ? null : num(s) / wall);
  const out = {
    row: a.row,
    run: num(a.run),
    ...r,
    ...lat,
    wall,
    cpuProxy: per(a['cpu-proxy']),
    cpuUpstream: per(a['cpu-upstream']),
    cpuLoad: per(a['cpu-load']),
    rssProxyKiB: a['rss-proxy'] === undefined ? null : num(a['rss-proxy']),
    upstreamConns: a['upstream-conns'] === undefined ? null : num(a['upstream-conns']),
    redisCalls: a['redis-calls'] === undefined ? null : num(a['redis-calls']),
  };
  out.problem = runProblem(out);
  return out;
}

// One run of `login.mjs --mode rate` (its JSON line in the file `out`, empty
// when it failed) with the CPU of the IdP, the proxy and the client over it.
export function loginSummary(a, text) {
  let r = {};
  try {
    r = JSON.parse(text.trim().split('\n').pop() || '{}');
  } catch {
    r = {};
  }
  const wall = num(a.wall ?? r.seconds ?? 0);
  const per = (s) => (s === undefined || !(wall > 0) ? null : num(s) / wall);
  const out = {
    row: a.row,
    label: a.label ?? a.row,
    run: num(a.run),
    logins: r.logins,
    failed: r.failed,
    seconds: r.seconds,
    rate: r.rate,
    parallel: r.parallel,
    firstError: r.firstError ?? null,
    wall,
    cpuIdp: per(a['cpu-idp']),
    cpuProxy: per(a['cpu-proxy']),
    cpuClient: per(a['cpu-client']),
  };
  if (typeof r.logins !== 'number' || typeof r.rate !== 'number') out.problem = 'login.mjs printed no result';
  else if (r.failed > 0) out.problem = `${r.failed} of ${r.logins + r.failed} logins failed (first: ${out.firstError})`;
  else if (r.logins === 0) out.problem = 'no login completed';
  else out.problem = null;
  return out;
}

export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// rows.tsv: id, label, base row for "vs bare h2o" ("-" for none), notes.
function readRows(file) {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => {
      const [id, label, base, notes] = l.split('\t');
      return { id, label, base: base === '-' ? null : base, notes: notes ?? '' };
    });
}

const fmt = {
  int: (x) => (x === null ? 'n/a' : Math.round(x).toLocaleString('en-US')),
  ms: (x) => (x === null ? 'n/a' : x < 10 ? x.toFixed(2) : x.toFixed(1)),
  cores: (x) => (x === null ? 'n/a' : x.toFixed(2)),
  ratio: (x) => (x === null ? '' : `${x.toFixed(2)}×`),
  mib: (x) => (x === null ? 'n/a' : (x / 1024).toFixed(1)),
};

// One summary per row: medians over its clean runs.
export function aggregate(rows, results) {
  const byId = new Map();
  for (const row of rows) {
    const runs = results.filter((r) => r.row === row.id);
    const clean = runs.filter((r) => !r.problem);
    const m = (k) => median(clean.map((r) => r[k]));
    const s = {
      ...row,
      runs: runs.length,
      clean: clean.length,
      problems: runs.filter((r) => r.problem).map((r) => `run ${r.run}: ${r.problem}`),
      rpsAll: clean.map((r) => r.rps),
      p99All: clean.map((r) => r.p99Ms),
      rps: m('rps'),
      meanMs: m('meanMs'),
      p99Ms: m('p99Ms'),
      cpuProxy: m('cpuProxy'),
      cpuUpstream: m('cpuUpstream'),
      cpuLoad: m('cpuLoad'),
      upstreamConns: m('upstreamConns'),
      // Redis commands per request over the whole h2load run (its warm-up second too)
      redisPerReq: median(
        clean.filter((r) => r.redisCalls !== null && r.redisCalls !== undefined && r.rps > 0 && r.wall > 0)
          .map((r) => r.redisCalls / (r.rps * r.wall))
      ),
      rssProxyKiB: clean.length ? Math.max(...clean.map((r) => r.rssProxyKiB ?? 0)) || null : null,
      cipher: clean[0]?.cipher ?? runs[0]?.cipher ?? null,
    };
    // requests served per CPU-second of the proxy: steadier than req/s on a shared machine
    s.perCpu = s.rps !== null && s.cpuProxy ? s.rps / s.cpuProxy : null;
    byId.set(row.id, s);
  }
  const ceiling = byId.get('ceiling');
  for (const s of byId.values()) {
    const base = s.base ? byId.get(s.base) : null;
    const ratio = (a, b) => (a !== null && b !== null && b > 0 ? a / b : null);
    s.vsBase = base ? ratio(s.rps, base.rps) : null;
    s.vsBaseCpu = base ? ratio(s.perCpu, base.perCpu) : null;
    // a fixed-rate row goes as fast as it is told: no ratio to the ceiling
    s.vsCeiling = ceiling && s.id !== 'ceiling' && !s.id.endsWith('-half') ? ratio(s.rps, ceiling.rps) : null;
    s.p99Added = base && s.p99Ms !== null && base.p99Ms !== null ? s.p99Ms - base.p99Ms : null;
  }
  return [...byId.values()];
}

function table(summaries, style) {
  const head = [
    'row',
    'req/s',
    'mean ms',
    'p99 ms',
    'proxy CPU',
    'upstream CPU',
    'h2load CPU',
    'req/CPU-s',
    'proxy RSS MiB',
    'new upstream conns',
    'vs bare h2o',
    'vs bare h2o per CPU',
    'vs ceiling',
  ];
  const lines = summaries.map((s) => [
    s.label,
    fmt.int(s.rps),
    fmt.ms(s.meanMs),
    fmt.ms(s.p99Ms),
    fmt.cores(s.cpuProxy),
    fmt.cores(s.cpuUpstream),
    fmt.cores(s.cpuLoad),
    fmt.int(s.perCpu),
    fmt.mib(s.rssProxyKiB),
    fmt.int(s.upstreamConns),
    fmt.ratio(s.vsBase),
    fmt.ratio(s.vsBaseCpu),
    fmt.ratio(s.vsCeiling),
  ]);
  if (style === 'markdown') {
    const row = (cells) => `| ${cells.join(' | ')} |`;
    return [row(head), row(head.map((_, i) => (i === 0 ? '---' : '---:'))), ...lines.map(row)].join('\n');
  }
  const width = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const pad = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ');
  return [pad(head), pad(width.map((w) => '-'.repeat(w))), ...lines.map(pad)].join('\n');
}

function scalingLines(byId) {
  const out = [];
  for (const [two, one, what] of [
    ['tg-2t', 'tg-1t', 'tenantgate'],
    ['h2o-2t', 'h2o-1t', 'bare h2o'],
  ]) {
    const a = byId.get(two);
    const b = byId.get(one);
    if (a && b && a.rps && b.rps)
      out.push(
        `${what}: 2 threads / 1 thread = ${(a.rps / b.rps).toFixed(2)}× req/s` +
          (two === 'tg-2t' ? ' (target ≥ 1.7× where the machine allows measuring it)' : '')
      );
  }
  return out;
}

const signed = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;

// Targets of issue 8 that this harness can already measure.
export function targetLines(byId) {
  const out = [];
  const apache = byId.get('apache');
  for (const id of ['tg-sqlite', 'tg-redis']) {
    const s = byId.get(id);
    if (!s || s.vsBase === null) continue;
    const vsApache = apache && apache.rps ? s.rps / apache.rps : null;
    out.push(
      `${s.label} / bare h2o: ${s.vsBase.toFixed(2)}× req/s, ` +
        `${s.vsBaseCpu === null ? 'n/a' : s.vsBaseCpu.toFixed(2) + '×'} per proxy CPU-second (target ≥ 0.9×)` +
        (vsApache === null ? '' : `; / Apache + mod_auth_openidc: ${vsApache.toFixed(2)}× req/s (target ≥ 3×)`)
    );
  }
  const redisRows = [...byId.values()].filter((s) => s.redisPerReq !== null && s.redisPerReq !== undefined);
  if (redisRows.length)
    out.push(
      'Redis commands per request at full load (INFO commandstats delta / requests): ' +
        redisRows.map((s) => `${s.label} ${s.redisPerReq.toFixed(3)}`).join('; ')
    );
  const bearer = byId.get('tg-bearer');
  const h2oBearer = byId.get('h2o-1t-bearer');
  if (bearer && bearer.vsBase !== null) {
    const ratio = (a, b) => (a !== null && b ? `${(a / b).toFixed(2)}×` : 'n/a');
    out.push(
      `${bearer.label} / bare h2o: ${bearer.vsBase.toFixed(2)}× req/s, ` +
        `${bearer.vsBaseCpu === null ? 'n/a' : bearer.vsBaseCpu.toFixed(2) + '×'} per proxy CPU-second (target ≥ 0.85×)` +
        (h2oBearer && h2oBearer.rps
          ? `; / bare h2o given the same token: ${ratio(bearer.rps, h2oBearer.rps)} req/s, ` +
            `${ratio(bearer.perCpu, h2oBearer.perCpu)} per proxy CPU-second`
          : '')
    );
  }
  const tg = byId.get('tg-1t');
  const tgTls = byId.get('tg-1t-tls');
  if (tg && tg.vsBase !== null)
    out.push(
      `tenantgate (mTLS upstream, no auth) / bare h2o: ${tg.vsBase.toFixed(2)}× req/s, ` +
        `${tg.vsBaseCpu === null ? 'n/a' : tg.vsBaseCpu.toFixed(2) + '×'} per proxy CPU-second ` +
        `(what the authenticated rows add to: they are measured against the same bare h2o)`
    );
  if (tgTls && tgTls.vsBase !== null)
    out.push(
      `tenantgate with the same TLS (no client certificate) upstream as h2o / bare h2o: ` +
        `${tgTls.vsBase.toFixed(2)}× req/s, ` +
        `${tgTls.vsBaseCpu === null ? 'n/a' : tgTls.vsBaseCpu.toFixed(2) + '×'} per proxy CPU-second`
    );
  if (tg && tg.p99Added !== null)
    out.push(`p99 added over bare h2o at full load: ${signed(tg.p99Added)} ms (informative; queues are full)`);
  const half = byId.get('tg-1t-half');
  if (half && half.p99Added !== null)
    out.push(
      `p99 added over bare h2o at half of bare h2o's maximum (${fmt.int(half.rps)} req/s offered to both): ` +
        `${signed(half.p99Added)} ms (target: within 1 ms)`
    );
  return out;
}

// An IdP running at this many cores or more during the logins is their bound
// (oidc-provider runs its JavaScript on one thread).
const IDP_BOUND_CORES = 0.85;

// Login-flow lines: medians per peer over its clean runs, each peer's rate
// beside the IdP's, the proxy's and the client's CPU, tenantgate / Apache, and
// which process bounds the rate.
export function loginLines(results) {
  const ids = [...new Set(results.map((r) => r.row))];
  const peers = ids.map((id) => {
    const runs = results.filter((r) => r.row === id);
    const clean = runs.filter((r) => !r.problem);
    const m = (k) => median(clean.map((r) => r[k]));
    return {
      id,
      label: runs[0].label,
      runs: runs.length,
      clean: clean.length,
      rate: m('rate'),
      logins: clean.reduce((n, r) => n + r.logins, 0),
      cpuIdp: m('cpuIdp'),
      cpuProxy: m('cpuProxy'),
      cpuClient: m('cpuClient'),
      perProxyCpu: median(clean.filter((r) => r.cpuProxy > 0).map((r) => r.rate / r.cpuProxy)),
      problems: runs.filter((r) => r.problem).map((r) => `${r.label}: login run ${r.run}: ${r.problem}`),
    };
  });
  const lines = peers.map((p) =>
    p.rate === null
      ? `${p.label}: no clean login run`
      : `${p.label}: ${p.rate.toFixed(1)} logins/s (${p.logins} logins in ${p.clean} run(s)); CPU in cores: ` +
        `IdP ${fmt.cores(p.cpuIdp)}, proxy ${fmt.cores(p.cpuProxy)}, login client ${fmt.cores(p.cpuClient)}; ` +
        `${fmt.int(p.perProxyCpu)} logins per proxy CPU-second`
  );
  const apache = peers.find((p) => p.id === 'apache');
  for (const p of peers) {
    if (p === apache || !apache || p.rate === null || !apache.rate) continue;
    const cpu = p.perProxyCpu && apache.perProxyCpu ? `, ${(p.perProxyCpu / apache.perProxyCpu).toFixed(2)}× per proxy CPU-second` : '';
    lines.push(`${p.label} / ${apache.label}: ${(p.rate / apache.rate).toFixed(2)}× logins/s${cpu}`);
  }
  const measured = peers.filter((p) => p.rate !== null);
  if (measured.length) {
    const bound = measured.filter((p) => p.cpuIdp !== null && p.cpuIdp >= IDP_BOUND_CORES);
    const busiest = (p) => {
      const cpu = [['IdP', p.cpuIdp], ['proxy', p.cpuProxy], ['login client', p.cpuClient]].filter(([, c]) => c !== null);
      const [name, c] = cpu.reduce((a, b) => (b[1] > a[1] ? b : a), ['none', -1]);
      return `${p.label} ${name} ${fmt.cores(c)}`;
    };
    lines.push(
      bound.length === measured.length
        ? `bound by the IdP: it ran at ${measured.map((p) => fmt.cores(p.cpuIdp)).join(' / ')} cores during the ` +
            `runs above (one JavaScript thread; ≥ ${IDP_BOUND_CORES} counts as busy): the rates measure the IdP ` +
            'as much as the proxies; logins per proxy CPU-second compare the proxies'
        : `not bound by the IdP (below ${IDP_BOUND_CORES} cores in some run); busiest process of each peer's ` +
            `logins, in cores: ${measured.map(busiest).join('; ')}. When none is near 1.00 the rate follows the ` +
            "hops' latency and the machine's other load: logins per proxy CPU-second compare the proxies"
    );
  }
  return { lines, problems: peers.flatMap((p) => p.problems), missing: peers.filter((p) => p.clean === 0).map((p) => p.label) };
}

function readResults(file) {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

// Half of a row's median req/s over its clean runs, rounded down (0 when none).
function halfRate(a) {
  const m = median(readResults(a.results).filter((r) => r.row === a.row && !r.problem).map((r) => r.rps));
  return m === null ? 0 : Math.floor(m / 2);
}

function report(a) {
  const rows = readRows(a.rows);
  const results = readResults(a.results);
  const meta = JSON.parse(fs.readFileSync(a.meta, 'utf8'));
  const summaries = aggregate(rows, results);
  const byId = new Map(summaries.map((s) => [s.id, s]));
  const login = a.logins && fs.existsSync(a.logins)
    ? loginLines(readResults(a.logins)) : { lines: [], problems: [], missing: [] };
  const problems = [...summaries.flatMap((s) => s.problems.map((p) => `${s.label}: ${p}`)), ...login.problems];
  const missing = [...summaries.filter((s) => s.clean === 0).map((s) => s.label), ...login.missing];

  console.log(table(summaries, 'text'));
  console.log('');
  for (const l of [...scalingLines(byId), ...targetLines(byId)]) console.log(l);
  const store = (meta.store ?? '').split('\n').filter((l) => l !== '');
  for (const l of store) console.log(`Redis, one request at a time, ${l}`);
  const held = (meta.held ?? '').split('\n').filter((l) => l !== '');
  for (const l of held) console.log(`Connections held, ${l}`);
  for (const l of login.lines) console.log(`Login flow, ${l}`);
  for (const p of problems) console.log(`PROBLEM ${p}`);

  if (a.markdown) {
    const md = [];
    md.push(`Run of ${meta.date} at commit \`${meta.commit}\`: \`${meta.command}\``);
    md.push('');
    md.push(
      `h2load ${meta.load}; ${meta.runs} measured run(s) of ${meta.duration} s per row after ` +
        `discarded warm-up runs, rows interleaved run by run; each figure is the median over the runs ` +
        `(p99 is computed from h2load's per-request log). CPU is in cores (1.00 = one core busy ` +
        `for the whole run), from /proc/PID/stat before and after each run; RSS is the proxy's peak ` +
        `(VmHWM, its whole process tree).`
    );
    md.push('');
    md.push(table(summaries, 'markdown'));
    md.push('');
    md.push('Ratios of this run:');
    md.push('');
    for (const l of [...targetLines(byId), ...scalingLines(byId)]) md.push(`- ${l}`);
    md.push('');
    if (store.length) {
      md.push('Redis commands of the session lookup, one request at a time (h2load -c 1 -m 1 with the session ' +
        'cookie; INFO commandstats before and after):');
      md.push('');
      for (const l of store) md.push(`- ${l}`);
      md.push('');
    }
    if (held.length) {
      md.push('Memory with many concurrent HTTP/2 connections to one process (each answered one GET, ' +
        'VmRSS read from /proc while all are open; target: under 64 MiB with 10,000):');
      md.push('');
      for (const l of held) md.push(`- ${l}`);
      md.push('');
    }
    if (meta.sessions) {
      // scripts/bench-sessions' own report (markdown: a title line, a list and a table)
      md.push(meta.sessions.trim());
      md.push('');
    }
    if (login.lines.length) {
      md.push('Login flow: complete logins (the protected URL → redirect → the IdP\'s form → callback → ' +
        `session → 200 at the URL), a fresh browser each (scripts/bench.d/login.mjs), ${meta.logins}; ` +
        'medians over the runs, CPU in cores over each run:');
      md.push('');
      for (const l of login.lines) md.push(`- ${l}`);
      md.push('');
    }
    md.push('Each measured run, per row: req/s (p99 ms):');
    md.push('');
    for (const s of summaries) {
      const each = s.rpsAll.map((x, i) => `${fmt.int(x)} (${fmt.ms(s.p99All[i] ?? null)})`).join(', ');
      md.push(`- ${s.label}: ${each || 'none'}${s.cipher ? `; client TLS ${s.cipher}` : ''}`);
    }
    if (problems.length) {
      md.push('');
      md.push('Runs that did not count:');
      md.push('');
      for (const p of problems) md.push(`- ${p}`);
    }
    md.push('');
    md.push('Machine:');
    md.push('');
    for (const [k, v] of Object.entries(meta.machine)) md.push(`- ${k}: ${v}`);
    md.push('');
    md.push('Row notes:');
    md.push('');
    for (const s of summaries) md.push(`- ${s.label}: ${s.notes}`);
    const generated = md.join('\n');

    const begin = '<!-- bench:begin (written by scripts/bench; edit the text outside these markers) -->';
    const end = '<!-- bench:end -->';
    let doc = fs.existsSync(a.markdown) ? fs.readFileSync(a.markdown, 'utf8') : `# Benchmarks\n\n${begin}\n${end}\n`;
    const i = doc.indexOf(begin);
    const j = doc.indexOf(end);
    if (i < 0 || j < i) throw new Error(`${a.markdown}: the bench:begin/bench:end markers are missing`);
    doc = doc.slice(0, i + begin.length) + '\n' + generated + '\n' + doc.slice(j);
    fs.writeFileSync(a.markdown, doc);
  }
  return missing.length === 0 && problems.length === 0 ? 0 : 1;
}

async function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  if (cmd === 'ports') {
    console.log((await ports(Number(rest[0]))).join(' '));
    return 0;
  }
  if (cmd === 'summarize') {
    console.log(JSON.stringify(summarize(args(rest))));
    return 0;
  }
  if (cmd === 'report') return report(args(rest));
  if (cmd === 'login-summary') {
    const a = args(rest);
    console.log(JSON.stringify(loginSummary(a, fs.existsSync(a.out) ? fs.readFileSync(a.out, 'utf8') : '')));
    return 0;
  }
  if (cmd === 'half-rate') {
    console.log(halfRate(args(rest)));
    return 0;
  }
  console.error('usage: bench.mjs ports N | summarize ... | half-rate ... | login-summary ... | report ...');
  return 2;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(`bench.mjs: ${err.message}`);
      process.exit(2);
    }
  );
}
