// The command line: --check-config on good and bad files, and a clean exit on SIGTERM/SIGINT.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import tls from 'node:tls';
import { makeCerts } from './lib/certs.mjs';
import { checkConfig, edgeConfig, startGateway, writeConfig } from './lib/gateway.mjs';
import { h2Connect } from './lib/http.mjs';
import { freePorts } from './lib/net.mjs';
import { standardServices } from './lib/stack.mjs';

let certs;
let ports;
let good;
// fixed upstream ports: nothing needs to listen for these tests
const up = { 'mnist-alice': { port: 18501 }, 'nb1-alice': { port: 18502 }, 'nb1-bob': { port: 18503 } };

before(async () => {
    certs = await makeCerts();
    const [adminPort, httpsPort, httpPort] = await freePorts(3);
    ports = { adminPort, httpsPort, httpPort };
    good = edgeConfig({ ...ports, certs, services: standardServices(up) });
});

test('--check-config on a good file exits 0 and prints a summary', async () => {
    const r = await checkConfig(writeConfig(good, 'good'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(String(ports.httpsPort)), 'the summary names the HTTPS listener');
    assert.match(r.stdout, /mnist\.kubeflow-alice\.svc\.cluster\.local/, 'the summary names the services');
});

// [what, (ports) => [text of the good file, its replacement], marker on the bad line]
const bad = [
    ['a port number out of range', (p) => [`{number: ${p.httpsPort}`, '{number: 70000'], 'number: 70000'],
    ['a body limit that is not a size', () => ['maxBodyBytes: 1048576', 'maxBodyBytes: lots'], 'maxBodyBytes: lots'],
    ['an unknown upstream TLS mode', () => ['mode: MUTUAL', 'mode: SOMETIMES'], 'mode: SOMETIMES'],
    ['a tab where YAML wants spaces', () => ['  threads: 2\n', '  threads: 2\n\tbroken: 1\n'], '\tbroken: 1'],
];

for (const [what, edit, marker] of bad) {
    test(`--check-config on ${what} fails with FILE:LINE`, async () => {
        const [from, to] = edit(ports);
        assert.ok(good.includes(from), `fixture text ${from}`);
        const text = good.replace(from, to);
        const line = text.split('\n').findIndex((l) => l.includes(marker)) + 1;
        assert.ok(line > 0);
        const file = writeConfig(text, 'bad');
        const r = await checkConfig(file);
        assert.notEqual(r.code, 0, `exit code 0 for ${what}; stdout:\n${r.stdout}`);
        assert.equal(r.signal, null, `killed by ${r.signal}:\n${r.stderr}`);
        assert.ok(r.stderr.includes(`tenantgate: ${file}:${line}:`),
                  `stderr should name ${file}:${line}:\n${r.stderr}`);
    });
}

test('--check-config on a missing file fails and names it', async () => {
    const r = await checkConfig('/nonexistent/tenantgate.yaml');
    assert.notEqual(r.code, 0);
    assert.equal(r.signal, null);
    assert.match(r.stderr, /\/nonexistent\/tenantgate\.yaml/);
});

test('--check-config does not need the listener ports (the gateway may be running)', async () => {
    const file = writeConfig(good, 'running');
    const gw = await startGateway({ config: good, ports, name: 'gateway-running' });
    try {
        const r = await checkConfig(file);
        assert.equal(r.code, 0, r.stderr);
    } finally {
        await gw.stop();
    }
});

// The kit's process manager gives every child 3 s after SIGTERM before SIGKILL:
// the gateway must be out by then, idle client connections or not.
const EXIT_WITHIN_MS = 3000;

async function stopTimed(gw, signal) {
    const t0 = Date.now();
    const r = await gw.stop(signal, 10000);
    return { ...r, ms: Date.now() - t0 };
}

test('the gateway exits 0 on SIGTERM within 3 s', async () => {
    const gw = await startGateway({ config: (p) => edgeConfig({ ...p, certs, services: standardServices(up) }) });
    const r = await stopTimed(gw, 'SIGTERM');
    assert.equal(r.killed, false);
    assert.equal(r.signal, null, `died of ${r.signal}\n${gw.child.stderr().slice(-3000)}`);
    assert.equal(r.code, 0, gw.child.stderr().slice(-3000));
    assert.ok(r.ms < EXIT_WITHIN_MS, `took ${r.ms} ms`);
});

// An http/1.1 connection that made one request and now idles (keep-alive).
async function idleHttp1(port, ca) {
    const sock = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
    sock.on('error', () => {});
    await new Promise((resolve, reject) => {
        sock.once('secureConnect', resolve);
        sock.once('error', reject);
    });
    sock.write('GET /no/such/route HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const first = await new Promise((resolve) => sock.once('data', (d) => resolve(d.toString())));
    assert.match(first, /^HTTP\/1\.1 404/);
    return sock;
}

test('the gateway exits 0 on SIGTERM within 3 s with idle client connections open', async () => {
    const gw = await startGateway({ config: (p) => edgeConfig({ ...p, certs, services: standardServices(up) }) });
    const ca = certs.read('edge-ca.pem');
    const session = await h2Connect(gw.origin, { ca, servername: 'localhost' });
    session.on('error', () => {});
    const sock = await idleHttp1(gw.httpsPort, ca);
    try {
        const r = await stopTimed(gw, 'SIGTERM');
        assert.equal(r.killed, false);
        assert.equal(r.code, 0, gw.child.stderr().slice(-3000));
        assert.ok(r.ms < EXIT_WITHIN_MS, `took ${r.ms} ms`);
    } finally {
        session.destroy();
        sock.destroy();
    }
});

test('the gateway exits 0 on SIGINT within 3 s', async () => {
    const gw = await startGateway({ config: (p) => edgeConfig({ ...p, certs, services: standardServices(up) }) });
    const r = await stopTimed(gw, 'SIGINT');
    assert.equal(r.killed, false);
    assert.equal(r.code, 0, gw.child.stderr().slice(-3000));
    assert.ok(r.ms < EXIT_WITHIN_MS, `took ${r.ms} ms`);
});
