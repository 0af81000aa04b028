// Multi-replica: gateway processes with the same config (Redis store, same
// key file) behind one browser. A login on one is a session on the other; a
// logout on one is rejected by both well before the session cache's TTL,
// through the ended-session feed (authservice/session_ended.h). A third
// replica with the feed off shows what the cache alone would do.
import assert from 'node:assert/strict';
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
const POLL_MS = 200;

const secrets = mkdtempSync(join(tmpdir(), 'tg-replicas-'));
process.on('exit', () => rmSync(secrets, { recursive: true, force: true }));
const clientSecret = 'replicas-test-client-secret-0123456789';
writeFileSync(join(secrets, 'client-secret'), `${clientSecret}\n`, { mode: 0o600 });
writeFileSync(join(secrets, 'session.key'), `${'cd'.repeat(32)}\n`, { mode: 0o600 });

let certs;
let up;
let idp;
let redis;
const gw = {}; // a, b: feed on; c: feed off

async function startReplica(name, ports, pollInterval) {
    const spec = `  oidc:
    issuer: ${idp.issuer}
    allowInsecureIssuer: true
    clientId: ${idp.clientId}
    clientSecretFile: ${join(secrets, 'client-secret')}
    externalUrl: https://localhost:${ports.httpsPort}
  sessions:
    store: ${redis.url}
    keyFile: ${join(secrets, 'session.key')}
    cacheTtl: 30s
    logoutPollInterval: ${pollInterval}
`;
    const config = (p) => edgeConfig({ ...p, certs, services: standardServices(up), spec });
    return startGateway({ config, ports, name });
}

before(async () => {
    certs = await makeCerts();
    up = { 'nb1-alice': await startUpstream({ name: 'nb1-alice', cert: 'nb1-alice', certs }) };
    for (const name of ['mnist-alice', 'nb1-bob']) up[name] = await startUpstream({ name, cert: name, certs });
    redis = await startRedis();
    const ports = {};
    for (const name of ['a', 'b', 'c']) {
        const [adminPort, httpsPort, httpPort] = await freePorts(3);
        ports[name] = { adminPort, httpsPort, httpPort };
    }
    idp = await startIdp({
        clientSecret,
        redirectUris: [`https://localhost:${ports.a.httpsPort}/authservice/callback`],
        postLogoutRedirectUris: [`https://localhost:${ports.a.httpsPort}/`],
    });
    gw.a = await startReplica('replica-a', ports.a, `${POLL_MS}ms`);
    gw.b = await startReplica('replica-b', ports.b, `${POLL_MS}ms`);
    gw.c = await startReplica('replica-c', ports.c, '0s');
});


const origin = (g) => `https://localhost:${g.httpsPort}`;

/** GET NB on replica g with session id: 200 (alice) or 302 (sent to log in). */
async function statusOn(g, id) {
    const res = await http1(`${g.origin}${NB}`, { ca: certs.read('edge-ca.pem'), servername: 'localhost',
        headers: { cookie: `__Host-tenantgate=${id}`, accept: 'text/html' } });
    if (res.status === 200) assert.equal(res.json().headers['kubeflow-userid'], USERS.alice.username);
    else assert.equal(res.status, 302, `replica answered ${res.status}`);
    return res.status;
}

/** Calls of each Redis command so far (INFO commandstats). */
async function redisCalls() {
    const { stdout } = await runCommand('redis-info', 'redis-cli', ['-p', String(redis.port), 'INFO', 'commandstats']);
    const calls = {};
    for (const m of stdout.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) calls[m[1]] = Number(m[2]);
    return calls;
}

test('login on A is a session on B; logout on A is rejected by A and B within a poll, not the cache TTL', async (t) => {
    const browser = createBrowser({ ca: certs.read('edge-ca.pem'), resolve: { localhost: '127.0.0.1' } });
    const login = await browser.login(`${origin(gw.a)}${NB}`, USERS.alice);
    echoFrom(login, 'nb1-alice');
    const id = browser.jar.list.find((c) => c.name === '__Host-tenantgate').value;

    // the same cookie (host-only cookies ignore the port) is a session on B and C: their caches now hold it
    for (const g of [gw.b, gw.c]) {
        echoFrom(await browser.get(`${origin(g)}${NB}`), 'nb1-alice');
        assert.equal(await statusOn(g, id), 200);
    }

    // measured: cached requests on B never ask Redis for the session; the feed costs two SMEMBERS per poll
    // per worker, whatever the request rate
    const before = await redisCalls();
    const started = Date.now();
    for (let i = 0; i < 100; i += 1) assert.equal(await statusOn(gw.b, id), 200);
    const elapsed = Date.now() - started;
    const afterCalls = await redisCalls();
    const delta = (cmd) => (afterCalls[cmd] || 0) - (before[cmd] || 0);
    t.diagnostic(`100 cached requests on B in ${elapsed} ms: ${delta('get')} GET, ${delta('smembers')} SMEMBERS ` +
        `(all replicas, ${POLL_MS} ms poll)`);
    assert.ok(delta('get') <= 4, `cached requests read the store: ${delta('get')} GETs`);
    // 3 replicas x 2 workers at most, 2 reads per poll
    assert.ok(delta('smembers') <= 2 * 2 * 2 * (elapsed / POLL_MS + 2), `SMEMBERS: ${delta('smembers')}`);

    // logout on A
    const page = await browser.get(`${origin(gw.a)}/authservice/logout`);
    assert.equal(page.status, 200);
    const out = await browser.submitForm(page);
    assert.ok(out.chain.some((h) => h.url.startsWith(idp.issuer)), JSON.stringify(out.chain));
    const loggedOut = Date.now();
    assert.equal(await statusOn(gw.a, id), 302);

    // B drops it from its cache within a poll or two (its cache alone would serve it for 30 s)
    let rejectedAfter = -1;
    while (Date.now() - loggedOut < 3000) {
        if (await statusOn(gw.b, id) === 302) {
            rejectedAfter = Date.now() - loggedOut;
            break;
        }
        await sleep(50);
    }
    t.diagnostic(`B rejected the ended session ${rejectedAfter} ms after the logout on A`);
    assert.ok(rejectedAfter >= 0, 'B still serves the session 3 s after the logout on A');
    assert.equal(await statusOn(gw.a, id), 302);
    // C, with the feed off, still serves it from its cache: what the feed is for (and proof the check can fail)
    assert.equal(await statusOn(gw.c, id), 200);
});
