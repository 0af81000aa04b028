// Checks of the h2load parsing and the aggregation in bench.mjs, on output
// captured from h2load 1.52 (nghttp2-client, Debian 12). scripts/bench runs
// this first; by hand: node --test scripts/bench.d/
import assert from 'node:assert/strict';
import test from 'node:test';
import { aggregate, latencies, loginLines, loginSummary, median, parseH2load, runProblem, targetLines } from './bench.mjs';

const clean = `starting benchmark...
spawning thread #0: 16 total client(s). Timing-based test with 1s of warm-up time and 2s of main duration for measurements.
TLS Protocol: TLSv1.3
Cipher: TLS_AES_128_GCM_SHA256
Server Temp Key: X25519 253 bits
Application protocol: h2

finished in 3.01s, 28186.50 req/s, 4.92MB/s
requests: 56373 total, 56885 started, 56373 done, 56373 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 56373 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 9.84MB (10317043) total, 2.90MB (3044142) headers (space savings 49.06%), 5.97MB (6257403) data
                     min         max         mean         sd        +/- sd
time for request:      240us     42.65ms      1.87ms      5.62ms    96.67%
`;

test('parseH2load reads rate, counts, protocol, cipher and mean', () => {
  const r = parseH2load(clean);
  assert.equal(r.rps, 28186.5);
  assert.equal(r.seconds, 3.01);
  assert.deepEqual([r.total, r.done, r.succeeded, r.failed, r.errored, r.timeout], [56373, 56373, 56373, 0, 0, 0]);
  assert.deepEqual([r.s2xx, r.s3xx, r.s4xx, r.s5xx], [56373, 0, 0, 0]);
  assert.equal(r.proto, 'h2');
  assert.equal(r.cipher, 'TLS_AES_128_GCM_SHA256');
  assert.equal(r.h2loadMeanMs, 1.87);
  assert.equal(runProblem(r), null);
});

test('runProblem names what makes a run not count', () => {
  const base = parseH2load(clean);
  const cases = [
    [{ ...base, proto: 'http/1.1' }, /not h2/],
    [{ ...base, proto: null }, /no protocol/],
    [{ ...base, done: 0, s2xx: 0 }, /no request completed/],
    [{ ...base, failed: 3 }, /3 failed/],
    [{ ...base, errored: 2 }, /2 errored/],
    [{ ...base, s2xx: base.done - 5, s5xx: 5 }, /5 answers were not 2xx/],
    [parseH2load('connect to 127.0.0.1 failed\n'), /no result/],
  ];
  for (const [run, want] of cases) assert.match(runProblem(run), want);
});

test('latencies: mean and nearest-rank percentiles of the log, in ms; failed requests ignored', () => {
  const lines = [];
  for (let i = 1; i <= 100; i++) lines.push(`1795634244558${i}\t200\t${i * 1000}`);
  lines.push('1795634244559000\t-1\t999999000');
  const l = latencies(lines.join('\n') + '\n');
  assert.equal(l.count, 100);
  assert.equal(l.meanMs, 50.5);
  assert.equal(l.p50Ms, 50);
  assert.equal(l.p99Ms, 99);
  assert.equal(l.maxMs, 100);
  assert.deepEqual(latencies(''), { count: 0 });
});

test('median of odd, even and empty lists, ignoring non-numbers', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([null, 5, undefined]), 5);
  assert.equal(median([]), null);
});

test('aggregate: medians of clean runs, ratios to the base row and the ceiling', () => {
  const rows = [
    { id: 'ceiling', label: 'c', base: null },
    { id: 'h2o-1t', label: 'h', base: null },
    { id: 'tg-1t', label: 't', base: 'h2o-1t' },
  ];
  const run = (row, n, rps, cpu, problem = null) => ({ row, run: n, rps, cpuProxy: cpu, p99Ms: 10, problem });
  const results = [
    run('ceiling', 1, 40000, null),
    run('h2o-1t', 1, 10000, 0.5),
    run('h2o-1t', 2, 12000, 0.5),
    run('h2o-1t', 3, 1, 0.5, 'h2load printed no result'),
    run('tg-1t', 1, 9000, 0.5),
    run('tg-1t', 2, 9000, 0.6),
  ];
  const [c, h, t] = aggregate(rows, results);
  assert.equal(c.vsCeiling, null);
  assert.equal(h.rps, 11000);
  assert.equal(h.clean, 2);
  assert.deepEqual(h.problems, ['run 3: h2load printed no result']);
  assert.equal(t.vsBase, 9000 / 11000);
  assert.equal(t.vsCeiling, 9000 / 40000);
  assert.equal(t.perCpu, 9000 / 0.55);
  assert.equal(t.p99Added, 0);
});

