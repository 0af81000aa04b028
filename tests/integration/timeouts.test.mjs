// Time on the upstream side: a route's timeout turns a slow upstream into a
// generic 504, a rewrite reaches the upstream, and a stopping gateway lets a
// request in flight finish before it exits.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { assertErrorPage, assertGenericBody, echoFrom } from './lib/checks.mjs';
import { h2 } from './lib/http.mjs';
import { ALICE_MNIST, startEdgeStack } from './lib/stack.mjs';

let s;
before(async () => {
    s = await startEdgeStack({
        extraServices: (up) => [
            { name: 'slow', namespace: 'kubeflow-alice', host: ALICE_MNIST.replace('mnist', 'slow'),
              port: up['mnist-alice'].port, prefix: '/slow/', timeout: '1s', sni: ALICE_MNIST },
            { name: 'models', namespace: 'kubeflow-alice', host: ALICE_MNIST.replace('mnist', 'models'),
              port: up['mnist-alice'].port, prefix: '/models/kubeflow-alice/mnist/', rewrite: '/v1/models/mnist',
              sni: ALICE_MNIST },
        ],
    });
});

test('an upstream slower than the route timeout -> 504 with a generic body, in about the timeout', async () => {
    const started = Date.now();
    const res = await h2(s.gw.origin, { ...s.client, path: '/slow/x',
                                        headers: { 'x-test-delay-ms': '3000', accept: 'application/json' } });
    const elapsed = Date.now() - started;
    const body = assertErrorPage(res, 504, { json: true });
    assert.equal(body.status, 504);
    assertGenericBody(JSON.stringify(body));
    assert.ok(elapsed >= 900 && elapsed < 2500, `answered after ${elapsed} ms`);
});

test('an upstream within the route timeout answers normally', async () => {
    const res = await h2(s.gw.origin, { ...s.client, path: '/slow/y', headers: { 'x-test-delay-ms': '200' } });
    assert.equal(echoFrom(res, 'mnist-alice').url, '/slow/y');
});

test('rewrite.uri replaces the matched prefix', async () => {
    const res = await h2(s.gw.origin, { ...s.client, path: '/models/kubeflow-alice/mnist/:predict?x=1' });
    assert.equal(echoFrom(res, 'mnist-alice').url, '/v1/models/mnist:predict?x=1');
});

test('SIGTERM lets a request in flight finish, then the gateway exits 0', async () => {
    const inflight = h2(s.gw.origin, { ...s.client, path: '/serving/kubeflow-alice/mnist/slow',
                                       headers: { 'x-test-delay-ms': '1500' } });
    await new Promise((r) => setTimeout(r, 300));
    const stopped = s.gw.child.stop('SIGTERM', 8000);
    const res = await inflight;
    assert.equal(echoFrom(res, 'mnist-alice').url, '/serving/kubeflow-alice/mnist/slow');
    const r = await stopped;
    assert.equal(r.killed, false);
    assert.equal(r.code, 0, s.gw.child.stderr().slice(-2000));
});
