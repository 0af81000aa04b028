// The mesh workloads of the end-to-end tests and the demo, on their own: the
// notebook sidecar (mTLS termination, RCToken check, HTTP + websocket proxy)
// and the TF-Serving-shaped model server. Tokens are minted here with npm
// jose and the JWKS is served here over https with the edge certificate, so
// these checks do not depend on the gateway.
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { WebSocket, WebSocketServer } from 'ws';
import { makeCerts } from './lib/certs.mjs';
import { http1 } from './lib/http.mjs';
import { startModelServer, startSidecar } from './lib/workloads.mjs';

const ISSUER = 'https://localhost:8443';
const AUDIENCE = 'nb1.kubeflow-alice.svc.cluster.local';
const NB1 = 'nb1.kubeflow-alice.svc.cluster.local';
const MNIST = 'mnist.kubeflow-alice.svc.cluster.local';

let certs;
let signing;
let stranger;
let jwksServer;
let target;
let targetSeen = [];
const servers = [];

async function token({ key = signing, kid = 'k1', iss = ISSUER, aud = AUDIENCE, sub = 'alice@example.com',
                       exp = '5m' } = {}) {
    return new SignJWT({ email: sub })
        .setProtectedHeader({ alg: 'ES256', kid })
        .setIssuer(iss).setAudience(aud).setSubject(sub)
        .setIssuedAt().setExpirationTime(exp)
        .sign(key.privateKey);
}

function listen(server) {
    servers.push(server);
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

before(async () => {
    certs = await makeCerts();
    signing = await generateKeyPair('ES256');
    stranger = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(signing.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    const jwksPort = await listen(https.createServer(
        { cert: certs.read('server.pem'), key: certs.read('server.key') },
        (req, res) => {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ keys: [jwk] }));
        }));
    // The "notebook": records what it received, echoes websocket messages.
    const app = http.createServer((req, res) => {
        targetSeen.push({ url: req.url, headers: req.headers });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ url: req.url, authorization: req.headers.authorization || null }));
    });
    const wss = new WebSocketServer({ server: app });
    wss.on('connection', (ws, req) => {
        targetSeen.push({ url: req.url, headers: req.headers, upgrade: true });
        ws.on('message', (m) => ws.send(`echo:${m}`));
    });
    const appPort = await listen(app);
    const rctoken = { jwksUrl: `https://localhost:${jwksPort}/.well-known/jwks.json`, issuer: ISSUER,
                      audience: AUDIENCE, jwksCa: certs.path('edge-ca.pem') };
    target = {
        checked: await startSidecar({ certs, cert: 'nb1-alice', target: `http://127.0.0.1:${appPort}`, rctoken }),
        open: await startSidecar({ certs, cert: 'nb1-alice', target: `http://127.0.0.1:${appPort}`,
                                   name: 'sidecar-open' }),
        mnist1: await startModelServer({ certs, version: 1, rctoken: { ...rctoken, audience: MNIST } }),
        mnist2: await startModelServer({ certs, version: 2 }),
    };
});

after(() => {
    for (const s of servers) s.closeAllConnections?.();
    for (const s of servers) s.close();
});

const mesh = (servername) => ({
    ca: certs.read('mesh-ca.pem'),
    cert: certs.read('gateway-client.pem'),
    key: certs.read('gateway-client.key'),
    servername,
});

function get(w, path, { servername = NB1, headers = {}, method, body } = {}) {
    return http1(`https://127.0.0.1:${w.port}${path}`, { ...mesh(servername), headers, method, body });
}

