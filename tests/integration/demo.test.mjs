// The README's first command: scripts/demo brings the stack up on the fixed
// ports of DESIGN.md, the curl command it prints works, and Ctrl-C (SIGINT)
// leaves no process behind.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { sourceDir, spawnLogged } from './lib/procs.mjs';

const run = promisify(execFile);
const PORTS = [8443, 8080, 9901, 18501];

function portOpen(port) {
    return new Promise((resolve) => {
        const sock = connect({ host: '127.0.0.1', port });
        sock.once('connect', () => {
            sock.destroy();
            resolve(true);
        });
        sock.once('error', () => resolve(false));
    });
}

let demo;
let banner;
before(async () => {
    for (const port of PORTS) assert.equal(await portOpen(port), false, `port ${port} is busy: is a demo running?`);
    demo = spawnLogged('demo', 'bash', [join(sourceDir, 'scripts/demo')], { cwd: sourceDir });
    await demo.waitForLine(/tenantgate demo is up/, 600000);
    await demo.waitForLine(/Ctrl-C stops everything/, 5000);
    banner = demo.stdout();
});

after(async () => {
    if (demo && !demo.result) await demo.stop('SIGINT', 10000);
});

test('the printed curl command reaches mnist v1 over mTLS through HTTP/2', async () => {
    const line = banner.split('\n').find((l) => l.trim().startsWith('curl '));
    assert.ok(line, `no curl command in:\n${banner}`);
    const args = line.trim().split(/\s+/).slice(1);
    const { stdout } = await run('curl', ['-sS', '--fail', '-w', '\n%{http_version}', ...args], { cwd: sourceDir });
    const [body, version] = stdout.trimEnd().split('\n');
    assert.equal(version, '2');
    const echo = JSON.parse(body);
    assert.equal(echo.upstream, 'mnist-v1');
    assert.equal(echo.url, '/v1/models/mnist');
    assert.equal(echo.clientCert.subjectaltname, 'URI:spiffe://cluster.local/ns/istio-system/sa/tenantgate');
});

test('the http listener redirects and the admin listener is ready', async () => {
    const { stdout } = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}',
                                          'http://localhost:8080/serving/kubeflow-alice/mnist/x']);
    assert.equal(stdout, '301 https://localhost:8443/serving/kubeflow-alice/mnist/x');
    const ready = await run('curl', ['-sS', 'http://127.0.0.1:9901/readyz']);
    assert.equal(ready.stdout.trim(), 'ready');
});

test('Ctrl-C stops every process of the stack', async () => {
    const r = await demo.stop('SIGINT', 10000);
    assert.equal(r.killed, false, 'the demo ignored SIGINT');
    for (const port of PORTS) assert.equal(await portOpen(port), false, `port ${port} still open after Ctrl-C`);
    const { stdout } = await run('pgrep', ['-f', 'config/demo.yaml|upstream.mjs --port 18501']).catch((e) => e);
    assert.equal((stdout || '').trim(), '', `left behind: ${stdout}`);
});
