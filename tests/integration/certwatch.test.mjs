// Certificate files reload when they change, without SIGHUP: the listener's
// certificate and key replaced by rename (as cert-manager and kubelet do)
// are presented to new handshakes; a mismatched pair is refused and the old
// certificate keeps serving; a changed mesh client certificate reloads too.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { makeCerts } from './lib/certs.mjs';
import { edgeConfig, startGateway } from './lib/gateway.mjs';
import { sourceDir } from './lib/procs.mjs';
import { standardServices, startStandardUpstreams } from './lib/stack.mjs';

let certs;
let other; // a second PKI: its edge CA signs the replacement listener certificate
let live; // the folder the gateway reads its listener certificate and key from
let gw;

const count = (re) => (gw.child.stderr().match(re) || []).length;

before(async () => {
    certs = await makeCerts();
    other = mkdtempSync(join(tmpdir(), 'tg-certs-next-'));
    live = mkdtempSync(join(tmpdir(), 'tg-certs-live-'));
    await promisify(execFile)(join(sourceDir, 'scripts', 'make-certs'), [other], { timeout: 30000 });
    copyFileSync(certs.path('server.pem'), join(live, 'server.pem'));
    copyFileSync(certs.path('server.key'), join(live, 'server.key'));
    const up = await startStandardUpstreams(certs);
    gw = await startGateway({
        config: (p) => edgeConfig({ ...p, certs, services: standardServices(up) })
            .replace(certs.path('server.pem'), join(live, 'server.pem'))
            .replace(certs.path('server.key'), join(live, 'server.key')),
    });
});

after(async () => {
    await gw?.stop();
    rmSync(other, { recursive: true, force: true });
    rmSync(live, { recursive: true, force: true });
});

/** Resolves the SHA-256 fingerprint of the certificate a new handshake trusting ca gets, or rejects. */
function handshake(ca) {
    return new Promise((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port: gw.httpsPort, ca, servername: 'localhost',
                                     ALPNProtocols: ['h2'] }, () => {
            const fp = socket.getPeerCertificate().fingerprint256;
            socket.end();
            resolve(fp);
        });
        socket.once('error', reject);
    });
}

/** Puts file (from dir) in place under the live folder the way kubelet does: write aside, rename over. */
function replace(dir, name, as = name) {
    copyFileSync(join(dir, name), join(live, `.${as}.tmp`));
    renameSync(join(live, `.${as}.tmp`), join(live, as));
}

async function waitFor(what, check, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${gw.child.stderr().slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
    }
}

const oldCa = () => certs.read('edge-ca.pem');
const newCa = () => readFileSync(join(other, 'edge-ca.pem'));

test('a mismatched certificate and key are refused and the old pair keeps serving', async () => {
    const before = await handshake(oldCa());
    const refused = count(/certificate file changed: reload refused/g);
    replace(other, 'server.key'); // the other PKI's key beside the old certificate
    await waitFor('the refusal', () => count(/certificate file changed: reload refused/g) > refused);
    assert.equal(await handshake(oldCa()), before);
    assert.equal(count(/certificate file changed: configuration reloaded/g), 0);
});

test('a certificate and key replaced by rename are presented to new handshakes without SIGHUP', async () => {
    const reloads = count(/certificate file changed: configuration reloaded/g);
    replace(other, 'server.pem'); // the key is already the other PKI's: now the pair matches
    await waitFor('the reload', () => count(/certificate file changed: configuration reloaded/g) > reloads);
    const fp = await handshake(newCa());
    assert.match(fp, /^[0-9A-F:]+$/);
    await assert.rejects(handshake(oldCa()), /certificate|self.signed|unable to verify/i);
});

test('a changed mesh client certificate reloads too', async () => {
    const reloads = count(/certificate file changed: configuration reloaded/g);
    // rewrite the same client certificate in place by rename: a rotation with the same identity
    const dir = certs.dir;
    copyFileSync(join(dir, 'gateway-client.pem'), join(dir, '.gateway-client.pem.tmp'));
    renameSync(join(dir, '.gateway-client.pem.tmp'), join(dir, 'gateway-client.pem'));
    await waitFor('the reload', () => count(/certificate file changed: configuration reloaded/g) > reloads);
    assert.equal(await handshake(newCa()).then(() => 'ok'), 'ok');
});
