// Runs the tenantgate binary under test: config rendering, start + readiness, --check-config.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifactsDir, runCommand, spawnLogged } from './procs.mjs';
import { freePorts, sleep } from './net.mjs';

/** Path of the binary under test ($TENANTGATE_BIN). */
export function gatewayBin() {
    const bin = process.env.TENANTGATE_BIN;
    if (!bin) throw new Error('TENANTGATE_BIN is not set: run the integration tests through ctest');
    return bin;
}

export const spiffe = (ns, sa) => `spiffe://cluster.local/ns/${ns}/sa/${sa}`;

const q = (s) => JSON.stringify(String(s));

/**
 * The YAML of an edge gateway: TenantGate settings, a Gateway with an HTTPS
 * and an HTTP (redirecting) listener, and per service a ServiceEntry,
 * DestinationRule (mTLS with the mesh CA) and VirtualService.
 *   ports: {adminPort, httpsPort, httpPort}; certs: makeCerts() result;
 *   limits: overrides of the TenantGate limits; stripHeaders: list;
 *   services: [{name, namespace, host, port, prefix, sni?, subjectAltNames?,
 *               connectTimeout?, tls? ('MUTUAL' | 'DISABLE'), timeout? (route, e.g. '1s'), rewrite? (uri)}]
 *   spec: more TenantGate spec members, as YAML lines indented by two spaces (e.g. "  rctoken: {...}\n");
 *   extraDocs: more YAML documents (strings without "---"), appended in order.
 */
export function edgeConfig({ adminPort, httpsPort, httpPort, certs, limits = {}, stripHeaders = ['x-forwarded-user'],
                             services = [], threads = 2, spec = '', extraDocs = [] }) {
    const lim = {
        maxHeaderBytes: 16384,
        maxHeaderCount: 100,
        maxBodyBytes: 1048576,
        requestTimeout: '30s',
        idleTimeout: '60s',
        ...limits,
    };
    const docs = [];
    docs.push(`apiVersion: tenantgate.io/v1alpha1
kind: TenantGate
metadata: {name: edge}
spec:
  admin: {address: 127.0.0.1, port: ${adminPort}}
  threads: ${threads}
  limits: {${Object.entries(lim).map(([k, v]) => `${k}: ${v}`).join(', ')}}
  stripHeaders: [${stripHeaders.join(', ')}]
${spec}`);
    docs.push(`apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: tenantgate, namespace: istio-system}
spec:
  servers:
  - port: {number: ${httpsPort}, name: https, protocol: HTTPS}
    bind: 127.0.0.1
    hosts: ["*"]
    tls: {mode: SIMPLE, serverCertificate: ${q(certs.path('server.pem'))}, privateKey: ${q(certs.path('server.key'))}}
  - port: {number: ${httpPort}, name: http, protocol: HTTP}
    bind: 127.0.0.1
    hosts: ["*"]
    tls: {httpsRedirect: true}
`);
    for (const s of services) {
        const sans = s.subjectAltNames || [spiffe(s.namespace, 'default-editor')];
        docs.push(`apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: ${s.name}, namespace: ${s.namespace}}
spec:
  hosts: [${s.host}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 8500, name: http, protocol: HTTP}]
  endpoints:
  - address: 127.0.0.1
    ports: {http: ${s.port}}
    labels: {version: v1}
`);
        const tlsBlock = (s.tls || 'MUTUAL') === 'MUTUAL'
            ? `    tls:
      mode: MUTUAL
      clientCertificate: ${q(certs.path('gateway-client.pem'))}
      privateKey: ${q(certs.path('gateway-client.key'))}
      caCertificates: ${q(certs.path('mesh-ca.pem'))}
      sni: ${s.sni || s.host}
      subjectAltNames: [${sans.map(q).join(', ')}]
`
            : `    tls: {mode: DISABLE}
`;
        docs.push(`apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: ${s.name}, namespace: ${s.namespace}}
spec:
  host: ${s.host}
  trafficPolicy:
    connectionPool: {tcp: {connectTimeout: ${s.connectTimeout || '2s'}}}
${tlsBlock}  subsets: [{name: v1, labels: {version: v1}}]
`);
        docs.push(`apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: ${s.name}, namespace: ${s.namespace}}
spec:
  hosts: ["*"]
  gateways: [istio-system/tenantgate]
  http:
  - match: [{uri: {prefix: ${s.prefix}}}]
    route: [{destination: {host: ${s.host}, subset: v1}}]
${s.timeout ? `    timeout: ${s.timeout}\n` : ''}${s.rewrite ? `    rewrite: {uri: ${s.rewrite}}\n` : ''}`);
    }
    docs.push(...extraDocs);
    return docs.join('---\n');
}

