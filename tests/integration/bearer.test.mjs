// Bearer tokens from API clients end to end: RequestAuthentication rules for
// the dev IdP (user access and ID tokens, client-credentials tokens), for a
// "forge" issuer this test runs itself (its keys sign every forged and
// broken token) and for a tenant's own issuer in kubeflow-bob; the gateway
// with browser login on in front of the usual mTLS echo upstreams.
import assert from 'node:assert/strict';
import { createHash, createHmac, generateKeyPairSync } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { after, before, test } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import { createBrowser } from './lib/browserless.mjs';
import { echoFrom } from './lib/checks.mjs';
import { checkConfig, edgeConfig, startGateway, writeConfig } from './lib/gateway.mjs';
import { http1 } from './lib/http.mjs';
import { pkcePair, randomValue, startIdp, USERS } from './lib/idp.mjs';
import { freePort, freePorts } from './lib/net.mjs';
import { makeCerts } from './lib/certs.mjs';
import { BOB_NB1, standardServices, startStandardUpstreams } from './lib/stack.mjs';
import { loginSecrets, loginSpec } from './lib/login.mjs';

const PREDICT = '/serving/kubeflow-alice/mnist/v1/models/mnist:predict';
const BOB_NB = '/notebook/kubeflow-bob/nb1/api/status';
const FORGE_AUD = 'https://tenantgate.local/api';
const MACHINE = 'metrics-bot';

const login = loginSecrets(); // client-secret and session.key in login.dir
const { clientSecret } = login;

let certs;
let up;
let idp;
let gw;
let forge; // {origin, counts: {path: n}, server}
let rp; // {origin, server}
let downPort;
let config; // (ports, {bobIssuer}) -> the gateway's YAML

// ---- keys of the forge and tenant issuers -----------------------------------

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const bobKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });

async function jwks(entries) {
    const keys = [];
    for (const [kid, alg, key] of entries) keys.push({ ...(await exportJWK(key.publicKey)), kid, alg, use: 'sig' });
    return { keys };
}

function startForge() {
    const state = { counts: {}, sets: {} };
    const server = http.createServer((req, res) => {
        state.counts[req.url] = (state.counts[req.url] || 0) + 1;
        const set = state.sets[req.url];
        const answer = () => {
            res.writeHead(set ? 200 : 404, { 'content-type': 'application/json' });
            res.end(set ? JSON.stringify(set) : '{}');
        };
        if (req.url.startsWith('/slow/')) setTimeout(answer, 800); // a key set that takes its time
        else answer();
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
        state.origin = `http://127.0.0.1:${server.address().port}`;
        state.server = server;
        resolve(state);
    }));
}

function startRp() {
    const server = http.createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('rp');
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () =>
        resolve({ origin: `http://127.0.0.1:${server.address().port}`, server })));
}

const now = () => Math.floor(Date.now() / 1000);

/** A token of the forge issuer: claims over the defaults, header over {alg RS256, kid rsa-1}. */
async function forged(claims = {}, header = {}, key = rsa.privateKey) {
    const h = { alg: 'RS256', kid: 'rsa-1', typ: 'JWT', ...header };
    return new SignJWT({ email: 'carol@example.com', groups: ['kubeflow-alice-viewers'], ...claims })
        .setProtectedHeader(h)
        .setIssuer(claims.iss || forge.origin)
        .setSubject(claims.sub || 'carol')
        .setAudience(claims.aud || FORGE_AUD)
        .setIssuedAt(claims.iat || now())
        .setExpirationTime(claims.exp || now() + 300)
        .sign(key);
}

const b64 = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');

/** A compact JWS made by hand (alg none, HMAC): header, claims, signature bytes. */
function handmade(header, claims, sign = () => '') {
    const input = `${b64(header)}.${b64(claims)}`;
    return `${input}.${sign(input)}`;
}

const validClaims = () => ({ iss: forge.origin, sub: 'carol', aud: FORGE_AUD, iat: now(), exp: now() + 300 });

// ---- the stack ---------------------------------------------------------------

const requestAuth = (name, namespace, issuer, jwksUri, audiences, annotations = {}) => `apiVersion: security.istio.io/v1beta1
kind: RequestAuthentication
metadata:
  name: ${name}
  namespace: ${namespace}
  annotations: {tenantgate.io/allow-insecure-jwks-uri: "true"${Object.entries(annotations).map(([k, v]) => `, ${k}: ${v}`).join('')}}
spec:
  jwtRules:
  - issuer: ${issuer}
    jwksUri: ${jwksUri}
    audiences: [${audiences.join(', ')}]
`;

