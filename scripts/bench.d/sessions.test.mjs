// Checks of what scripts/bench-sessions reads: the session cache series of
// /metrics and Redis' INFO commandstats. By hand: node --test scripts/bench.d/
import assert from 'node:assert/strict';
import test from 'node:test';
import { cacheMetrics, commandCalls, cpuSeconds, memory, report } from './sessions.mjs';

test('cacheMetrics reads the session cache series', () => {
  const text = `# HELP tenantgate_sessions_cache_total Session lookups by the worker cache result
# TYPE tenantgate_sessions_cache_total counter
tenantgate_sessions_cache_total{result="hit"} 12
tenantgate_sessions_cache_total{result="miss"} 100034
# TYPE tenantgate_session_cache_entries gauge
tenantgate_session_cache_entries 9987
tenantgate_session_cache_max_entries 10000
tenantgate_session_cache_evictions_total 90047
`;
  assert.deepEqual(cacheMetrics(text), { entries: 9987, maxEntries: 10000, evictions: 90047, hits: 12, misses: 100034 });
  assert.throws(() => cacheMetrics(text.replace(/^tenantgate_session_cache_entries .*$/m, '')), /metric missing/);
});

test('commandCalls counts every command but INFO', () => {
  const text =
    '# Commandstats\r\ncmdstat_get:calls=200004,usec=1,usec_per_call=0.5,rejected_calls=0,failed_calls=0\r\n' +
    'cmdstat_set:calls=100002,usec=1,usec_per_call=1.0,rejected_calls=0,failed_calls=0\r\n' +
    'cmdstat_info:calls=9,usec=1,usec_per_call=1.0,rejected_calls=0,failed_calls=0\r\n' +
    'cmdstat_client|setinfo:calls=2,usec=1,usec_per_call=1.0,rejected_calls=0,failed_calls=0\r\n';
  assert.deepEqual(commandCalls(text), { get: 200004, set: 100002, 'client|setinfo': 2 });
});

test('cpuSeconds and memory read /proc of a live process', () => {
  let x = 0;
  for (let i = 0; i < 2e7; ++i) x += i; // some CPU of our own
  assert.ok(x > 0);
  assert.ok(cpuSeconds(process.pid) > 0);
  const m = memory(process.pid);
  assert.ok(m.rssKiB > 1000 && m.hwmKiB >= m.rssKiB);
});

test('report prints every pass with its figures and the failures', () => {
  const seed = { sessions: 20, users: 4, writes: 40, failed: 0, seconds: 0.25 };
  const pass = (name, ok, failures) => ({
    name,
    requests: 20,
    ok,
    failures,
    seconds: 1,
    reqPerS: 20,
    gatewayCpuUsPerRequest: 140,
    hits: 0,
    misses: 20,
    evictions: 10,
    entriesAfter: 10,
    redisPerRequest: 3,
    redisCommands: { get: 40, set: 20 },
    rssKiB: 20480,
    hwmKiB: 21504,
  });
  const r = {
    sessions: 20,
    refusedWithoutSession: [401, 401],
    bound: 10,
    maxEntriesSeen: 10,
    samples: 7,
    rssBeforeKiB: 14336,
    passes: [pass('cold', 20, {}), pass('again', 19, { 503: 1 })],
    failureBodies: { 503: '{"error":"store"}' },
  };
  const text = report(seed, r, { commit: 'abc', when: 'now', redisKeys: '40', redisMemory: '1M', loadBefore: '1 2 3', loadAfter: '4 5 6' });
  assert.match(text, /^Session cache with 20 sessions in Redis \(commit abc, now UTC\)$/m);
  assert.match(text, /most entries seen: 10 \(7 scrapes/);
  assert.match(text, /^\| cold \| 20 \| 20 \| 20 \| 140 \| 0 \| 20 \| 10 \| 10 \| 3\.000 \| get 40, set 20 \| 20\.0 \| 21\.0 \|$/m);
  assert.match(text, /^\| again \| 20 \| 19 \(failed: \{"503":1\}\) \|/m);
  assert.match(text, /^- first answer 503: /m);
  assert.match(text, /load average before \/ after: 1 2 3 \/ 4 5 6$/);
});