describe('sidecar', () => {
    test('a valid RCToken passes; the notebook never sees it; the log names the subject', async () => {
        targetSeen = [];
        const n = target.checked.log().length;
        const res = await get(target.checked, '/notebook/kubeflow-alice/nb1/tree?x=1',
                              { headers: { authorization: `Bearer ${await token()}` } });
        assert.equal(res.status, 200);
        assert.deepEqual(res.json(), { url: '/notebook/kubeflow-alice/nb1/tree?x=1', authorization: null });
        assert.equal(targetSeen.length, 1);
        assert.equal(targetSeen[0].headers.authorization, undefined);
        const last = await target.checked.logLine(n);
        assert.deepEqual(last.rctoken, { valid: true, sub: 'alice@example.com' });
        assert.equal(last.status, 200);
    });

    test('missing, foreign-signed, wrong-audience, wrong-issuer, expired or garbled tokens get 401', async () => {
        const cases = {
            missing: undefined,
            'foreign key': `Bearer ${await token({ key: stranger })}`,
            'wrong audience': `Bearer ${await token({ aud: 'nb1.kubeflow-bob.svc.cluster.local' })}`,
            'wrong issuer': `Bearer ${await token({ iss: 'https://evil.example' })}`,
            expired: `Bearer ${await token({ exp: Math.floor(Date.now() / 1000) - 120 })}`,
            garbled: 'Bearer not.a.jwt',
            basic: 'Basic YWxpY2U6eA==',
        };
        targetSeen = [];
        for (const [what, authorization] of Object.entries(cases)) {
            const n = target.checked.log().length;
            const res = await get(target.checked, '/notebook/kubeflow-alice/nb1/',
                                  { headers: authorization ? { authorization } : {} });
            assert.equal(res.status, 401, what);
            assert.equal(res.headers['www-authenticate'], 'Bearer', what);
            assert.equal(res.json().error, 'a valid RCToken is required', what);
            const line = await target.checked.logLine(n);
            assert.equal(line.rctoken.valid, false, what);
            assert.ok(!JSON.stringify(line).includes('eyJ'), `${what}: a token in the log`);
        }
        assert.equal(targetSeen.length, 0, 'a refused request reached the notebook');
    });

    test('websocket upgrades: passed through with a valid token, 401 without', async () => {
        const url = `wss://127.0.0.1:${target.checked.port}/notebook/kubeflow-alice/nb1/api/kernels/k/channels`;
        const ws = new WebSocket(url, { ...mesh(NB1), headers: { authorization: `Bearer ${await token()}` } });
        const reply = await new Promise((resolve, reject) => {
            ws.once('open', () => ws.send('6*7'));
            ws.once('message', (m) => resolve(String(m)));
            ws.once('error', reject);
        });
        assert.equal(reply, 'echo:6*7');
        ws.close();
        const refused = new WebSocket(url, mesh(NB1));
        const status = await new Promise((resolve) => {
            refused.once('unexpected-response', (_req, res) => resolve(res.statusCode));
            refused.once('open', () => resolve('open'));
            refused.once('error', () => resolve('error'));
        });
        assert.equal(status, 401);
    });

    test('without RCToken checking it proxies as is', async () => {
        const res = await get(target.open, '/notebook/kubeflow-alice/nb1/api');
        assert.equal(res.status, 200);
        assert.equal(res.json().url, '/notebook/kubeflow-alice/nb1/api');
    });

    test('a client without a mesh certificate is refused in the handshake', async () => {
        for (const w of [target.checked, target.mnist2]) {
            const outcome = await new Promise((resolve) => {
                const s = tls.connect({ host: '127.0.0.1', port: w.port, ca: certs.read('mesh-ca.pem'),
                                        servername: NB1, checkServerIdentity: () => undefined });
                s.once('secureConnect', () => {
                    // TLS 1.3: the server's refusal arrives after the client's Finished.
                    s.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
                });
                s.once('data', () => resolve('answered'));
                s.once('error', (e) => resolve(e.code || e.message));
                s.once('close', () => resolve('closed'));
            });
            assert.notEqual(outcome, 'answered', `${w.name} answered a client without a certificate`);
        }
    });
});

describe('model server', () => {
    const predict = (w, body, headers = {}) =>
        get(w, '/v1/models/mnist:predict', { servername: MNIST, method: 'POST', body: JSON.stringify(body),
                                             headers: { 'content-type': 'application/json', ...headers } });

    test('status and predict in the TF Serving REST shape, saying which version answered', async () => {
        const status = await get(target.mnist2, '/v1/models/mnist', { servername: MNIST });
        assert.equal(status.status, 200);
        assert.equal(status.json().model_version_status[0].version, '2');
        assert.equal(status.json().model_version_status[0].state, 'AVAILABLE');
        const res = await predict(target.mnist2, { instances: [new Array(784).fill(0), [[1, 2], [3, 1]]] });
        assert.equal(res.status, 200);
        assert.equal(res.headers['x-model-version'], '2');
        const out = res.json();
        assert.equal(out.model_version, '2');
        assert.equal(out.predictions.length, 2);
        assert.equal(out.predictions[0].length, 10);
        assert.equal(out.predictions[0].indexOf(Math.max(...out.predictions[0])), 0);
        assert.equal(out.predictions[1].indexOf(Math.max(...out.predictions[1])), 7);
    });

    test('bad requests get 400/404/405 JSON', async () => {
        assert.equal((await predict(target.mnist2, { instances: [] })).status, 400);
        assert.equal((await predict(target.mnist2, { instances: [['x']] })).status, 400);
        assert.equal((await predict(target.mnist2, { inputs: [1] })).status, 400);
        assert.equal((await get(target.mnist2, '/v1/models/other', { servername: MNIST })).status, 404);
        assert.equal((await get(target.mnist2, '/v1/models/mnist:predict', { servername: MNIST })).status, 405);
    });

    test('with RCToken checking: the subject is logged for a valid token, 401 otherwise', async () => {
        let n = target.mnist1.log().length;
        const ok = await predict(target.mnist1, { instances: [[1]] },
                                 { authorization: `Bearer ${await token({ aud: MNIST })}` });
        assert.equal(ok.status, 200);
        assert.equal(ok.json().model_version, '1');
        const line = await target.mnist1.logLine(n);
        assert.deepEqual(line.rctoken, { valid: true, sub: 'alice@example.com', aud: MNIST });
        assert.equal(line.status, 200);
        assert.equal((await predict(target.mnist1, { instances: [[1]] })).status, 401);
        const notebookToken = await predict(target.mnist1, { instances: [[1]] },
                                            { authorization: `Bearer ${await token()}` });
        assert.equal(notebookToken.status, 401, 'a token for another audience');
        n += 3;
        assert.equal((await target.mnist1.logLine(n - 1)).rctoken.valid, false);
    });
});
