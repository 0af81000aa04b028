// Multi-replica: gateway processes with the same config (Redis store, same
// key file) behind one browser. A login on one is a session on the other; a
// logout on one is rejected by both well before the session cache's TTL,
// through the ended-session feed (authservice/session_ended.h). A third
// replica with the feed off shows what the cache alone would do.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { echoFrom } from './lib/checks.mjs';
import { USERS } from './lib/idp.mjs';
import { startLoginStack } from './lib/login_stack.mjs';
import { sleep } from './lib/net.mjs';
import { runCommand } from './lib/procs.mjs';

const NB = '/notebook/kubeflow-alice/nb1/';
const POLL_MS = 200;

let s;
before(async () => {
    s = await startLoginStack({
        sessions: { cacheTtl: '30s' },
        replicas: { a: { logoutPollInterval: `${POLL_MS}ms` }, b: { logoutPollInterval: `${POLL_MS}ms` },
                    c: { logoutPollInterval: '0s' } }, // c: feed off
    });
});

/** GET NB on replica name with session id: 200 (alice) or 302 (sent to log in). */
async function statusOn(name, id) {
    const res = await s.get(name, NB, id);
    if (res.status === 200) assert.equal(res.json().headers['kubeflow-userid'], USERS.alice.username);
    else assert.equal(res.status, 302, `replica answered ${res.status}`);
    return res.status;
}

/** Calls of each Redis command so far (INFO commandstats). */
async function redisCalls() {
    const { stdout } = await runCommand('redis-info', 'redis-cli', ['-p', String(s.redis.port), 'INFO', 'commandstats']);
    const calls = {};
    for (const m of stdout.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) calls[m[1]] = Number(m[2]);
    return calls;
}

test('login on A is a session on B; logout on A is rejected by A and B within a poll, not the cache TTL', async (t) => {
    const browser = s.newBrowser();
    echoFrom(await browser.login(`${s.origin('a')}${NB}`, USERS.alice), 'nb1-alice');
    const id = s.sessionOf(browser);

    // the same cookie (host-only cookies ignore the port) is a session on B and C: their caches now hold it
    for (const name of ['b', 'c']) {
        echoFrom(await browser.get(`${s.origin(name)}${NB}`), 'nb1-alice');
        assert.equal(await statusOn(name, id), 200);
    }

    // measured: cached requests on B never ask Redis for the session; the feed costs two SMEMBERS per poll
    // per worker, whatever the request rate
    const before = await redisCalls();
    const started = Date.now();
    for (let i = 0; i < 100; i += 1) assert.equal(await statusOn('b', id), 200);
    const elapsed = Date.now() - started;
    const afterCalls = await redisCalls();
    const delta = (cmd) => (afterCalls[cmd] || 0) - (before[cmd] || 0);
    t.diagnostic(`100 cached requests on B in ${elapsed} ms: ${delta('get')} GET, ${delta('smembers')} SMEMBERS ` +
        `(all replicas, ${POLL_MS} ms poll)`);
    assert.ok(delta('get') <= 4, `cached requests read the store: ${delta('get')} GETs`);
    // 2 polling replicas x 2 workers at most, 2 reads per poll
    assert.ok(delta('smembers') <= 2 * 2 * 2 * (elapsed / POLL_MS + 2), `SMEMBERS: ${delta('smembers')}`);

    // logout on A
    const page = await browser.get(`${s.origin('a')}/authservice/logout`);
    assert.equal(page.status, 200);
    const out = await browser.submitForm(page);
    assert.ok(out.chain.some((h) => h.url.startsWith(s.idp.issuer)), JSON.stringify(out.chain));
    const loggedOut = Date.now();
    assert.equal(await statusOn('a', id), 302);

    // B drops it from its cache within a poll or two (its cache alone would serve it for 30 s)
    let rejectedAfter = -1;
    while (Date.now() - loggedOut < 3000) {
        if (await statusOn('b', id) === 302) {
            rejectedAfter = Date.now() - loggedOut;
            break;
        }
        await sleep(50);
    }
    t.diagnostic(`B rejected the ended session ${rejectedAfter} ms after the logout on A`);
    assert.ok(rejectedAfter >= 0, 'B still serves the session 3 s after the logout on A');
    assert.equal(await statusOn('a', id), 302);
    // C, with the feed off, still serves it from its cache: what the feed is for (and proof the check can fail)
    assert.equal(await statusOn('c', id), 200);
});
