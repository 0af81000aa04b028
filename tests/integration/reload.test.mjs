// Hot reload: SIGHUP and file changes publish a new configuration while
// requests in flight and open websockets finish on the one they started
// with; a file that does not load, or that changes the listeners, is refused
// and the old configuration keeps serving; server certificates swap too.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { assertErrorPage, echoFrom } from './lib/checks.mjs';
import { makeCerts } from './lib/certs.mjs';
import { edgeConfig, startGateway } from './lib/gateway.mjs';
import { h2 } from './lib/http.mjs';
import { sourceDir } from './lib/procs.mjs';
import { standardServices, startStandardUpstreams } from './lib/stack.mjs';

let certs;
let up;
let gw;
let ports;
const client = () => ({ ca: certs.read('edge-ca.pem'), servername: 'localhost' });

// The standard services, optionally without alice's mnist route and with an extra one.
function config({ withMnist = true, extra = [], serverCerts } = {}) {
    const services = standardServices(up).filter((s) => withMnist || s.name !== 'mnist').concat(extra);
    let yaml = edgeConfig({ ...ports, certs, services });
    if (serverCerts) {
        yaml = yaml.replace(certs.path('server.pem'), join(serverCerts, 'server.pem'))
            .replace(certs.path('server.key'), join(serverCerts, 'server.key'));
    }
    return yaml;
}

// Rewrites the config file the way editors and kubelet do: a new file renamed over the old one.
function replaceConfig(text) {
    const tmp = `${gw.configPath}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, gw.configPath);
}

async function waitFor(what, check, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (await check()) return;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${gw.child.stderr().slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
    }
}

const get = (path, headers = {}) => h2(gw.origin, { ...client(), path, headers });
const reloads = () => (gw.child.stderr().match(/configuration reloaded/g) || []).length;
const refusals = () => (gw.child.stderr().match(/reload refused/g) || []).length;

before(async () => {
    certs = await makeCerts();
    up = await startStandardUpstreams(certs);
    gw = await startGateway({ config: (p) => {
        ports = p;
        return config();
    } });
});

test('SIGHUP publishes a new route and keeps the others', async () => {
    assertErrorPage(await get('/extra/x'), 404);
    writeFileSync(gw.configPath, config({ extra: [{ name: 'extra', namespace: 'kubeflow-alice',
        host: 'extra.kubeflow-alice.svc.cluster.local', port: up['mnist-alice'].port, prefix: '/extra/',
        sni: 'mnist.kubeflow-alice.svc.cluster.local' }] }));
    const before = reloads();
    gw.child.proc.kill('SIGHUP');
    await waitFor('the reload', () => reloads() > before);
    assert.equal(echoFrom(await get('/extra/x'), 'mnist-alice').url, '/extra/x');
    assert.equal(echoFrom(await get('/notebook/kubeflow-bob/y'), 'nb1-bob').url, '/notebook/kubeflow-bob/y');
});

test('a file that does not load is refused and the old configuration keeps serving', async () => {
    const before = refusals();
    writeFileSync(gw.configPath, 'apiVersion: tenantgate.io/v1alpha1\nkind: TenantGate\nspec: [\n');
    gw.child.proc.kill('SIGHUP');
    await waitFor('the refusal', () => refusals() > before);
    assert.match(gw.child.stderr(), /reload refused, still serving the previous configuration: .*:\d+:\d+/);
    assert.equal(echoFrom(await get('/extra/z'), 'mnist-alice').url, '/extra/z');
});

test('a change of listeners is refused: it needs a restart', async () => {
    const before = refusals();
    writeFileSync(gw.configPath, config().replace(`number: ${ports.httpPort},`, `number: ${ports.httpPort + 1},`));
    gw.child.proc.kill('SIGHUP');
    await waitFor('the refusal', () => refusals() > before);
    assert.match(gw.child.stderr(), /listeners change only on restart/);
});

test('a replaced config file is picked up without a signal', async () => {
    const before = reloads();
    replaceConfig(config());
    await waitFor('the reload from the file watch', () => reloads() > before);
    assertErrorPage(await get('/extra/x'), 404);
    assert.match(gw.child.stderr(), /config file changed: configuration reloaded/);
});

test('a request in flight finishes on the route it started with', async () => {
    const inflight = get('/serving/kubeflow-alice/mnist/slow', { 'x-test-delay-ms': '1500' });
    await new Promise((r) => setTimeout(r, 300));
    const before = reloads();
    writeFileSync(gw.configPath, config({ withMnist: false }));
    gw.child.proc.kill('SIGHUP');
    await waitFor('the reload', () => reloads() > before);
    assertErrorPage(await get('/serving/kubeflow-alice/mnist/new'), 404);
    assert.equal(echoFrom(await inflight, 'mnist-alice').url, '/serving/kubeflow-alice/mnist/slow');
});

test('an open websocket keeps working across reloads', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${gw.httpsPort}/notebook/kubeflow-alice/nb1/ws`, client());
    await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
    });
    const echo = (text) => new Promise((resolve) => {
        ws.once('message', (data) => resolve(data.toString()));
        ws.send(text);
    });
    assert.equal(await echo('before'), 'before');
    for (let i = 0; i < 3; i++) {
        const before = reloads();
        writeFileSync(gw.configPath, config({ withMnist: i % 2 === 0 }));
        gw.child.proc.kill('SIGHUP');
        await waitFor('the reload', () => reloads() > before);
    }
    assert.equal(await echo('after three reloads'), 'after three reloads');
    ws.close();
    // the retired generations are freed once the tunnel is gone (checked every second): still serving after that
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(echoFrom(await get('/notebook/kubeflow-bob/later'), 'nb1-bob').url, '/notebook/kubeflow-bob/later');
    assert.equal(gw.child.result, null, 'the gateway died');
});

test('new server certificates are presented after a reload', async () => {
    const other = mkdtempSync(join(tmpdir(), 'tg-certs-other-'));
    try {
        await promisify(execFile)(join(sourceDir, 'scripts', 'make-certs'), [other], { timeout: 30000 });
        const before = reloads();
        writeFileSync(gw.configPath, config({ serverCerts: other }));
        gw.child.proc.kill('SIGHUP');
        await waitFor('the reload', () => reloads() > before);
        const otherCa = readFileSync(join(other, 'edge-ca.pem'));
        const res = await h2(gw.origin, { ca: otherCa, servername: 'localhost', path: '/notebook/kubeflow-bob/c' });
        assert.equal(echoFrom(res, 'nb1-bob').url, '/notebook/kubeflow-bob/c');
        await assert.rejects(get('/notebook/kubeflow-bob/c'), /certificate|self.signed|unable to verify/i);
    } finally {
        rmSync(other, { recursive: true, force: true });
    }
});
