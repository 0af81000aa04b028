// RCTokens end to end: alice logs in through the real IdP, the mTLS echo
// upstream shows what it got, and an independent JOSE implementation (npm
// jose, createRemoteJWKSet + jwtVerify against the gateway's JWKS URL) checks
// the forwarded token: claims, cache reuse, client headers replaced, and a key
// rotation by config reload (old tokens still verify, new ones carry the new
// kid). A second gateway without login shows anonymous requests get no token.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { calculateJwkThumbprint, createRemoteJWKSet, customFetch, decodeProtectedHeader, jwtVerify } from 'jose';
import { createBrowser } from './lib/browserless.mjs';
import { echoFrom } from './lib/checks.mjs';
import { makeCerts } from './lib/certs.mjs';
import { edgeConfig, startGateway } from './lib/gateway.mjs';
import { h2 } from './lib/http.mjs';
import { startIdp, USERS } from './lib/idp.mjs';
import { freePort, freePorts } from './lib/net.mjs';
import { ALICE_MNIST, ALICE_NB1, standardServices, startStandardUpstreams } from './lib/stack.mjs';
import { loginSecrets, loginSpec } from './lib/login.mjs';

const NB = '/notebook/kubeflow-alice/nb1/';
const MNIST = '/serving/kubeflow-alice/mnist/';

const login = loginSecrets();
const { dir: secrets, clientSecret } = login; // client-secret and session.key in secrets

/** A fresh EC P-256 private key as a PEM file in the secrets dir. */
function ecKeyFile(name) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const file = join(secrets, name);
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    return file;
}
const oldKey = ecKeyFile('old.pem');
const newKey = ecKeyFile('new.pem');

let certs;
let up;
let idp;
let gw;
let httpsPort;
let adminPort;
let httpPort;

const origin = () => `https://localhost:${httpsPort}`;

