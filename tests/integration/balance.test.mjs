// Endpoint load balancing inside a subset (DestinationRule loadBalancer):
// with one fast and one slow endpoint (every answer held back 150 ms), a
// ROUND_ROBIN subset gives each exactly half of one worker's requests, while
// a LEAST_REQUEST subset (inheriting the rule's policy) sends the slow one far
// fewer, since it always has requests in flight.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeCerts } from './lib/certs.mjs';
import { edgeConfig, startGateway } from './lib/gateway.mjs';
import { ALICE_MNIST, aliceVirtualService, countUpstreams, versionedMnistDocs } from './lib/stack.mjs';
import { startUpstream } from './lib/upstream.mjs';

let gw;
let client;

const route = (prefix, subset) => `  - match: [{uri: {prefix: ${prefix}}}]
    route: [{destination: {host: ${ALICE_MNIST}, subset: ${subset}}}]`;

before(async () => {
    const certs = await makeCerts();
    const [fast, slow] = await Promise.all([
        startUpstream({ name: 'mnist-fast', cert: 'mnist-alice', certs }),
        startUpstream({ name: 'mnist-slow', cert: 'mnist-alice', certs, delayMs: 150 }),
    ]);
    const docs = versionedMnistDocs(certs, { fast, slow }, {
        policy: '    loadBalancer: {simple: LEAST_REQUEST}\n',
        subsets: ['{name: rr, trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}}', '{name: lr}'],
    });
    docs.push(aliceVirtualService(`${route('/rr/', 'rr')}\n${route('/lr/', 'lr')}`));
    // one worker: the round robin and the in-flight counts are per worker
    gw = await startGateway({ config: (p) => edgeConfig({ ...p, certs, threads: 1, extraDocs: docs }) });
    client = { ca: certs.read('edge-ca.pem'), servername: 'localhost' };
});

after(async () => {
    await gw?.stop();
});

/** n requests to prefix, 8 in flight on one HTTP/2 connection; counts answers by upstream. */
const count = (prefix, n) => countUpstreams(gw.origin, client, prefix, n, { connections: 1, inFlight: 8 });

test('ROUND_ROBIN gives the slow endpoint exactly its turn', async () => {
    const counts = await count('/rr/', 100);
    assert.deepEqual(counts, { 'mnist-fast': 50, 'mnist-slow': 50 });
});

test('LEAST_REQUEST sends the slow endpoint far fewer requests', async () => {
    const counts = await count('/lr/', 200);
    const slow = counts['mnist-slow'] || 0;
    assert.equal((counts['mnist-fast'] || 0) + slow, 200);
    assert.ok(slow > 0, 'the slow endpoint is still used');
    assert.ok(slow < 50, `the slow endpoint got ${slow} of 200: ${JSON.stringify(counts)}`);
});
