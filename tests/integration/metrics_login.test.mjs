// Observability with browser login: a login moves tenantgate_login_total
// (started, succeeded) and the session cache counters (a miss, then hits) and
// gauges (one entry of the default bound);
// the access log names the user, /metrics never does, and neither holds the
// session id or the password. A cached session past its absolute end is
// refused by the cache hit itself (counted a hit, the store not asked).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { echoFrom } from './lib/checks.mjs';
import { http1 } from './lib/http.mjs';
import { USERS } from './lib/idp.mjs';
import { sleep } from './lib/net.mjs';
import { startLoginStack } from './lib/login_stack.mjs';

const NB = '/notebook/kubeflow-alice/nb1/';
let s;
let dir;

before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tg-metrics-login-'));
    // sessions end 8 s after login but stay cached for an hour: past its end, a session is still a cache hit
    s = await startLoginStack({ spec: `  accessLog: {file: ${JSON.stringify(join(dir, 'access.jsonl'))}}\n`,
        sessions: { absoluteTimeout: '8s', idleTimeout: '8s', cacheTtl: '1h' } });
});

after(() => rmSync(dir, { recursive: true, force: true }));

async function scrape() {
    const res = await http1(`${s.gw.a.adminOrigin}/metrics`);
    assert.equal(res.status, 200);
    return res.body.toString();
}

const value = (text, line) => {
    const found = text.split('\n').find((l) => l.startsWith(`${line} `));
    return found ? Number(found.slice(line.length + 1)) : 0;
};

test('login, cache and user: counted in /metrics without the user; named in the access log', async () => {
    const browser = s.newBrowser();
    echoFrom(await browser.login(`${s.origin('a')}${NB}`, USERS.alice), 'nb1-alice');
    const id = s.sessionOf(browser);
    assert.ok(id);
    for (let i = 0; i < 3; ++i) assert.equal((await s.get('a', `${NB}x`, id)).status, 200);
    let text;
    const deadline = Date.now() + 5000;
    do {
        text = await scrape();
        if (value(text, 'tenantgate_sessions_cache_total{result="hit"}') >= 2) break;
        await new Promise((r) => setTimeout(r, 50));
    } while (Date.now() < deadline);
    assert.equal(value(text, 'tenantgate_login_total{result="started"}'), 1);
    assert.equal(value(text, 'tenantgate_login_total{result="succeeded"}'), 1);
    assert.equal(value(text, 'tenantgate_login_total{result="failed"}'), 0);
    assert.ok(value(text, 'tenantgate_sessions_cache_total{result="miss"}') >= 1);
    assert.ok(value(text, 'tenantgate_sessions_cache_total{result="hit"}') >= 2);
    // the one session, cached by its first request; the bound is cacheMaxEntries' default
    assert.equal(value(text, 'tenantgate_session_cache_entries'), 1);
    assert.equal(value(text, 'tenantgate_session_cache_max_entries'), 10000);
    assert.equal(value(text, 'tenantgate_session_cache_evictions_total'), 0);
    // the redirect to the IdP and the callback are the gateway's own 3xx answers
    assert.ok(value(text, 'tenantgate_requests_total{namespace="",route="",code_class="3xx",reason="authservice"}') >= 2);
    assert.ok(value(text, 'tenantgate_requests_total{namespace="kubeflow-alice",route="nb1/0",code_class="2xx",reason="upstream"}') >= 4);

    const log = readFileSync(join(dir, 'access.jsonl'), 'utf8');
    const routed = log.trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.route === 'nb1/0');
    assert.ok(routed.length >= 4);
    for (const line of routed) assert.equal(line.userid, USERS.alice.username);
    for (const secret of [id, USERS.alice.password]) {
        assert.ok(!text.includes(secret), 'a secret in /metrics');
        assert.ok(!log.includes(secret), 'a secret in the access log');
    }
    assert.ok(!text.includes(USERS.alice.username), 'the user id in /metrics');
    assert.ok(!text.includes('alice@'), 'the user id in /metrics');
});

test('a cached session past its absolute end is refused on the cache hit, without a store read', async () => {
    const browser = s.newBrowser();
    echoFrom(await browser.login(`${s.origin('a')}${NB}`, USERS.alice), 'nb1-alice'); // the landing caches it
    const loggedIn = Date.now(); // the record ends at most absoluteTimeout after this
    const id = s.sessionOf(browser);
    assert.equal((await s.get('a', `${NB}x`, id)).status, 200);
    await sleep(loggedIn + 8000 + 1100 - Date.now());
    const hits = (text) => value(text, 'tenantgate_sessions_cache_total{result="hit"}');
    const misses = (text) => value(text, 'tenantgate_sessions_cache_total{result="miss"}');
    const before = await scrape();
    const res = await s.get('a', `${NB}x`, id);
    assert.equal(res.status, 302);
    assert.match(res.headers.location, /^\/authservice\/login\?rd=/);
    let text;
    const deadline = Date.now() + 5000;
    do {
        text = await scrape();
        if (hits(text) > hits(before)) break;
        await sleep(50);
    } while (Date.now() < deadline);
    assert.equal(hits(text) - hits(before), 1, 'the refused request was a cache hit');
    assert.equal(misses(text) - misses(before), 0);
});