test('targetLines: session rows against bare h2o and Apache, Redis commands per request', () => {
  const rows = [
    { id: 'h2o-1t', label: 'h', base: null },
    { id: 'tg-redis', label: 'tenantgate redis', base: 'h2o-1t' },
    { id: 'apache', label: 'apache', base: 'h2o-1t' },
  ];
  const run = (row, rps, redisCalls = null) => ({ row, run: 1, rps, cpuProxy: 0.5, wall: 2, redisCalls, problem: null });
  const summaries = aggregate(rows, [run('h2o-1t', 10000), run('tg-redis', 9500, 19), run('apache', 1000, 2000)]);
  const byId = new Map(summaries.map((s) => [s.id, s]));
  assert.equal(byId.get('tg-redis').redisPerReq, 19 / 19000);
  assert.equal(byId.get('apache').redisPerReq, 1);
  assert.equal(byId.get('h2o-1t').redisPerReq, null);
  const lines = targetLines(byId);
  assert.ok(lines.some((l) => /^tenantgate redis \/ bare h2o: 0\.95× req\/s.*Apache \+ mod_auth_openidc: 9\.50×/.test(l)), lines);
  assert.ok(lines.some((l) => l.includes('tenantgate redis 0.001; apache 1.000')), lines);
});

test('targetLines: the bearer row against bare h2o with its own target', () => {
  const rows = [
    { id: 'h2o-1t', label: 'h', base: null },
    { id: 'tg-bearer', label: 'tenantgate bearer', base: 'h2o-1t' },
  ];
  const run = (row, rps, cpu) => ({ row, run: 1, rps, cpuProxy: cpu, wall: 2, problem: null });
  const byId = new Map(aggregate(rows, [run('h2o-1t', 10000, 0.5), run('tg-bearer', 8800, 0.55)]).map((s) => [s.id, s]));
  const lines = targetLines(byId);
  const want = /^tenantgate bearer \/ bare h2o: 0\.88× req\/s, 0\.80× per proxy CPU-second \(target ≥ 0\.85×\)$/;
  assert.ok(lines.some((l) => want.test(l)), lines);
  // with bare h2o given the same token, its ratio follows
  rows.push({ id: 'h2o-1t-bearer', label: 'h2o token', base: null });
  const withPeer = new Map(aggregate(rows, [run('h2o-1t', 10000, 0.5), run('tg-bearer', 8800, 0.55),
    run('h2o-1t-bearer', 8000, 0.5)]).map((s) => [s.id, s]));
  assert.ok(targetLines(withPeer).some((l) => l.endsWith(
    '(target ≥ 0.85×); / bare h2o given the same token: 1.10× req/s, 1.00× per proxy CPU-second')), targetLines(withPeer));
});

test('loginSummary: CPU per wall second, and what makes a login run not count', () => {
  const a = { row: 'tg-redis', label: 'tg', run: '1', wall: '2', 'cpu-idp': '1.9', 'cpu-proxy': '0.2', 'cpu-client': '0.5' };
  const ok = loginSummary(a, '{"logins":40,"failed":0,"seconds":2,"rate":20,"parallel":8,"firstError":null}\n');
  assert.equal(ok.problem, null);
  assert.equal(ok.rate, 20);
  assert.equal(ok.cpuIdp, 0.95);
  assert.equal(ok.cpuProxy, 0.1);
  assert.equal(ok.cpuClient, 0.25);
  assert.match(loginSummary(a, '').problem, /printed no result/);
  assert.match(loginSummary(a, 'not json').problem, /printed no result/);
  assert.match(loginSummary(a, '{"logins":0,"failed":0,"seconds":2,"rate":0}').problem, /no login completed/);
  const bad = loginSummary(a, '{"logins":38,"failed":2,"seconds":2,"rate":19,"firstError":"status 500"}');
  assert.match(bad.problem, /2 of 40 logins failed \(first: status 500\)/);
});

test('loginLines: medians per peer, tenantgate / Apache, and whether the IdP bounds the rate', () => {
  const run = (row, label, n, rate, cpuIdp, cpuProxy, problem = null) =>
    ({ row, label, run: n, logins: rate * 2, rate, cpuIdp, cpuProxy, cpuClient: 0.3, problem });
  const results = [
    run('tg-redis', 'tg', 1, 20, 0.95, 0.1),
    run('apache', 'ap', 1, 16, 0.9, 0.4),
    run('tg-redis', 'tg', 2, 22, 0.97, 0.1),
    run('apache', 'ap', 2, 10, 0.2, 0.4, '1 of 21 logins failed (first: x)'),
  ];
  const out = loginLines(results);
  assert.ok(out.lines.some((l) => /^tg: 21\.0 logins\/s \(84 logins in 2 run\(s\)\); CPU in cores: IdP 0\.96, proxy 0\.10/.test(l)), out.lines);
  assert.ok(out.lines.includes('tg / ap: 1.31× logins/s, 5.25× per proxy CPU-second'), out.lines);
  assert.ok(out.lines.some((l) => l.startsWith('bound by the IdP: it ran at 0.96 / 0.90 cores')), out.lines);
  assert.deepEqual(out.problems, ['ap: login run 2: 1 of 21 logins failed (first: x)']);
  assert.deepEqual(out.missing, []);
  const quiet = loginLines([run('tg-redis', 'tg', 1, 20, 0.2, 0.1), run('apache', 'ap', 1, 10, 0.95, 0.4)]);
  assert.ok(quiet.lines.some((l) => l.startsWith('not bound by the IdP (below 0.85 cores in some run); busiest ' +
    "process of each peer's logins, in cores: tg login client 0.30; ap IdP 0.95.")), quiet.lines);
  assert.deepEqual(loginLines([run('apache', 'ap', 1, 0, 0.1, 0.1, 'no login completed')]).missing, ['ap']);
});