let configCount = 0;
let configDir = null;

/**
 * Writes text to a private temp dir (removed at exit) and returns its path; a
 * copy goes to tests/artifacts/<test>/ for reading after a failure. The
 * gateway never reads the copy, so a concurrent run of the same test that
 * empties the artifacts folder cannot pull a config from under it.
 */
export function writeConfig(text, name = 'gateway') {
    if (!configDir) {
        configDir = mkdtempSync(join(tmpdir(), 'tg-config-'));
        process.on('exit', () => rmSync(configDir, { recursive: true, force: true }));
    }
    configCount += 1;
    const base = `${name}-${configCount}.yaml`;
    const file = join(configDir, base);
    writeFileSync(file, text);
    writeFileSync(join(artifactsDir(), base), text);
    return file;
}

// One GET /readyz on a connection of its own (Connection: close): a pooled
// keep-alive socket would be an idle client the gateway has to drain at exit.
function readyz(adminPort) {
    return new Promise((resolve) => {
        const req = http.get({ host: '127.0.0.1', port: adminPort, path: '/readyz', agent: false }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode));
            res.on('error', () => resolve(0));
        });
        req.setTimeout(1000, () => req.destroy());
        req.on('error', () => resolve(0));
    });
}

/**
 * Starts `$TENANTGATE_BIN --config FILE`. config is YAML text, or a function
 * of the ports ({adminPort, httpsPort, httpPort}, picked free unless given)
 * returning it. Resolves once /readyz answers 200, with
 * {adminPort, httpsPort, httpPort, origin, httpOrigin, adminOrigin, configPath, child, stop()};
 * rejects after timeoutMs (or when the gateway exits) with its stderr.
 */
export async function startGateway({ config, ports, name = 'gateway', timeoutMs = 20000 }) {
    const [adminPort, httpsPort, httpPort] = ports
        ? [ports.adminPort, ports.httpsPort, ports.httpPort]
        : await freePorts(3);
    const p = { adminPort, httpsPort, httpPort };
    const configPath = writeConfig(typeof config === 'function' ? config(p) : config, name);
    const child = spawnLogged(name, gatewayBin(), ['--config', configPath]);
    const deadline = Date.now() + timeoutMs;
    let status = 0;
    while (Date.now() < deadline && !child.result) {
        status = await readyz(adminPort);
        if (status === 200) break;
        await sleep(100);
    }
    if (status !== 200) {
        const why = child.result
            ? `exited (code ${child.result.code}, signal ${child.result.signal})`
            : `not ready within ${timeoutMs} ms (last /readyz status ${status || 'no answer'})`;
        if (child.result) await child.closed;
        throw new Error(`tenantgate ${why}; config ${configPath}\nstderr:\n${child.stderr().slice(-4000)}`);
    }
    return {
        ...p,
        origin: `https://127.0.0.1:${httpsPort}`,
        httpOrigin: `http://127.0.0.1:${httpPort}`,
        adminOrigin: `http://127.0.0.1:${adminPort}`,
        configPath,
        child,
        stop: (signal, graceMs) => child.stop(signal, graceMs),
    };
}

/** Runs `$TENANTGATE_BIN --check-config FILE`; resolves {code, signal, stdout, stderr}. */
export function checkConfig(file) {
    return runCommand('check-config', gatewayBin(), ['--check-config', file], { timeoutMs: 20000 });
}
