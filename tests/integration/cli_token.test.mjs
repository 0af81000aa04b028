// The gateway's own CLI tokens as bearer tokens: alice logs in through the
// real IdP, takes a token from /authservice/token and calls a route with
// only `Authorization: Bearer <token>` (no cookie) → her identity at the mTLS
// echo upstream. Refused: an RCToken an upstream received (aud = the service),
// a tampered payload, an expired token (short cliTokenTtl after a reload), and
// bob's token where an AuthorizationPolicy allows only alice. A CLI token
// cannot get itself a fresh one from the token page.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createBrowser } from './lib/browserless.mjs';
import { echoFrom } from './lib/checks.mjs';
import { makeCerts } from './lib/certs.mjs';
import { edgeConfig, startGateway } from './lib/gateway.mjs';
import { h2 } from './lib/http.mjs';
import { startIdp, USERS } from './lib/idp.mjs';
import { freePorts } from './lib/net.mjs';
import { standardServices, startStandardUpstreams } from './lib/stack.mjs';
import { loginSecrets, loginSpec } from './lib/login.mjs';

const ALICE_NB = '/notebook/kubeflow-alice/nb1/';
const BOB_NB = '/notebook/kubeflow-bob/nb1/';

const login = loginSecrets();
const { dir: secrets, clientSecret } = login; // client-secret and session.key in secrets
const signingKey = join(secrets, 'signing.pem');
writeFileSync(signingKey, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    .export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });

/** Only alice (through a session or a token, whoever issued it) reaches kubeflow-alice. */
const aliceOnly = `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {name: owner, namespace: kubeflow-alice}
spec:
  rules:
  - from: [{source: {requestPrincipals: ["*/${USERS.alice.username}"]}}]
`;

let certs;
let up;
let idp;
let gw;
let httpsPort;
let adminPort;
let httpPort;
const origin = () => `https://localhost:${httpsPort}`;

const spec = (cliTokenTtl) => `${loginSpec({ idp, externalUrl: origin(), secrets: login })}  rctoken:
    signingKeyFile: ${signingKey}
    cliTokenTtl: ${cliTokenTtl}
`;
const config = (cliTokenTtl) => edgeConfig({ adminPort, httpsPort, httpPort, certs, services: standardServices(up),
                                             spec: spec(cliTokenTtl), extraDocs: [aliceOnly] });

/** A request without cookies, as curl would send it. */
function curl(path, token) {
    return h2(`https://127.0.0.1:${httpsPort}`, { ca: certs.read('edge-ca.pem'), servername: 'localhost', path,
                                                 headers: { authorization: `Bearer ${token}`,
                                                            accept: 'application/json' } });
}

function assertInvalidToken(res) {
    assert.equal(res.status, 401, res.body.slice(0, 300));
    assert.match(res.headers['www-authenticate'], /error="invalid_token"/);
    assert.equal(res.json().error, 'invalid_token');
}