before(async () => {
    certs = await makeCerts();
    forge = await startForge();
    rp = await startRp();
    forge.sets['/jwks'] = await jwks([['rsa-1', 'RS256', rsa], ['ec-1', 'ES256', ec]]);
    forge.sets['/bob/jwks'] = await jwks([['bob-1', 'ES256', bobKey]]);
    forge.sets['/slow/jwks'] = forge.sets['/jwks'];
    forge.sets['/evil-jwks'] = await jwks([['evil', 'RS256', attacker]]);
    up = await startStandardUpstreams(certs);
    const httpsPort = await freePort();
    [downPort] = await freePorts(1); // nothing listens there: an issuer whose keys cannot be had
    idp = await startIdp({
        clientSecret,
        redirectUris: [`https://localhost:${httpsPort}/authservice/callback`, `${rp.origin}/callback`],
        machineClientId: MACHINE,
    });
    const [adminPort, httpPort] = await freePorts(2);
    config = (ports, { bobIssuer = true } = {}) => edgeConfig({
        ...ports, certs, services: standardServices(up), limits: { maxHeaderBytes: 65536 },
        spec: loginSpec({ idp, externalUrl: `https://localhost:${httpsPort}`, secrets: login }),
        extraDocs: [
            requestAuth('idp', 'istio-system', idp.issuer, `${idp.issuer}/jwks`, [idp.audience, idp.clientId]),
            requestAuth('forge', 'istio-system', forge.origin, `${forge.origin}/jwks`, [FORGE_AUD]),
            requestAuth('slow', 'istio-system', `${forge.origin}/slow`, `${forge.origin}/slow/jwks`, [FORGE_AUD]),
            requestAuth('down', 'istio-system', `http://127.0.0.1:${downPort}`, `http://127.0.0.1:${downPort}/jwks`,
                        [FORGE_AUD]),
            ...(bobIssuer ? [requestAuth('bob-issuer', 'kubeflow-bob', `${forge.origin}/bob`, `${forge.origin}/bob/jwks`,
                                         [FORGE_AUD], { 'tenantgate.io/userid-claim': 'preferred_username' })] : []),
        ],
    });
    gw = await startGateway({ config, ports: { adminPort, httpsPort, httpPort }, name: 'bearer-gateway' });
});

after(async () => {
    await gw?.stop();
    await new Promise((r) => (forge ? forge.server.close(r) : r()));
    await new Promise((r) => (rp ? rp.server.close(r) : r()));
});

const tls = () => ({ ca: certs.read('edge-ca.pem'), servername: 'localhost' });

/** POST (as an API client would) to path with the given Authorization value (none when undefined). */
function call(path, authorization, extra = {}) {
    const headers = { 'content-type': 'application/json', ...extra };
    if (authorization !== undefined) headers.authorization = authorization;
    return http1(`${gw.origin}${path}`, { ...tls(), method: 'POST', headers, body: '{"instances":[[0]]}' });
}

function assertInvalidToken(res, what) {
    assert.equal(res.status, 401, `${what}: expected 401, got ${res.status}: ${res.body.slice(0, 200)}`);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="tenantgate", error="invalid_token"', what);
    assert.equal(res.headers.location, undefined, `${what}: no redirect`);
    const body = res.json();
    assert.equal(body.error, 'invalid_token', what);
    assert.equal(body.status, 401, what);
    assert.match(body.request_id, /^[0-9a-f-]{8,}/, what);
    assert.deepEqual(Object.keys(body).sort(), ['error', 'request_id', 'status'], `${what}: no detail in the body`);
}

/** An RFC 9068 access token (and an ID token) of user from the IdP, through its login form. */
async function userTokens(user) {
    const { verifier, challenge } = pkcePair();
    const redirectUri = `${rp.origin}/callback`;
    const res = await createBrowser().login(idp.authorizeUrl({
        redirectUri, state: randomValue(), nonce: randomValue(), challenge, scope: 'openid email groups api',
        resource: idp.audience,
    }), { username: user.username, password: user.password });
    const code = new URL(res.url).searchParams.get('code');
    assert.ok(code, `no code at ${res.url}`);
    const t = await idp.token({ grant_type: 'authorization_code', code, code_verifier: verifier,
                                redirect_uri: redirectUri, resource: idp.audience });
    assert.equal(t.status, 200, t.body);
    return t.json();
}

// ---- tokens that work ------------------------------------------------------

