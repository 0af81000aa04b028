// Weighted canary splits: over 10,000 requests the seed's 95/5 VirtualService
// and a 50/50 one land within one percentage point of their weights (the
// gateway splits by smooth weighted round robin per worker, so they are
// near exact), and a header match sends an A/B audience to one subset.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { makeCerts } from './lib/certs.mjs';
import { edgeConfig, startGateway } from './lib/gateway.mjs';
import { aliceVirtualService, countUpstreams, versionedMnistDocs } from './lib/stack.mjs';
import { startUpstream } from './lib/upstream.mjs';

const HOST = 'mnist.kubeflow-alice.svc.cluster.local';
let gw;
let client;

function splitDocs(certs, v1, v2) {
    const dest = (subset, weight) =>
        `    - destination: {host: ${HOST}, subset: ${subset}}\n      weight: ${weight}`;
    return [...versionedMnistDocs(certs, { v1, v2 }), aliceVirtualService(`  - name: ab-beta-testers
    match:
    - uri: {prefix: /serving/kubeflow-alice/mnist/}
      headers: {cookie: {regex: ".*ab-group=beta.*"}}
    route:
    - destination: {host: ${HOST}, subset: v2}
  - name: canary
    match: [{uri: {prefix: /serving/kubeflow-alice/mnist/}}]
    route:
${dest('v1', 95)}
${dest('v2', 5)}
  - name: even
    match: [{uri: {prefix: /even/}}]
    route:
${dest('v1', 50)}
${dest('v2', 50)}`)].join('---\n');
}

before(async () => {
    const certs = await makeCerts();
    const [v1, v2] = await Promise.all(['mnist-v1', 'mnist-v2'].map(
        (name) => startUpstream({ name, cert: 'mnist-alice', certs })));
    gw = await startGateway({ config: (p) => edgeConfig({ ...p, certs, services: [], extraDocs: [splitDocs(certs, v1, v2)] }) });
    client = { ca: certs.read('edge-ca.pem'), servername: 'localhost' };
});

const count = (path, n, headers) => countUpstreams(gw.origin, client, path, n, { headers });

test('the seed 95/5 split holds over 10,000 requests (within 1 percentage point)', async () => {
    const counts = await count('/serving/kubeflow-alice/mnist/v1/models/mnist?i=', 10000);
    const share = (counts['mnist-v2'] || 0) / 10000;
    assert.ok(Math.abs(share - 0.05) <= 0.01, `v2 got ${(share * 100).toFixed(2)}%: ${JSON.stringify(counts)}`);
    assert.equal((counts['mnist-v1'] || 0) + (counts['mnist-v2'] || 0), 10000);
});

test('a 50/50 split holds over 10,000 requests (within 1 percentage point)', async () => {
    const counts = await count('/even/', 10000);
    const share = (counts['mnist-v1'] || 0) / 10000;
    assert.ok(Math.abs(share - 0.5) <= 0.01, `v1 got ${(share * 100).toFixed(2)}%: ${JSON.stringify(counts)}`);
});

test('a header (cookie) match sends the A/B audience to v2 only', async () => {
    const counts = await count('/serving/kubeflow-alice/mnist/x?i=', 200, { cookie: 'theme=dark; ab-group=beta' });
    assert.deepEqual(counts, { 'mnist-v2': 200 });
});
