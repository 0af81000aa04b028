// Self-check of the mTLS echo upstream (tests/fixtures/upstream.mjs): it must
// really demand a mesh client certificate, or the gateway's mTLS tests prove nothing.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import https from 'node:https';
import { join } from 'node:path';
import { before, test } from 'node:test';
import WebSocket from 'ws';
import { makeCerts } from './lib/certs.mjs';
import { runCommand, sourceDir } from './lib/procs.mjs';
import { startUpstream } from './lib/upstream.mjs';

const HOST = 'mnist.kubeflow-alice.svc.cluster.local';
let certs;
let up;

before(async () => {
    certs = await makeCerts();
    up = await startUpstream({ name: 'mnist-alice', cert: 'mnist-alice', certs });
});

// Client TLS options: trust the mesh CA, check the workload's name, present `client` (if any).
function meshClient(client) {
    const o = { ca: certs.read('mesh-ca.pem'), servername: HOST };
    if (client) {
        o.cert = certs.read(`${client}.pem`);
        o.key = certs.read(`${client}.key`);
    }
    return o;
}

function get(path, tlsOptions, extra = {}) {
    return new Promise((resolve, reject) => {
        const req = https.request({
            host: '127.0.0.1', port: up.port, path, method: extra.method || 'GET', agent: false,
            headers: extra.headers || {}, ...tlsOptions,
        }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
                                          body: Buffer.concat(chunks).toString() }));
        });
        req.setTimeout(5000, () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end(extra.body);
    });
}

test('a mesh client certificate gets the JSON echo', async () => {
    const body = 'x'.repeat(1000);
    const res = await get('/serving/kubeflow-alice/mnist/x?y=1', meshClient('gateway-client'), {
        method: 'POST', body, headers: { 'x-probe': 'p1', 'content-length': String(body.length) },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-upstream-name'], 'mnist-alice');
    const echo = JSON.parse(res.body);
    assert.equal(echo.upstream, 'mnist-alice');
    assert.equal(echo.method, 'POST');
    assert.equal(echo.url, '/serving/kubeflow-alice/mnist/x?y=1');
    assert.equal(echo.headers['x-probe'], 'p1');
    assert.equal(echo.bodyLength, 1000);
    assert.equal(echo.bodySha256, createHash('sha256').update(body).digest('hex'));
    assert.match(echo.clientCert.subjectaltname, /URI:spiffe:\/\/cluster\.local\/ns\/istio-system\/sa\/tenantgate/);
    await up.settled();
    assert.ok(up.requests().includes('REQ POST /serving/kubeflow-alice/mnist/x?y=1'));
});

// Each of these must be refused at the TLS layer: no HTTP answer at all.
const refused = [
    { why: 'no client certificate', client: null },
    { why: 'a certificate from another CA', client: 'wrong-ca' },
    { why: 'a mesh workload certificate without clientAuth', client: 'nb1-bob' },
];
for (const { why, client } of refused) {
    test(`a client with ${why} is refused`, async () => {
        const before = await up.count();
        await assert.rejects(get('/refused', meshClient(client)), (e) => {
            assert.ok(e.code || e.message, 'an error');
            return true;
        });
        assert.equal(await up.count(), before, 'the refused request must not reach the handler');
    });
}

test('the server certificate is the workload\'s and checks out against the mesh CA', async () => {
    // a wrong expected name must fail: proves the client side really checks
    await assert.rejects(get('/', { ...meshClient('gateway-client'), servername: 'nb1.kubeflow-bob.svc.cluster.local' }),
                         /ERR_TLS_CERT_ALTNAME_INVALID|altname|does not match/i);
    const ok = await get('/', meshClient('gateway-client'));
    assert.equal(ok.status, 200);
});

test('websocket messages are echoed with their type', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${up.port}/notebook/kubeflow-alice/nb1/api/kernels/k1/channels`,
                             { ...meshClient('gateway-client') });
    const upgrade = new Promise((resolve) => ws.once('upgrade', (res) => resolve(res.headers)));
    await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
    });
    assert.equal((await upgrade)['x-upstream-name'], 'mnist-alice');
    const next = () => new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data, isBinary })));
    let m = next();
    ws.send('hello kernel');
    m = await m;
    assert.equal(m.isBinary, false);
    assert.equal(m.data.toString(), 'hello kernel');
    m = next();
    ws.send(Buffer.from([0, 1, 2, 255]));
    m = await m;
    assert.equal(m.isBinary, true);
    assert.deepEqual([...m.data], [0, 1, 2, 255]);
    ws.close();
    await up.settled();
    assert.ok(up.requests().includes('UPGRADE /notebook/kubeflow-alice/nb1/api/kernels/k1/channels'));
});

test('it exits 0 on SIGTERM even with an open keep-alive connection', async () => {
    const other = await startUpstream({ name: 'short-lived', cert: 'nb1-alice', certs });
    const agent = new https.Agent({ keepAlive: true });
    try {
        await new Promise((resolve, reject) => {
            https.get({ host: '127.0.0.1', port: other.port, path: '/', agent, ...meshClient('gateway-client'),
                        servername: 'nb1.kubeflow-alice.svc.cluster.local' }, (res) => {
                res.resume();
                res.on('end', resolve);
            }).on('error', reject);
        });
        const t0 = Date.now();
        const r = await other.child.stop('SIGTERM', 3000);
        assert.equal(r.killed, false, 'needed SIGKILL');
        assert.equal(r.code, 0);
        assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
    } finally {
        agent.destroy();
    }
});

test('bad arguments exit 2 with a usage line', async () => {
    const r = await runCommand('upstream-bad-args', process.execPath,
                               [join(sourceDir, 'tests', 'fixtures', 'upstream.mjs'), '--port', 'x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /usage: upstream\.mjs --port N/);
});