test('curl with an IdP access token (at+jwt) reaches the model server as alice; the token is not forwarded', async () => {
    const tokens = await userTokens(USERS.alice);
    const header = JSON.parse(Buffer.from(tokens.access_token.split('.')[0], 'base64url'));
    assert.equal(header.typ, 'at+jwt');
    const echo = echoFrom(await call(PREDICT, `Bearer ${tokens.access_token}`), 'mnist-alice');
    assert.equal(echo.headers['kubeflow-userid'], USERS.alice.username);
    assert.equal(echo.headers['kubeflow-groups'], USERS.alice.groups.join(','));
    assert.equal(echo.headers.authorization, undefined, 'forwardOriginalToken is false: the token stays at the edge');
    // the ID token (aud = the client id, also configured) works too
    const viaId = echoFrom(await call(PREDICT, `Bearer ${tokens.id_token}`), 'mnist-alice');
    assert.equal(viaId.headers['kubeflow-userid'], USERS.alice.username);
});

test('a client-credentials token of a machine client is accepted with its client id as user', async () => {
    const t = await idp.token({ grant_type: 'client_credentials', scope: 'api', resource: idp.audience },
                              { clientId: MACHINE, clientSecret: idp.machineClientSecret });
    assert.equal(t.status, 200, t.body);
    const echo = echoFrom(await call(PREDICT, `Bearer ${t.json().access_token}`), 'mnist-alice');
    assert.equal(echo.headers['kubeflow-userid'], MACHINE);
});

test('a Kubernetes service-account-shaped token (ES256, no email) is accepted as its sub', async () => {
    const sa = 'system:serviceaccount:kubeflow-alice:pipeline-runner';
    const token = await new SignJWT({ 'kubernetes.io': { namespace: 'kubeflow-alice' } })
        .setProtectedHeader({ alg: 'ES256', kid: 'ec-1' })
        .setIssuer(forge.origin).setSubject(sa).setAudience(FORGE_AUD)
        .setIssuedAt(now()).setNotBefore(now()).setExpirationTime(now() + 600)
        .sign(ec.privateKey);
    const echo = echoFrom(await call(PREDICT, `Bearer ${token}`), 'mnist-alice');
    assert.equal(echo.headers['kubeflow-userid'], sa);
    assert.equal(echo.headers['kubeflow-groups'], '');
});

test('no token: 401 JSON for the API client, never a redirect', async () => {
    const res = await call(PREDICT, undefined);
    assert.equal(res.status, 401);
    assert.equal(res.headers.location, undefined);
    assert.match(res.headers['content-type'], /^application\/json/);
    assert.match(res.headers['www-authenticate'], /^Bearer realm="tenantgate"/);
});

// ---- tokens that must not work, each through the binary ------------------------

