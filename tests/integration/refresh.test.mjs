// Silent refresh: the IdP (short token lifetimes, offline_access) gives the
// gateway a refresh token at login; it is sealed into the session record.
// When the tokens near their end, requests keep being served at once while
// one refresh runs in the background, single-flight across two replicas
// that share Redis; the record then carries the new token lifetime.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { createBrowser } from './lib/browserless.mjs';
import { echoFrom } from './lib/checks.mjs';
import { edgeConfig, startGateway } from './lib/gateway.mjs';
import { http1 } from './lib/http.mjs';
import { startIdp, USERS } from './lib/idp.mjs';
import { freePorts, sleep } from './lib/net.mjs';
import { makeCerts } from './lib/certs.mjs';
import { runCommand } from './lib/procs.mjs';
import { startRedis } from './lib/redis.mjs';
import { standardServices } from './lib/stack.mjs';
import { startUpstream } from './lib/upstream.mjs';

const NB = '/notebook/kubeflow-alice/nb1/';
const TOKEN_TTL_S = 6;
const REFRESH_BEFORE_S = 4;

const secrets = mkdtempSync(join(tmpdir(), 'tg-refresh-'));
process.on('exit', () => rmSync(secrets, { recursive: true, force: true }));
const clientSecret = 'refresh-test-client-secret-0123456789';
writeFileSync(join(secrets, 'client-secret'), `${clientSecret}\n`, { mode: 0o600 });
writeFileSync(join(secrets, 'session.key'), `${'a1'.repeat(32)}\n`, { mode: 0o600 });

let certs;
let idp;
let redis;
const gw = {};

before(async () => {
    certs = await makeCerts();
    const up = {};
    for (const name of ['mnist-alice', 'nb1-alice', 'nb1-bob']) up[name] = await startUpstream({ name, cert: name, certs });
    redis = await startRedis();
    const ports = {};
    for (const name of ['a', 'b']) {
        const [adminPort, httpsPort, httpPort] = await freePorts(3);
        ports[name] = { adminPort, httpsPort, httpPort };
    }
    idp = await startIdp({
        clientSecret,
        redirectUris: [`https://localhost:${ports.a.httpsPort}/authservice/callback`],
        idTokenTtl: TOKEN_TTL_S,
        accessTokenTtl: TOKEN_TTL_S,
    });
    for (const name of ['a', 'b']) {
        const spec = `  oidc:
    issuer: ${idp.issuer}
    allowInsecureIssuer: true
    clientId: ${idp.clientId}
    clientSecretFile: ${join(secrets, 'client-secret')}
    externalUrl: https://localhost:${ports.a.httpsPort}
    scopes: [openid, email, profile, groups, offline_access]
  sessions:
    store: ${redis.url}
    keyFile: ${join(secrets, 'session.key')}
    cacheTtl: 30s
    logoutPollInterval: 200ms
    refreshBefore: ${REFRESH_BEFORE_S}s
`;
        gw[name] = await startGateway({ config: (p) => edgeConfig({ ...p, certs, services: standardServices(up), spec }),
            ports: ports[name], name: `refresh-${name}` });
    }
});

/** The session record as stored (Redis, default key prefix). */
async function storedRecord(id) {
    const key = createHash('sha256').update(id).digest('hex');
    const { stdout } = await runCommand('redis-get', 'redis-cli', ['-p', String(redis.port), 'GET', `tenantgate:session:${key}`]);
    return stdout.trim() ? JSON.parse(stdout) : null;
}

async function timedGet(g, id) {
    const started = Date.now();
    const res = await http1(`${g.origin}${NB}`, { ca: certs.read('edge-ca.pem'), servername: 'localhost',
        headers: { cookie: `__Host-tenantgate=${id}`, accept: 'text/html' } });
    assert.equal(res.status, 200);
    assert.equal(res.json().headers['kubeflow-userid'], USERS.alice.username);
    return Date.now() - started;
}

const refreshLines = () => Object.values(gw)
    .map((g) => g.child.stderr().split('\n').filter((l) => l.includes('session tokens refreshed')).length)
    .reduce((a, b) => a + b, 0);

test('tokens near their end are refreshed once across replicas, requests never wait', async (t) => {
    const browser = createBrowser({ ca: certs.read('edge-ca.pem'), resolve: { localhost: '127.0.0.1' } });
    echoFrom(await browser.login(`https://localhost:${gw.a.httpsPort}${NB}`, USERS.alice), 'nb1-alice');
    const id = browser.jar.list.find((c) => c.name === '__Host-tenantgate').value;
    const first = await storedRecord(id);
    assert.ok(first, 'no session record');
    assert.match(first.refresh_token_sealed || '', /^[A-Za-z0-9_-]{40,}$/, 'refresh token not sealed into the record');
    assert.ok(!JSON.stringify(first).includes('"refresh_token"'), 'a plain refresh token in the store');
    assert.ok(first.tokens_expire_at - first.created_at <= TOKEN_TTL_S + 1, JSON.stringify(first));

    // before the window: no refresh
    await timedGet(gw.a, id);
    await timedGet(gw.b, id);
    assert.equal(refreshLines(), 0);

    // inside the window: a burst on both replicas; each request is served at once
    await sleep((TOKEN_TTL_S - REFRESH_BEFORE_S) * 1000 + 300);
    const times = await Promise.all([...Array(16).keys()].map((i) => timedGet(i % 2 ? gw.b : gw.a, id)));
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
    await timedGet(gw.b, id);
    await timedGet(gw.a, id);
});
