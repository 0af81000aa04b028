// Reloads under load: h2load keeps HTTP/2 traffic on the gateway while the
// config is reloaded 20 times (rewrites, SIGHUP, one invalid file, one server
// certificate swap): every request must succeed with 2xx, none may be reset.
// And the Kubernetes ConfigMap update (an atomic ..data symlink swap) reloads.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { makeCerts } from './lib/certs.mjs';
import { edgeConfig, gatewayBin, startGateway } from './lib/gateway.mjs';
import { freePorts } from './lib/net.mjs';
import { sourceDir, spawnLogged } from './lib/procs.mjs';
import { standardServices, startStandardUpstreams } from './lib/stack.mjs';

const run = promisify(execFile);
let certs;
let up;
let other;

before(async () => {
    certs = await makeCerts();
    up = await startStandardUpstreams(certs);
    other = mkdtempSync(join(tmpdir(), 'tg-certs-swap-'));
    await run(join(sourceDir, 'scripts', 'make-certs'), [other], { timeout: 30000 });
});

after(() => rmSync(other, { recursive: true, force: true }));

let version = 0;
function yaml(ports, serverDir) {
    let text = edgeConfig({ ...ports, certs, services: standardServices(up) });
    if (serverDir) {
        text = text.replace(certs.path('server.pem'), join(serverDir, 'server.pem'))
            .replace(certs.path('server.key'), join(serverDir, 'server.key'));
    }
    return `${text}# version ${version++}\n`;
}

const count = (text, re) => (text.match(re) || []).length;

test('20 reloads under h2load: no failed request, no reset stream', async () => {
    let ports;
    const gw = await startGateway({ config: (p) => yaml((ports = p)) });
    const load = spawnLogged('h2load', 'h2load', ['-D', '8', '-c', '4', '-m', '10',
                                                  `${gw.origin}/serving/kubeflow-alice/mnist/x`], { mayExit: true });
    const before = count(gw.child.stderr(), /configuration reloaded/g);
    for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 300));
        if (i === 7) writeFileSync(gw.configPath, 'kind: [broken\n');
        else writeFileSync(gw.configPath, yaml(ports, i >= 12 ? other : undefined));
        gw.child.proc.kill('SIGHUP');
    }
    await load.exited;
    const out = load.stdout();
    const m = out.match(/requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/);
    assert.ok(m, out);
    const [total, , , succeeded, failed, errored, timeout] = m.slice(1).map(Number);
    const codes = out.match(/status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/).slice(1).map(Number);
    assert.ok(total > 500, `only ${total} requests:\n${out}`);
    assert.deepEqual({ failed, errored, timeout }, { failed: 0, errored: 0, timeout: 0 }, out);
    assert.equal(succeeded, total);
    assert.deepEqual(codes, [total, 0, 0, 0], out);
    assert.ok(count(gw.child.stderr(), /configuration reloaded/g) - before >= 19, gw.child.stderr().slice(-2000));
    assert.match(gw.child.stderr(), /reload refused/);
});

test('a ConfigMap update (..data symlink swap) reloads the mounted file', async () => {
    const mount = mkdtempSync(join(tmpdir(), 'tg-configmap-'));
    try {
        const [adminPort, httpsPort, httpPort] = await freePorts(3);
        const ports = { adminPort, httpsPort, httpPort };
        let generation = 0;
        const publish = () => {
            const dir = `..${++generation}`;
            mkdirSync(join(mount, dir));
            writeFileSync(join(mount, dir, 'config.yaml'), yaml(ports));
            symlinkSync(dir, join(mount, '..data_tmp'));
            renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
        };
        publish();
        symlinkSync('..data/config.yaml', join(mount, 'config.yaml'));
        const gw = spawnLogged('gateway-configmap', gatewayBin(), ['--config', join(mount, 'config.yaml')]);
        const wait = async (re) => {
            const deadline = Date.now() + 10000;
            while (!re.test(gw.stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
            assert.match(gw.stderr(), re);
        };
        await wait(/ready with/);
        publish();
        await wait(/config file changed: configuration reloaded \(generation 2\)/);
        const r = await gw.stop('SIGTERM');
        assert.equal(r.code, 0);
    } finally {
        rmSync(mount, { recursive: true, force: true });
    }
});