test('forged and broken tokens: 401 invalid_token each, nothing reaches the upstream', async () => {
    const pub = rsa.publicKey.export({ type: 'spki', format: 'pem' });
    const good = await forged();
    const [h, p, s] = good.split('.');
    const tamperedPayload = `${h}.${b64({ ...JSON.parse(Buffer.from(p, 'base64url')), sub: 'alice' })}.${s}`;
    const sig = Buffer.from(s, 'base64url');
    sig[10] ^= 1;
    const cases = {
        'garbage base64': 'Bearer !!!not*base64!!!.x.y',
        'not a JWS': 'Bearer abc',
        'empty token': 'Bearer ',
        'alg none': `Bearer ${handmade({ alg: 'none', typ: 'JWT' }, validClaims())}`,
        'alg none with a signature part': `Bearer ${handmade({ alg: 'none' }, validClaims(), () => 'AAAA')}`,
        'alg none without dot': `Bearer ${handmade({ alg: 'none' }, validClaims())}`,
        'HS256 keyed with the RSA public key': `Bearer ${handmade({ alg: 'HS256', kid: 'rsa-1' }, validClaims(),
            (input) => createHmac('sha256', pub).update(input).digest('base64url'))}`,
        'RS256 kid with alg ES256': `Bearer ${await forged({}, { alg: 'ES256', kid: 'rsa-1' }, ec.privateKey)}`,
        'ES256 kid with alg RS256': `Bearer ${await forged({}, { alg: 'RS256', kid: 'ec-1' })}`,
        'tampered payload': `Bearer ${tamperedPayload}`,
        'tampered signature': `Bearer ${h}.${p}.${sig.toString('base64url')}`,
        expired: `Bearer ${await forged({ iat: now() - 3600, exp: now() - 600 })}`,
        'nbf in the future': `Bearer ${await forged({ nbf: now() + 3600 })}`,
        'wrong iss (unknown issuer)': `Bearer ${await forged({ iss: 'https://evil.example' })}`,
        'wrong aud': `Bearer ${await forged({ aud: 'https://other.example/api' })}`,
        'unknown kid': `Bearer ${await forged({}, { kid: 'nope' }, attacker.privateKey)}`,
        'jku header (never fetched)': `Bearer ${await forged({}, { kid: 'evil', jku: `${forge.origin}/evil-jwks` },
            attacker.privateKey)}`,
        'x5u header (never fetched)': `Bearer ${await forged({}, { kid: 'evil', x5u: `${forge.origin}/evil-jwks` },
            attacker.privateKey)}`,
        'embedded jwk header': `Bearer ${await forged({}, { kid: 'evil', jwk: (await jwks([['evil', 'RS256', attacker]])).keys[0] },
            attacker.privateKey)}`,
        'oversized token': `Bearer ${good}${'A'.repeat(17 * 1024)}`,
        'logout token typ': `Bearer ${await forged({}, { typ: 'logout+jwt' })}`,
    };
    for (const [what, authorization] of Object.entries(cases)) assertInvalidToken(await call(PREDICT, authorization), what);
    assert.equal(forge.counts['/evil-jwks'], undefined, 'jku/x5u URLs are never fetched');
    // the untampered original works, so the cases above fail for their own reason
    const echo = echoFrom(await call(PREDICT, `Bearer ${good}`), 'mnist-alice');
    assert.equal(echo.headers['kubeflow-userid'], 'carol@example.com');
    // the log names reasons, never a token
    const log = gw.child.stderr() + gw.child.stdout();
    for (const code of ['alg_not_allowed', 'bad_signature', 'expired', 'not_yet_valid', 'wrong_audience',
                        'untrusted_issuer', 'unknown_kid', 'too_large', 'malformed', 'alg_key_mismatch']) {
        assert.match(log, new RegExp(`token refused: ${code}`), `log names ${code}`);
    }
    assert.ok(!log.includes(s) && !log.includes(p), 'no token in the log');
});

test('an issuer whose keys cannot be fetched answers 503, not 401, and is not cached', async () => {
    const token = await forged({ iss: `http://127.0.0.1:${downPort}` });
    for (let i = 0; i < 2; ++i) {
        const res = await call(PREDICT, `Bearer ${token}`, { accept: 'application/json' });
        assert.equal(res.status, 503, res.body);
    }
});

test('a client that leaves while its token waits for the key set: nothing breaks, the next request is served', async () => {
    const token = await forged({ iss: `${forge.origin}/slow` });
    const gone = new Promise((resolve) => {
        const req = https.request({ host: '127.0.0.1', port: gw.httpsPort, path: PREDICT, method: 'POST', ...tls(),
                                    headers: { authorization: `Bearer ${token}`, 'content-length': '2' } });
        req.on('error', () => resolve('aborted'));
        req.on('response', (res) => resolve(`answered ${res.statusCode}`));
        req.end('{}');
        setTimeout(() => req.destroy(), 200);
    });
    assert.equal(await gone, 'aborted');
    await new Promise((r) => setTimeout(r, 1000)); // the key set arrives for a request that is gone
    const echo = echoFrom(await call(PREDICT, `Bearer ${token}`), 'mnist-alice');
    assert.equal(echo.headers['kubeflow-userid'], 'carol@example.com');
    assert.equal(forge.counts['/slow/jwks'], 1);
});

// ---- tenant safety ---------------------------------------------------------

test("a tenant namespace's issuer is trusted for its own routes only", async () => {
    const token = await forged({ iss: `${forge.origin}/bob`, sub: 'alice', email: 'alice@example.com',
                                 preferred_username: 'alice@example.com' }, { alg: 'ES256', kid: 'bob-1' },
                               bobKey.privateKey);
    assertInvalidToken(await call(PREDICT, `Bearer ${token}`), "bob's issuer on alice's route");
    const echo = echoFrom(await call(BOB_NB, `Bearer ${token}`), 'nb1-bob');
    assert.equal(echo.headers['kubeflow-userid'], 'alice@example.com', 'the userid-claim annotation maps the user');
    // and again (now from the cache): still refused on alice's route
    assertInvalidToken(await call(PREDICT, `Bearer ${token}`), "cached bob token on alice's route");
});