function rctokenSpec({ signing, verify = [] }) {
    return `${loginSpec({ idp, externalUrl: `https://localhost:${httpsPort}`, secrets: login })}  rctoken:
    ttl: 5m
    jwksMaxAge: 30s
    signingKeyFile: ${signing}
    verifyKeyFiles: [${verify.join(', ')}]
`;
}

// one worker: the token cache is per worker, so reuse is only certain with one
const config = (keys) => edgeConfig({ adminPort, httpsPort, httpPort, certs, services: standardServices(up),
                                      threads: 1, spec: rctokenSpec(keys) });

/** fetch for jose: to the gateway on 127.0.0.1, trusting the test's edge CA, TLS name localhost. */
function edgeFetch(url) {
    return new Promise((resolve, reject) => {
        const u = new URL(url);
        const req = https.get({ host: '127.0.0.1', port: u.port, path: u.pathname, servername: 'localhost',
                                ca: certs.read('edge-ca.pem'), headers: { accept: 'application/json' } }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve(new Response(Buffer.concat(chunks), {
                status: res.statusCode, headers: { 'content-type': res.headers['content-type'] || '' } })));
            res.on('error', reject);
        });
        req.on('error', reject);
    });
}

const jwksUrl = () => new URL(`https://127.0.0.1:${httpsPort}/.well-known/jwks.json`);
/** A remote key set as a sidecar would hold it: refetched at once when a token names an unknown kid. */
const remoteJwks = () => createRemoteJWKSet(jwksUrl(), { [customFetch]: edgeFetch, cooldownDuration: 0 });

function bearerOf(echo) {
    const value = echo.headers.authorization;
    assert.ok(value, 'the upstream got an Authorization header');
    assert.match(value, /^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    return value.slice('Bearer '.length);
}

let browser;
let firstToken;

before(async () => {
    certs = await makeCerts();
    up = await startStandardUpstreams(certs);
    [httpsPort, adminPort, httpPort] = await freePorts(3);
    idp = await startIdp({ clientSecret, redirectUris: [`https://localhost:${httpsPort}/authservice/callback`] });
    gw = await startGateway({ config: config({ signing: oldKey }), ports: { adminPort, httpsPort, httpPort },
                              name: 'rctoken-gateway' });
    browser = createBrowser({ ca: certs.read('edge-ca.pem'), resolve: { localhost: '127.0.0.1' } });
});

after(async () => {
    await gw?.stop();
});

describe('RCTokens with login', () => {
    test('the published documents: JWKS with RFC 7638 kids, issuer metadata, cache headers', async () => {
        const res = await h2(`https://127.0.0.1:${httpsPort}`, { ca: certs.read('edge-ca.pem'), servername: 'localhost',
                                                                path: '/.well-known/jwks.json' });
        assert.equal(res.status, 200);
        assert.match(res.headers['content-type'], /^application\/json/);
        assert.equal(res.headers['cache-control'], 'public, max-age=30');
        const { keys } = res.json();
        assert.equal(keys.length, 1);
        assert.equal(keys[0].kty, 'EC');
        assert.equal(keys[0].alg, 'ES256');
        assert.equal(keys[0].d, undefined, 'no private member');
        assert.equal(keys[0].kid, await calculateJwkThumbprint(keys[0], 'sha256'));
        const meta = (await h2(`https://127.0.0.1:${httpsPort}`, {
            ca: certs.read('edge-ca.pem'), servername: 'localhost', path: '/.well-known/openid-configuration' })).json();
        assert.equal(meta.issuer, origin());
        assert.equal(meta.jwks_uri, `${origin()}/.well-known/jwks.json`);
        assert.deepEqual(meta.id_token_signing_alg_values_supported, ['ES256']);
        const post = await h2(`https://127.0.0.1:${httpsPort}`, { ca: certs.read('edge-ca.pem'), servername: 'localhost',
                                                                 path: '/.well-known/jwks.json', method: 'POST' });
        assert.equal(post.status, 405);
    });

    test('a logged-in request carries a token jose verifies, with the expected claims', async () => {
        const res = await browser.login(`${origin()}${NB}`, USERS.alice);
        const echo = echoFrom(res, 'nb1-alice');
        assert.equal(echo.headers['kubeflow-userid'], USERS.alice.username);
        firstToken = bearerOf(echo);
        const { payload, protectedHeader } = await jwtVerify(firstToken, remoteJwks(), {
            issuer: origin(), audience: ALICE_NB1, algorithms: ['ES256'] });
        assert.equal(protectedHeader.typ, 'JWT');
        assert.equal(payload.sub, USERS.alice.username);
        assert.equal(payload.email, USERS.alice.username);
        assert.deepEqual(payload.groups, USERS.alice.groups);
        assert.equal(payload.namespace, 'kubeflow-alice');
        assert.equal(payload.exp - payload.iat, 300);
        assert.equal(payload.nbf, payload.iat);
        assert.match(payload.jti, /^[A-Za-z0-9_-]{22}$/);
        assert.match(payload.sid, /^[A-Za-z0-9_-]{22}$/);
        const cookie = browser.jar.list.find((c) => c.name === '__Host-tenantgate').value;
        assert.ok(!firstToken.includes(cookie) && !cookie.includes(payload.sid), 'sid is not the session id');
    });

    test('the same token is reused; client Authorization and kubeflow-userid are replaced', async () => {
        const res = await browser.get(`${origin()}${NB}tree`, { headers: {
            authorization: 'Bearer forged.token.value', 'kubeflow-userid': 'mallory@example.com' } });
        const echo = echoFrom(res, 'nb1-alice');
        assert.equal(bearerOf(echo), firstToken, 'minted once per session and audience');
        assert.equal(echo.headers['kubeflow-userid'], USERS.alice.username);
        // another destination is another audience, so another token
        const other = bearerOf(echoFrom(await browser.get(`${origin()}${MNIST}v1/models/mnist`), 'mnist-alice'));
        assert.notEqual(other, firstToken);
        const { payload } = await jwtVerify(other, remoteJwks(), { issuer: origin(), audience: ALICE_MNIST });
        assert.equal(payload.sub, USERS.alice.username);
        await assert.rejects(jwtVerify(other, remoteJwks(), { issuer: origin(), audience: ALICE_NB1 }),
                             /aud/, 'a token for mnist is not one for nb1');
    });

    test('/authservice/token gives the user a token for the gateway itself, on an uncached, unframed page', async () => {
        const res = await browser.get(`${origin()}/authservice/token`);
        assert.equal(res.status, 200);
        assert.match(res.headers['content-type'], /^text\/html/);
        assert.equal(res.headers['cache-control'], 'no-store');
        assert.equal(res.headers['x-frame-options'], 'DENY');
        assert.match(res.headers['content-security-policy'], /frame-ancestors 'none'/);
        const token = res.body.match(/<pre id="token">([A-Za-z0-9_.-]+)<\/pre>/)?.[1];
        assert.ok(token, 'the page shows a token');
        assert.ok(res.body.includes(`curl -H "Authorization: Bearer $TOKEN" ${origin()}/serving/`));
        const { payload } = await jwtVerify(token, remoteJwks(), { issuer: origin(), audience: origin() });
        assert.equal(payload.sub, USERS.alice.username);
        assert.equal(payload.namespace, undefined);
        await assert.rejects(jwtVerify(token, remoteJwks(), { issuer: origin(), audience: ALICE_NB1 }), /aud/);
        // a browser without a session is sent to log in first
        const stranger = createBrowser({ ca: certs.read('edge-ca.pem'), resolve: { localhost: '127.0.0.1' } });
        const first = (await stranger.get(`${origin()}/authservice/token`)).chain[0];
        assert.equal(first.status, 302);
        assert.match(first.location, /^\/authservice\/login\?rd=/);
    });

    test('key rotation by reload: old tokens still verify, new ones carry the new kid', async () => {
        const jwks = remoteJwks();
        const oldKid = decodeProtectedHeader(firstToken).kid;
        await jwtVerify(firstToken, jwks, { issuer: origin(), audience: ALICE_NB1 });
        const reloads = () => (gw.child.stderr().match(/configuration reloaded/g) || []).length;
        const before = reloads();
        writeFileSync(gw.configPath, config({ signing: newKey, verify: [oldKey] }));
        gw.child.proc.kill('SIGHUP');
        const deadline = Date.now() + 10000;
        while (reloads() === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        assert.ok(reloads() > before, `no reload: ${gw.child.stderr().slice(-2000)}`);
        const echo = echoFrom(await browser.get(`${origin()}${NB}`), 'nb1-alice');
        const newToken = bearerOf(echo);
        assert.notEqual(newToken, firstToken, 'a new generation mints afresh');
        const newKid = decodeProtectedHeader(newToken).kid;
        assert.notEqual(newKid, oldKid);
        // the same remote set, as a sidecar holds it, learns the new kid and keeps the old one
        const { payload } = await jwtVerify(newToken, jwks, { issuer: origin(), audience: ALICE_NB1 });
        assert.equal(payload.sub, USERS.alice.username);
        await jwtVerify(firstToken, jwks, { issuer: origin(), audience: ALICE_NB1 });
        const kids = (await (await edgeFetch(jwksUrl().href)).json()).keys.map((k) => k.kid);
        assert.deepEqual(kids, [newKid, oldKid]);
    });
});

describe('RCTokens without login', () => {
    let anon;
    before(async () => {
        const plainPort = await freePort();
        anon = await startGateway({ name: 'rctoken-anonymous', config: (ports) => edgeConfig({
            ...ports, certs, services: standardServices(up),
            spec: `  rctoken:\n    issuer: https://localhost:${plainPort}\n    signingKeyFile: ${oldKey}\n` }) });
    });
    after(async () => {
        await anon?.stop();
    });

    test('an anonymous request gets no token and loses the client Authorization', async () => {
        const res = await h2(anon.origin, { ca: certs.read('edge-ca.pem'), servername: 'localhost', path: NB,
                                            headers: { authorization: 'Bearer forged.token.value' } });
        const echo = echoFrom(res, 'nb1-alice');
        assert.equal(echo.headers.authorization, undefined);
        assert.equal(echo.headers['kubeflow-userid'], undefined);
    });

    test('without login there is no token page', async () => {
        const res = await h2(anon.origin, { ca: certs.read('edge-ca.pem'), servername: 'localhost',
                                            path: '/authservice/token' });
        assert.equal(res.status, 404);
    });
});
