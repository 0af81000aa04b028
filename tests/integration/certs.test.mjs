// scripts/make-certs: the PKI every other integration test and the demo stand on.
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { makeCerts } from './lib/certs.mjs';
import { runCommand, sourceDir } from './lib/procs.mjs';

const script = join(sourceDir, 'scripts', 'make-certs');
const spiffe = (ns, sa) => `URI:spiffe://cluster.local/ns/${ns}/sa/${sa}`;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
let certs;

before(async () => {
    certs = await makeCerts();
});

const x509 = (name) => new X509Certificate(certs.read(`${name}.pem`));

// name, issuer, SANs (in order), extended key usage
const leaves = [
    ['server', 'edge-ca', 'DNS:localhost, IP Address:127.0.0.1', SERVER_AUTH],
    ['gateway-client', 'mesh-ca', spiffe('istio-system', 'tenantgate'), CLIENT_AUTH],
    ['mnist-alice', 'mesh-ca',
     `DNS:mnist.kubeflow-alice.svc.cluster.local, ${spiffe('kubeflow-alice', 'default-editor')}`, SERVER_AUTH],
    ['nb1-alice', 'mesh-ca',
     `DNS:nb1.kubeflow-alice.svc.cluster.local, ${spiffe('kubeflow-alice', 'default-editor')}`, SERVER_AUTH],
    ['nb1-bob', 'mesh-ca',
     `DNS:nb1.kubeflow-bob.svc.cluster.local, ${spiffe('kubeflow-bob', 'default-editor')}`, SERVER_AUTH],
    ['wrong-ca', 'other-ca',
     `DNS:mnist.kubeflow-alice.svc.cluster.local, ${spiffe('kubeflow-alice', 'default-editor')}`, SERVER_AUTH],
    ['wrong-identity', 'mesh-ca', `DNS:evil.kubeflow-bob.svc.cluster.local, ${spiffe('kubeflow-bob', 'evil')}`,
     SERVER_AUTH],
];

for (const [name, issuer, san, eku] of leaves) {
    test(`${name}: issued by ${issuer}, SAN ${san}`, () => {
        const cert = x509(name);
        const ca = x509(issuer);
        assert.ok(cert.checkIssued(ca), 'issuer name');
        assert.ok(cert.verify(ca.publicKey), 'signature');
        assert.equal(cert.ca, false);
        assert.equal(cert.subjectAltName, san);
        assert.deepEqual(cert.keyUsage, [eku]);
        assert.equal(cert.publicKey.asymmetricKeyDetails.namedCurve, 'prime256v1');
        const days = (Date.parse(cert.validTo) - Date.now()) / 86400000;
        assert.ok(days > 1 && days <= 31, `valid for ${days} more days`);
        assert.ok(cert.checkPrivateKey(createPrivateKey(certs.read(`${name}.key`))), 'key matches');
    });
}

test('CAs are self-signed P-256 CAs and distinct', () => {
    const fps = new Set();
    for (const name of ['edge-ca', 'mesh-ca', 'other-ca']) {
        const ca = x509(name);
        assert.equal(ca.ca, true, name);
        assert.ok(ca.verify(ca.publicKey), `${name} self-signed`);
        assert.equal(ca.publicKey.asymmetricKeyDetails.namedCurve, 'prime256v1');
        fps.add(ca.fingerprint256);
    }
    assert.equal(fps.size, 3);
    assert.equal(x509('wrong-ca').verify(x509('mesh-ca').publicKey), false, 'wrong-ca is not from the mesh CA');
});

test('server.pem holds the leaf only', () => {
    const pem = certs.read('server.pem').toString();
    assert.equal(pem.match(/-----BEGIN CERTIFICATE-----/g).length, 1);
    assert.doesNotMatch(pem, /PRIVATE KEY/);
});

test('private keys are 0600', () => {
    for (const name of ['edge-ca', 'server', 'mesh-ca', 'gateway-client', 'mnist-alice', 'nb1-alice', 'nb1-bob',
                        'other-ca', 'wrong-ca', 'wrong-identity']) {
        assert.equal(statSync(certs.path(`${name}.key`)).mode & 0o777, 0o600, name);
    }
});

test('a second run into the same folder changes nothing', async () => {
    const before = readFileSync(certs.path('mesh-ca.pem'));
    const r = await runCommand('make-certs-again', script, [certs.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readFileSync(certs.path('mesh-ca.pem')), before);
});

test('a fresh folder gets a fresh CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-certs-fresh-'));
    try {
        const r = await runCommand('make-certs-fresh', script, [join(dir, 'sub')]);
        assert.equal(r.code, 0, r.stderr);
        assert.notDeepEqual(readFileSync(join(dir, 'sub', 'mesh-ca.pem')), certs.read('mesh-ca.pem'));
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
});

test('wrong usage prints a usage line and exits 2', async () => {
    for (const args of [[], ['a', 'b'], ['--help']]) {
        const r = await runCommand('make-certs-usage', script, args);
        assert.equal(r.code, 2, args.join(' '));
        assert.match(r.stderr, /^usage: make-certs OUTDIR/);
    }
});
