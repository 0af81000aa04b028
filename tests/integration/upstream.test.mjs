// Upstream mTLS: the gateway presents its mesh identity and checks the
// upstream's CA and SPIFFE identity; failures are a generic 502. Websockets
// are proxied to the workload.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import WebSocket from 'ws';
import { assertErrorPage, assertGenericBody, echoFrom } from './lib/checks.mjs';
import { spiffe } from './lib/gateway.mjs';
import { h2, http1 } from './lib/http.mjs';
import { freePort } from './lib/net.mjs';
import { ALICE_MNIST, startEdgeStack } from './lib/stack.mjs';

const ALICE_SA = spiffe('kubeflow-alice', 'default-editor');
let s;
let deadPort;

before(async () => {
    deadPort = await freePort(); // nothing listens there
    s = await startEdgeStack({
        extraUpstreams: [
            { name: 'wrong-ca', cert: 'wrong-ca' },
            { name: 'wrong-identity', cert: 'wrong-identity' },
        ],
        extraServices: (up) => [
            // serves mnist's names from a CA the gateway does not trust
            { name: 'wrongca', namespace: 'kubeflow-alice', host: 'wrongca.kubeflow-alice.svc.cluster.local',
              port: up['wrong-ca'].port, prefix: '/serving/kubeflow-alice/wrongca/', sni: ALICE_MNIST,
              subjectAltNames: [ALICE_SA] },
            // mesh CA, but bob's "evil" identity where alice's is expected
            { name: 'wrongid', namespace: 'kubeflow-alice', host: 'wrongid.kubeflow-alice.svc.cluster.local',
              port: up['wrong-identity'].port, prefix: '/serving/kubeflow-alice/wrongid/', sni: ALICE_MNIST,
              subjectAltNames: [ALICE_SA] },
            // the SNI/DNS name matches the certificate; only the SPIFFE ID (service account) is wrong
            { name: 'evil', namespace: 'kubeflow-bob', host: 'evil.kubeflow-bob.svc.cluster.local',
              port: up['wrong-identity'].port, prefix: '/serving/kubeflow-bob/evil/',
              subjectAltNames: [spiffe('kubeflow-bob', 'default-editor')] },
            // nobody listens
            { name: 'down', namespace: 'kubeflow-alice', host: 'down.kubeflow-alice.svc.cluster.local',
              port: deadPort, prefix: '/serving/kubeflow-alice/down/', connectTimeout: '1s' },
        ],
    });
});

test('mTLS: the upstream sees the gateway\'s client certificate', async () => {
    const res = await http1(`${s.gw.origin}/serving/kubeflow-alice/mnist/v1/models/mnist`, s.client);
    const echo = echoFrom(res, 'mnist-alice');
    assert.match(echo.clientCert.subjectaltname, /(^|, )URI:spiffe:\/\/cluster\.local\/ns\/istio-system\/sa\/tenantgate($|,)/);
});

test('mTLS: several requests over h2 on one connection all reach the upstream', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
        h2(s.gw.origin, { ...s.client, path: `/serving/kubeflow-alice/mnist/r${i}` })));
    results.forEach((res, i) => assert.equal(echoFrom(res, 'mnist-alice').url, `/serving/kubeflow-alice/mnist/r${i}`));
});

const failures = [
    ['an upstream certificate from another CA', '/serving/kubeflow-alice/wrongca', 'wrong-ca'],
    ['an upstream with the wrong identity (name and SPIFFE ID)', '/serving/kubeflow-alice/wrongid', 'wrong-identity'],
    ['an upstream whose DNS name matches but SPIFFE ID does not', '/serving/kubeflow-bob/evil', 'wrong-identity'],
    ['an upstream that refuses connections', '/serving/kubeflow-alice/down', null],
];
for (const [what, route, fixture] of failures) {
    test(`502 for ${what}, with a generic body`, async () => {
        const before = fixture ? await s.up[fixture].count() : 0;
        const url = `${s.gw.origin}${route}/v1/models/x`;
        const json = assertErrorPage(await http1(url, { ...s.client, headers: { accept: 'application/json' } }), 502,
                                     { json: true });
        assertGenericBody(JSON.stringify(json));
        const html = assertErrorPage(await http1(url, { ...s.client, headers: { accept: 'text/html' } }), 502);
        assertGenericBody(html);
        const viaH2 = await h2(s.gw.origin, { ...s.client, path: `${route}/h2` });
        assertErrorPage(viaH2, 502);
        assertGenericBody(viaH2.body);
        if (fixture) {
            assert.equal(await s.up[fixture].count(), before, 'the request was sent to an untrusted upstream');
        }
    });
}

test('the good upstream still works after the failures', async () => {
    const res = await h2(s.gw.origin, { ...s.client, path: '/serving/kubeflow-alice/mnist/after' });
    echoFrom(res, 'mnist-alice');
});

function openWs(path) {
    const ws = new WebSocket(`wss://127.0.0.1:${s.gw.httpsPort}${path}`, { ...s.client });
    return new Promise((resolve, reject) => {
        ws.once('open', () => resolve(ws));
        ws.once('unexpected-response', (req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
        ws.once('error', reject);
    });
}

function nextMessage(ws) {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no echo within 5 s')), 5000);
        ws.once('message', (data, isBinary) => {
            clearTimeout(timer);
            resolve({ data, isBinary });
        });
    });
}

test('websocket: messages are echoed through the gateway by the right workload', async () => {
    const path = '/notebook/kubeflow-alice/nb1/api/kernels/k1/channels?session_id=s1';
    const ws = await openWs(path);
    try {
        for (const msg of ['{"msg_type":"execute_request"}', 'x'.repeat(70000)]) {
            const m = nextMessage(ws);
            ws.send(msg);
            const got = await m;
            assert.equal(got.isBinary, false);
            assert.equal(got.data.toString(), msg);
        }
        const m = nextMessage(ws);
        ws.send(Buffer.from([0, 255, 1, 254]));
        const got = await m;
        assert.equal(got.isBinary, true);
        assert.deepEqual([...got.data], [0, 255, 1, 254]);
    } finally {
        ws.close();
    }
    await Promise.all([s.up['nb1-alice'].settled(), s.up['nb1-bob'].settled()]);
    assert.ok(s.up['nb1-alice'].requests().includes(`UPGRADE ${path}`), s.up['nb1-alice'].requests().join('\n'));
    assert.ok(!s.up['nb1-bob'].requests().some((l) => l.startsWith('UPGRADE')), 'bob\'s notebook got the upgrade');
});

test('websocket: an upgrade to an unrouted path is refused', async () => {
    await assert.rejects(openWs('/notebook/kubeflow-carol/nb1/api/kernels/k1/channels'), /upgrade answered 404/);
});