/** Waits up to 2 s for the gateway's log to match re (stderr arrives a little after the answer). */
async function assertLogged(re) {
    const deadline = Date.now() + 2000;
    while (!re.test(gw.child.stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    assert.match(gw.child.stderr(), re);
}

const payloadOf = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url'));

/** A browser logged in as user, and the token its token page shows. */
async function cliToken(user) {
    const browser = createBrowser({ ca: certs.read('edge-ca.pem'), resolve: { localhost: '127.0.0.1' } });
    const res = await browser.login(`${origin()}/authservice/token`, user);
    assert.equal(res.status, 200, res.body.slice(0, 300));
    const token = res.body.match(/<pre id="token">([A-Za-z0-9_.-]+)<\/pre>/)?.[1];
    assert.ok(token, 'the page shows a token');
    return { browser, token };
}

before(async () => {
    certs = await makeCerts();
    up = await startStandardUpstreams(certs);
    [httpsPort, adminPort, httpPort] = await freePorts(3);
    idp = await startIdp({ clientSecret, redirectUris: [`${origin()}/authservice/callback`] });
    gw = await startGateway({ config: config('1h'), ports: { adminPort, httpsPort, httpPort },
                              name: 'cli-token-gateway' });
});

after(async () => {
    await gw?.stop();
});

describe('CLI tokens from /authservice/token as bearer tokens', () => {
    let alice;

    test('alice\'s token, alone, reaches her notebook as alice', async () => {
        alice = await cliToken(USERS.alice);
        const claims = payloadOf(alice.token);
        assert.equal(claims.aud, origin());
        assert.equal(claims.token_use, 'cli');
        assert.equal(claims.exp - claims.iat, 3600);
        const echo = echoFrom(await curl(ALICE_NB, alice.token), 'nb1-alice');
        assert.equal(echo.headers['kubeflow-userid'], USERS.alice.username);
        assert.equal(echo.headers.cookie, undefined);
        // the upstream gets an RCToken for itself, never the CLI token
        assert.notEqual(echo.headers.authorization, `Bearer ${alice.token}`);
        // again: now from the bearer cache
        echoFrom(await curl(`${ALICE_NB}tree`, alice.token), 'nb1-alice');
    });

    test('an RCToken an upstream received does not come back in through the front door', async () => {
        const echo = echoFrom(await alice.browser.get(`${origin()}${ALICE_NB}`), 'nb1-alice');
        const upstreamToken = echo.headers.authorization.slice('Bearer '.length);
        assert.equal(payloadOf(upstreamToken).iss, origin(), 'same issuer as the CLI token');
        assertInvalidToken(await curl(ALICE_NB, upstreamToken));
        await assertLogged(/token refused: wrong_audience/);
    });

    test('a tampered payload is refused', async () => {
        const [header, payload, signature] = alice.token.split('.');
        const claims = JSON.parse(Buffer.from(payload, 'base64url'));
        claims.exp += 3600;
        const forged = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
        assertInvalidToken(await curl(ALICE_NB, forged));
        await assertLogged(/token refused: bad_signature/);
    });

    test('bob\'s token works on his notebook but the policy keeps it out of alice\'s', async () => {
        const bob = await cliToken(USERS.bob);
        const echo = echoFrom(await curl(BOB_NB, bob.token), 'nb1-bob');
        assert.equal(echo.headers['kubeflow-userid'], USERS.bob.username);
        const res = await curl(ALICE_NB, bob.token);
        assert.equal(res.status, 403, res.body.slice(0, 300));
    });

    test('a CLI token cannot renew itself at the token page', async () => {
        const res = await curl('/authservice/token', alice.token);
        assert.equal(res.status, 403, res.body.slice(0, 300));
        assert.ok(!res.body.includes('<pre id="token">'));
    });

    test('with cliTokenTtl 5s the token expires (5 s skew) and is then refused', async () => {
        const reloads = () => (gw.child.stderr().match(/configuration reloaded/g) || []).length;
        const before = reloads();
        writeFileSync(gw.configPath, config('5s'));
        gw.child.proc.kill('SIGHUP');
        const deadline = Date.now() + 10000;
        while (reloads() === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        assert.ok(reloads() > before, `no reload: ${gw.child.stderr().slice(-2000)}`);
        const res = await alice.browser.get(`${origin()}/authservice/token`);
        const token = res.body.match(/<pre id="token">([A-Za-z0-9_.-]+)<\/pre>/)?.[1];
        const claims = payloadOf(token);
        assert.equal(claims.exp - claims.iat, 5);
        echoFrom(await curl(ALICE_NB, token), 'nb1-alice');
        const wait = (claims.exp + 5) * 1000 - Date.now() + 500;
        await new Promise((r) => setTimeout(r, Math.max(wait, 0)));
        assertInvalidToken(await curl(ALICE_NB, token));
        await assertLogged(/token refused: expired/);
        // the session itself goes on
        echoFrom(await alice.browser.get(`${origin()}${ALICE_NB}`), 'nb1-alice');
    });
});
