// The usual edge stack of the integration tests: certificates, the three
// tenant workloads (mnist and nb1 of kubeflow-alice, nb1 of kubeflow-bob) and
// a gateway routing to them over mTLS.
import { makeCerts } from './certs.mjs';
import assert from 'node:assert/strict';
import { edgeConfig, spiffe, startGateway } from './gateway.mjs';
import { h2, h2Connect } from './http.mjs';
import { startUpstream } from './upstream.mjs';

export const ALICE_MNIST = 'mnist.kubeflow-alice.svc.cluster.local';
export const ALICE_NB1 = 'nb1.kubeflow-alice.svc.cluster.local';
export const BOB_NB1 = 'nb1.kubeflow-bob.svc.cluster.local';

/** The route table of the usual stack, given the started upstreams by name. */
export function standardServices(up) {
    return [
        { name: 'mnist', namespace: 'kubeflow-alice', host: ALICE_MNIST, port: up['mnist-alice'].port,
          prefix: '/serving/kubeflow-alice/mnist/' },
        { name: 'nb1', namespace: 'kubeflow-alice', host: ALICE_NB1, port: up['nb1-alice'].port,
          prefix: '/notebook/kubeflow-alice/nb1/' },
        { name: 'nb1', namespace: 'kubeflow-bob', host: BOB_NB1, port: up['nb1-bob'].port,
          prefix: '/notebook/kubeflow-bob/' },
    ];
}

/** Starts the three tenant workloads (and extra [{name, cert}] fixtures): resolves them by name. */
export async function startStandardUpstreams(certs, extra = []) {
    const wanted = [
        { name: 'mnist-alice', cert: 'mnist-alice' },
        { name: 'nb1-alice', cert: 'nb1-alice' },
        { name: 'nb1-bob', cert: 'nb1-bob' },
        ...extra,
    ];
    const started = await Promise.all(wanted.map((w) => startUpstream({ ...w, certs })));
    return Object.fromEntries(started.map((u) => [u.name, u]));
}

/**
 * Starts the usual stack. extraUpstreams: [{name, cert}] more fixtures;
 * extraServices(up): more service entries; limits/stripHeaders: passed to edgeConfig.
 * Resolves {certs, up (by name), gw, client}; client = {ca, servername} are the TLS
 * options of a browser trusting the edge CA and asking for localhost.
 */
export async function startEdgeStack({ extraUpstreams = [], extraServices = () => [], limits, stripHeaders } = {}) {
    const certs = await makeCerts();
    const up = await startStandardUpstreams(certs, extraUpstreams);
    const gw = await startGateway({
        config: (ports) => edgeConfig({
            ...ports, certs, limits, stripHeaders,
            services: [...standardServices(up), ...extraServices(up)],
        }),
    });
    return { certs, up, gw, client: { ca: certs.read('edge-ca.pem'), servername: 'localhost' } };
}

/**
 * The ServiceEntry and DestinationRule (mTLS) of ALICE_MNIST served by one
 * upstream per version, for split and balancing tests: [yaml, yaml].
 * endpoints: {version: upstream} (anything with a port, and optionally
 * labels: more "key: value" YAML), each labelled version: <key>. options.subsets: subset entries as YAML flow maps (default:
 * one per version); options.policy: more trafficPolicy lines (4 spaces in).
 */
export function versionedMnistDocs(certs, endpoints, { subsets, policy = '' } = {}) {
    const q = (s) => JSON.stringify(String(s));
    const subsetList = subsets || Object.keys(endpoints).map((v) => `{name: ${v}, labels: {version: ${v}}}`);
    return [`apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: mnist, namespace: kubeflow-alice}
spec:
  hosts: [${ALICE_MNIST}]
  resolution: STATIC
  ports: [{number: 8500, name: http, protocol: HTTP}]
  endpoints:
${Object.entries(endpoints).map(([version, u]) =>
        `  - {address: 127.0.0.1, ports: {http: ${u.port}}, labels: {version: ${version}${u.labels ? `, ${u.labels}` : ''}}}`)
        .join('\n')}
`, `apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: mnist, namespace: kubeflow-alice}
spec:
  host: ${ALICE_MNIST}
  trafficPolicy:
    tls:
      mode: MUTUAL
      clientCertificate: ${q(certs.path('gateway-client.pem'))}
      privateKey: ${q(certs.path('gateway-client.key'))}
      caCertificates: ${q(certs.path('mesh-ca.pem'))}
      subjectAltNames: [${spiffe('kubeflow-alice', 'default-editor')}]
${policy}  subsets:
${subsetList.map((entry) => `  - ${entry}`).join('\n')}
`];
}

/**
 * Sends n GETs to `${prefix}${i}` over `connections` HTTP/2 connections with
 * `inFlight` requests in flight on each (this tests splits, not load); every
 * answer must be 200. Resolves the counts by x-upstream-name.
 */
export async function countUpstreams(origin, client, prefix, n, { connections = 4, inFlight = 10, headers = {} } = {}) {
    const counts = {};
    const sessions = await Promise.all(Array.from({ length: connections }, () => h2Connect(origin, client)));
    let sent = 0;
    const worker = async (session) => {
        while (sent < n) {
            sent += 1;
            const res = await h2(origin, { ...client, session, path: `${prefix}${sent}`, headers });
            assert.equal(res.status, 200);
            const name = res.headers['x-upstream-name'];
            counts[name] = (counts[name] || 0) + 1;
        }
    };
    await Promise.all(sessions.flatMap((session) => Array.from({ length: inFlight }, () => worker(session))));
    for (const session of sessions) session.destroy();
    return counts;
}

/**
 * A VirtualService of kubeflow-alice bound to the test Gateway, with the given
 * http route lines (YAML, two spaces in, each route starting "  - ");
 * annotations: YAML flow map text, e.g. "{tenantgate.io/sticky-split: user}".
 */
export function aliceVirtualService(http, { name = 'mnist', annotations } = {}) {
    const meta = annotations
        ? `metadata:\n  name: ${name}\n  namespace: kubeflow-alice\n  annotations: ${annotations}`
        : `metadata: {name: ${name}, namespace: kubeflow-alice}`;
    return `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
${meta}
spec:
  hosts: ["*"]
  gateways: [istio-system/tenantgate]
  http:
${http.replace(/\n?$/, '\n')}`;
}
