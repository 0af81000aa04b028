// OIDC Back-Channel Logout 1.0: the dev IdP (oidc-provider, backchannelLogout
// on for the gateway's client) posts a logout token to
// /authservice/backchannel-logout when the user's IdP sessions end; the
// gateway verifies it and ends the matching sessions. Bad requests get 400
// JSON, never a change.
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
import { freePorts } from './lib/net.mjs';
import { makeCerts } from './lib/certs.mjs';
import { startRedis } from './lib/redis.mjs';
import { standardServices } from './lib/stack.mjs';
import { startUpstream } from './lib/upstream.mjs';

const NB = '/notebook/kubeflow-alice/nb1/';
const BOB_NB = '/notebook/kubeflow-bob/nb1/';

const secrets = mkdtempSync(join(tmpdir(), 'tg-bcl-'));
process.on('exit', () => rmSync(secrets, { recursive: true, force: true }));
const clientSecret = 'bcl-test-client-secret-0123456789';
writeFileSync(join(secrets, 'client-secret'), `${clientSecret}\n`, { mode: 0o600 });
writeFileSync(join(secrets, 'session.key'), `${'ef'.repeat(32)}\n`, { mode: 0o600 });

let certs;
let idp;
let gw;

before(async () => {
    certs = await makeCerts();
    const up = {};
    for (const name of ['mnist-alice', 'nb1-alice', 'nb1-bob']) up[name] = await startUpstream({ name, cert: name, certs });
    const redis = await startRedis();
    const [adminPort, httpsPort, httpPort] = await freePorts(3);
    idp = await startIdp({
        clientSecret,
        redirectUris: [`https://localhost:${httpsPort}/authservice/callback`],
        postLogoutRedirectUris: [`https://localhost:${httpsPort}/`],
        backchannelLogoutUri: `https://localhost:${httpsPort}/authservice/backchannel-logout`,
        backchannelCa: certs.path('edge-ca.pem'),
    });
    const spec = `  oidc:
    issuer: ${idp.issuer}
    allowInsecureIssuer: true
    clientId: ${idp.clientId}
    clientSecretFile: ${join(secrets, 'client-secret')}
    externalUrl: https://localhost:${httpsPort}
  sessions:
    store: ${redis.url}
    keyFile: ${join(secrets, 'session.key')}
    cacheTtl: 30s
`;
    gw = await startGateway({ config: (p) => edgeConfig({ ...p, certs, services: standardServices(up), spec }),
        ports: { adminPort, httpsPort, httpPort }, name: 'bcl-gateway' });
});

const origin = () => `https://localhost:${gw.httpsPort}`;
const newBrowser = () => createBrowser({ ca: certs.read('edge-ca.pem'), resolve: { localhost: '127.0.0.1' } });
const sessionOf = (browser) => browser.jar.list.find((c) => c.name === '__Host-tenantgate').value;

/** GET path with session id: 200 or 302 (sent to log in). */
async function statusWith(id, path = NB) {
    const res = await http1(`${gw.origin}${path}`, { ca: certs.read('edge-ca.pem'), servername: 'localhost',
        headers: { cookie: `__Host-tenantgate=${id}`, accept: 'text/html' } });
    assert.ok(res.status === 200 || res.status === 302, `status ${res.status}`);
    return res.status;
}

function post(body, headers = {}) {
    return http1(`${gw.origin}/authservice/backchannel-logout`, { ca: certs.read('edge-ca.pem'), servername: 'localhost',
        method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
}

test('an IdP-side logout of alice ends both her gateway sessions (even cached), not bob\'s', async () => {
    const alice1 = newBrowser();
    echoFrom(await alice1.login(`${origin()}${NB}`, USERS.alice), 'nb1-alice');
    const alice2 = newBrowser();
    echoFrom(await alice2.login(`${origin()}${NB}`, USERS.alice), 'nb1-alice');
    const bob = newBrowser();
    echoFrom(await bob.login(`${origin()}${BOB_NB}`, USERS.bob), 'nb1-bob');
    const [a1, a2, b] = [sessionOf(alice1), sessionOf(alice2), sessionOf(bob)];
    for (const id of [a1, a2]) assert.equal(await statusWith(id), 200); // now cached (cacheTtl 30 s)
    assert.equal(await statusWith(b, BOB_NB), 200);

    const before = (await idp.lastBackchannel()).count;
    const out = await idp.logout(USERS.alice.username);
    assert.equal(out.backchannel.length, 2, JSON.stringify(out));
    for (const call of out.backchannel) assert.equal(call.status, 200, JSON.stringify(out));
    const last = await idp.waitForBackchannel(before + 2);
    assert.equal(last.last.status, 200, JSON.stringify(last));

    assert.equal(await statusWith(a1), 302);
    assert.equal(await statusWith(a2), 302);
    assert.equal(await statusWith(b, BOB_NB), 200);
});

test('bad back-channel requests: 400 JSON, no-store; GET is 405', async () => {
    for (const body of ['', 'logout_token=', 'other=1', 'logout_token=not.a.jwt', 'logout_token=%zz',
        // an unsigned token that names alice (alg none)
        `logout_token=${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({
            iss: idp.issuer, aud: idp.clientId, iat: Math.floor(Date.now() / 1000), jti: 'x', sub: USERS.alice.username,
            events: { 'http://schemas.openid.net/event/backchannel-logout': {} } })).toString('base64url')}.`]) {
        const res = await post(body);
        assert.equal(res.status, 400, `${body}: ${res.status}`);
        assert.equal(res.headers['cache-control'], 'no-store');
        assert.equal(res.json().error, 'invalid_request');
    }
    const get = await http1(`${gw.origin}/authservice/backchannel-logout`, { ca: certs.read('edge-ca.pem'),
        servername: 'localhost' });
    assert.equal(get.status, 405);
});