test("a tenant's route that would match only with the bearer header under another tenant's prefix is refused at load", async () => {
    // such a route would let bob's issuer vouch for requests on alice's paths; tenant isolation refuses the config
    // (and the route is matched once, before the identity step, in any case)
    const sneaky = `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: bob-sneaky, namespace: kubeflow-bob}
spec:
  hosts: ["*"]
  gateways: [istio-system/tenantgate]
  http:
  - match: [{uri: {prefix: /serving/kubeflow-alice/mnist/v2/}, headers: {authorization: {regex: "Bearer .*"}}}]
    route: [{destination: {host: ${BOB_NB1}, subset: v1}}]
`;
    const text = `${config({ adminPort: gw.adminPort, httpsPort: gw.httpsPort, httpPort: gw.httpPort })}---\n${sneaky}`;
    const r = await checkConfig(writeConfig(text, 'bearer-sneaky'));
    assert.notEqual(r.code, 0, 'the config loads');
    assert.match(r.stderr, /VirtualService kubeflow-bob\/bob-sneaky \(.*:\d+\)/);
    assert.match(r.stderr, /VirtualService kubeflow-alice\/mnist \(.*:\d+\)/);
    // and the running gateway still sends alice's path to alice's route (401 here: login is on, no token)
    assert.equal((await call('/serving/kubeflow-alice/mnist/v2/x', undefined)).status, 401);
});

// ---- caching ---------------------------------------------------------------

test('many requests with many tokens fetch the key set once', async () => {
    const before = forge.counts['/jwks'] || 0;
    assert.ok(before >= 1, 'fetched at least once by now');
    const tokens = await Promise.all(Array.from({ length: 5 }, (_, i) => forged({ sub: `user-${i}` })));
    for (let round = 0; round < 4; ++round) {
        const results = await Promise.all(tokens.map((t) => call(PREDICT, `Bearer ${t}`)));
        for (const r of results) assert.equal(r.status, 200, r.body);
    }
    assert.equal(forge.counts['/jwks'] || 0, before, 'no further key set fetch');
    // and the IdP's: fresh client-credentials tokens, many requests
    const machine = await Promise.all([0, 1, 2].map(() => idp.token(
        { grant_type: 'client_credentials', scope: 'api', resource: idp.audience },
        { clientId: MACHINE, clientSecret: idp.machineClientSecret })));
    for (let round = 0; round < 3; ++round) {
        const results = await Promise.all(machine.map((t) => call(PREDICT, `Bearer ${t.json().access_token}`)));
        for (const r of results) assert.equal(r.status, 200, r.body);
    }
    const idpFetches = (idp.child.stdout().match(/^REQ GET \/jwks$/gm) || []).length;
    assert.equal(idpFetches, 1, 'the IdP key set was fetched once for every IdP token so far');
});

test('the session key of a bearer identity is the token hash, not the token (no leak to the upstream)', async () => {
    const token = await forged({ sub: 'dave' });
    const echo = echoFrom(await call(PREDICT, `Bearer ${token}`), 'mnist-alice');
    const all = JSON.stringify(echo);
    assert.ok(!all.includes(token.split('.')[2]), 'no token part upstream');
    assert.ok(!all.includes(createHash('sha256').update(token).digest('hex')), 'no session key upstream');
});

test('a reload that drops an issuer drops its cached tokens too', async () => {
    const token = await forged({ iss: `${forge.origin}/bob`, sub: 'erin', preferred_username: 'erin' },
                               { alg: 'ES256', kid: 'bob-1' }, bobKey.privateKey);
    assert.equal(echoFrom(await call(BOB_NB, `Bearer ${token}`), 'nb1-bob').headers['kubeflow-userid'], 'erin');
    const reloads = () => (gw.child.stderr().match(/configuration reloaded/g) || []).length;
    const before = reloads();
    const tmp = `${gw.configPath}.tmp`;
    writeFileSync(tmp, config(gw, { bobIssuer: false }));
    renameSync(tmp, gw.configPath);
    gw.child.proc.kill('SIGHUP');
    for (const deadline = Date.now() + 5000; reloads() === before;) {
        assert.ok(Date.now() < deadline, `no reload:\n${gw.child.stderr().slice(-1000)}`);
        await new Promise((r) => setTimeout(r, 50));
    }
    assertInvalidToken(await call(BOB_NB, `Bearer ${token}`), 'a token of an issuer no longer configured');
    // the root issuers still work after the reload
    echoFrom(await call(PREDICT, `Bearer ${await forged()}`), 'mnist-alice');
});
