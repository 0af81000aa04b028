// Silent refresh: the IdP (short token lifetimes, offline_access) gives the
// gateway a refresh token at login; it is sealed into the session record.
// When the tokens near their end, requests keep being served at once while
// one refresh runs in the background, single-flight across two replicas
// that share Redis; the record then carries the new token lifetime.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { before, test } from 'node:test';
import { echoFrom } from './lib/checks.mjs';
import { USERS } from './lib/idp.mjs';
import { startLoginStack } from './lib/login_stack.mjs';
import { sleep } from './lib/net.mjs';
import { runCommand } from './lib/procs.mjs';

const NB = '/notebook/kubeflow-alice/nb1/';
const TOKEN_TTL_S = 6;
const REFRESH_BEFORE_S = 4;

let s;
before(async () => {
    s = await startLoginStack({
        replicas: { a: {}, b: {} },
        sessions: { cacheTtl: '30s', logoutPollInterval: '200ms', refreshBefore: `${REFRESH_BEFORE_S}s` },
        scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
        idp: { idTokenTtl: TOKEN_TTL_S, accessTokenTtl: TOKEN_TTL_S },
    });
});

/** The session record as stored (Redis, default key prefix). */
async function storedRecord(id) {
    const key = createHash('sha256').update(id).digest('hex');
    const { stdout } = await runCommand('redis-get', 'redis-cli', ['-p', String(s.redis.port), 'GET', `tenantgate:session:${key}`]);
    return stdout.trim() ? JSON.parse(stdout) : null;
}

async function timedGet(name, id) {
    const started = Date.now();
    const res = await s.get(name, NB, id);
    assert.equal(res.status, 200);
    assert.equal(res.json().headers['kubeflow-userid'], USERS.alice.username);
    return Date.now() - started;
}

const refreshLines = () => Object.values(s.gw)
    .map((g) => g.child.stderr().split('\n').filter((l) => l.includes('session tokens refreshed')).length)
    .reduce((a, b) => a + b, 0);

test('tokens near their end are refreshed once across replicas, requests never wait', async (t) => {
    const browser = s.newBrowser();
    echoFrom(await browser.login(`${s.origin('a')}${NB}`, USERS.alice), 'nb1-alice');
    const id = s.sessionOf(browser);
    const first = await storedRecord(id);
    assert.ok(first, 'no session record');
    assert.match(first.refresh_token_sealed || '', /^[A-Za-z0-9_-]{40,}$/, 'refresh token not sealed into the record');
    assert.ok(!JSON.stringify(first).includes('"refresh_token"'), 'a plain refresh token in the store');
    assert.ok(first.tokens_expire_at - first.created_at <= TOKEN_TTL_S + 1, JSON.stringify(first));

    // before the window: no refresh
    await timedGet('a', id);
    await timedGet('b', id);
    assert.equal(refreshLines(), 0);

    // inside the window: a burst on both replicas; each request is served at once
    await sleep((TOKEN_TTL_S - REFRESH_BEFORE_S) * 1000 + 300);
    const times = await Promise.all([...Array(16).keys()].map((i) => timedGet(i % 2 ? 'b' : 'a', id)));
    t.diagnostic(`burst of 16 in the refresh window: slowest ${Math.max(...times)} ms`);
    assert.ok(Math.max(...times) < 1500, `a request waited: ${times}`);

    let now = first;
    for (let i = 0; i < 40 && now.tokens_expire_at === first.tokens_expire_at; i += 1) {
        await sleep(100);
        now = await storedRecord(id);
    }
    assert.ok(now.tokens_expire_at > first.tokens_expire_at, 'the record was not refreshed');
    assert.ok(now.refresh_token_sealed, 'the refreshed record lost its refresh token');
    await sleep(500); // late lock holders would log now
    assert.equal(refreshLines(), 1, 'not exactly one refresh across both replicas');

    // past the first tokens' end: the session goes on, served from the refreshed record
    await sleep(Math.max(0, (first.tokens_expire_at + 1) * 1000 - Date.now()));
    await timedGet('b', id);
    await timedGet('a', id);
});
