// Outlier detection: an endpoint that keeps failing is ejected for
// baseEjectionTime (longer each time) and traffic shifts to the healthy ones;
// with every endpoint ejected the gateway answers 503 without trying.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { makeCerts } from './lib/certs.mjs';
import { edgeConfig, startGateway } from './lib/gateway.mjs';
import { h2 } from './lib/http.mjs';
import { freePort } from './lib/net.mjs';
import { startUpstream } from './lib/upstream.mjs';

let gw;
let client;

function docs(certs, name, host, endpoints, outlier) {
    return `---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: ${name}, namespace: kubeflow-alice}
spec:
  hosts: [${host}]
  resolution: STATIC
  ports: [{number: 8500, name: http, protocol: HTTP}]
  endpoints:
${endpoints.map((port) => `  - {address: 127.0.0.1, ports: {http: ${port}}}`).join('\n')}
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: ${name}, namespace: kubeflow-alice}
spec:
  host: ${host}
  trafficPolicy:
    outlierDetection: ${outlier}
    tls:
      mode: MUTUAL
      clientCertificate: "${certs.path('gateway-client.pem')}"
      privateKey: "${certs.path('gateway-client.key')}"
      caCertificates: "${certs.path('mesh-ca.pem')}"
      sni: mnist.kubeflow-alice.svc.cluster.local
      subjectAltNames: [spiffe://cluster.local/ns/kubeflow-alice/sa/default-editor]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: ${name}, namespace: kubeflow-alice}
spec:
  hosts: ["*"]
  gateways: [istio-system/tenantgate]
  http:
  - match: [{uri: {prefix: /${name}/}}]
    route: [{destination: {host: ${host}}}]
`;
}

before(async () => {
    const certs = await makeCerts();
    const live = await startUpstream({ name: 'mnist-live', cert: 'mnist-alice', certs });
    const [dead1, dead2] = [await freePort(), await freePort()]; // nothing listens there
    gw = await startGateway({ config: (p) => edgeConfig({ ...p, certs, services: [], threads: 1 })
        + docs(certs, 'mixed', 'mixed.kubeflow-alice.svc.cluster.local', [live.port, dead1],
               '{consecutive5xxErrors: 3, baseEjectionTime: 2s, maxEjectionPercent: 50}')
        + docs(certs, 'dead', 'dead.kubeflow-alice.svc.cluster.local', [dead1, dead2],
               '{consecutiveGatewayErrors: 2, baseEjectionTime: 30s, maxEjectionPercent: 100}') });
    client = { ca: certs.read('edge-ca.pem'), servername: 'localhost' };
});

async function statuses(path, n) {
    const out = [];
    for (let i = 0; i < n; i++) out.push((await h2(gw.origin, { ...client, path: `${path}${i}` })).status);
    return out;
}

test('a failing endpoint is ejected after consecutive errors and traffic shifts to the healthy one', async () => {
    const first = await statuses('/mixed/a', 40);
    const failures = first.filter((s) => s === 502).length;
    assert.equal(failures, 3, `statuses: ${first.join(' ')}`);
    assert.deepEqual(first.slice(-30), Array(30).fill(200));
    assert.match(gw.child.stderr(), /ejected for 2000 ms after consecutive errors/);
});

test('after baseEjectionTime the endpoint is tried again and ejected for longer', async () => {
    await new Promise((r) => setTimeout(r, 2300));
    const again = await statuses('/mixed/b', 20);
    const failures = again.filter((s) => s === 502).length;
    assert.equal(failures, 3, `statuses: ${again.join(' ')}`);
    assert.match(gw.child.stderr(), /ejected for 4000 ms after consecutive errors/);
});

test('with every endpoint ejected the answer is 503, at once', async () => {
    const seen = await statuses('/dead/x', 8);
    assert.deepEqual(seen.slice(0, 4), [502, 502, 502, 502], `statuses: ${seen.join(' ')}`);
    assert.deepEqual(seen.slice(4), [503, 503, 503, 503], `statuses: ${seen.join(' ')}`);
});
