// The edge listeners: h2 and http/1.1 over TLS, ALPN, TLS versions, the
// redirecting HTTP listener and the admin listener.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import tls from 'node:tls';
import { before, test } from 'node:test';
import { echoFrom } from './lib/checks.mjs';
import { h2, http1, tlsHandshake } from './lib/http.mjs';
import { startEdgeStack } from './lib/stack.mjs';

let s;
before(async () => {
    s = await startEdgeStack();
});

const MNIST = '/serving/kubeflow-alice/mnist/v1/models/mnist';

test('h2 over TLS reaches the echo upstream', async () => {
    const res = await h2(s.gw.origin, { ...s.client, path: `${MNIST}?q=1` });
    assert.equal(res.alpn, 'h2');
    assert.equal(res.headers['x-upstream-name'], 'mnist-alice');
    const echo = echoFrom(res, 'mnist-alice');
    assert.equal(echo.method, 'GET');
    assert.equal(echo.url, `${MNIST}?q=1`);
});

test('http/1.1 over TLS reaches the echo upstream', async () => {
    const res = await http1(`${s.gw.origin}${MNIST}?q=2`, s.client);
    assert.equal(res.httpVersion, '1.1');
    assert.equal(res.headers['x-upstream-name'], 'mnist-alice');
    const echo = echoFrom(res, 'mnist-alice');
    assert.equal(echo.url, `${MNIST}?q=2`);
});

for (const proto of ['h2', 'http/1.1']) {
    test(`a POST body arrives intact over ${proto}`, async () => {
        const body = Buffer.alloc(200 * 1024, 'abcdefghij');
        const sha = createHash('sha256').update(body).digest('hex');
        const opts = { ...s.client, method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } };
        const res = proto === 'h2' ? await h2(s.gw.origin, { ...opts, path: `${MNIST}:predict` })
                                   : await http1(`${s.gw.origin}${MNIST}:predict`, opts);
        const echo = echoFrom(res, 'mnist-alice');
        assert.equal(echo.method, 'POST');
        assert.equal(echo.bodyLength, body.length);
        assert.equal(echo.bodySha256, sha);
    });
}

test('ALPN picks h2 when offered, http/1.1 otherwise', async () => {
    const port = s.gw.httpsPort;
    for (const [offer, want] of [[['h2', 'http/1.1'], 'h2'], [['h2'], 'h2'], [['http/1.1'], 'http/1.1']]) {
        const r = await tlsHandshake({ port, ...s.client, ALPNProtocols: offer });
        assert.ok(r.ok, `handshake offering ${offer}: ${r.error && r.error.message}`);
        assert.equal(r.alpn, want, `offered ${offer}`);
    }
});

test('the listener serves server.pem, which checks out for localhost and 127.0.0.1', async () => {
    for (const servername of ['localhost', undefined]) {
        const r = await tlsHandshake({ port: s.gw.httpsPort, ca: s.client.ca, servername, ALPNProtocols: ['h2'] });
        assert.ok(r.ok, `${servername}: ${r.error && r.error.message}`);
    }
});

test('TLS 1.2 and 1.3 are accepted', async () => {
    for (const v of ['TLSv1.2', 'TLSv1.3']) {
        const r = await tlsHandshake({ port: s.gw.httpsPort, ...s.client, minVersion: v, maxVersion: v });
        assert.ok(r.ok, `${v}: ${r.error && r.error.message}`);
        assert.equal(r.protocol, v);
    }
});

test('TLS 1.1 is refused', async () => {
    const tls11 = { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' };
    // Control: this client really can speak TLS 1.1 (else the refusal below proves nothing).
    const server = tls.createServer({ ...tls11, minVersion: 'TLSv1', key: s.certs.read('server.key'),
                                      cert: s.certs.read('server.pem') }, (c) => c.end());
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
        const control = await tlsHandshake({ port: server.address().port, ...s.client, ...tls11 });
        assert.ok(control.ok, `control TLS 1.1 handshake failed: ${control.error && control.error.message}`);
        assert.equal(control.protocol, 'TLSv1.1');
    } finally {
        server.close();
    }
    const r = await tlsHandshake({ port: s.gw.httpsPort, ...s.client, ...tls11 });
    assert.equal(r.ok, false, `the gateway negotiated ${r.protocol}`);
});

const redirects = [
    // [Host header sent, path sent, expected Location (PORT = the HTTPS port)]
    ['example.test:HTTPPORT', '/serving/kubeflow-alice/mnist/x?a=1&b=two', 'https://example.test:PORT/serving/kubeflow-alice/mnist/x?a=1&b=two'],
    ['localhost', '/', 'https://localhost:PORT/'],
    ['LocalHost:80', '/notebook/kubeflow-bob/?x', 'https://localhost:PORT/notebook/kubeflow-bob/?x'],
    ['[::1]:8080', '/a/b', 'https://[::1]:PORT/a/b'],
];
for (const [host, path, want] of redirects) {
    test(`the HTTP listener redirects Host ${host} ${path}`, async () => {
        const before = await s.up['mnist-alice'].count();
        const res = await http1(`${s.gw.httpOrigin}${path}`, {
            headers: { host: host.replace('HTTPPORT', s.gw.httpPort) },
        });
        assert.equal(res.status, 301);
        const location = res.headers.location;
        const expected = want.replace('PORT', s.gw.httpsPort);
        // host names are case-insensitive: compare the host part without case
        assert.equal(location.toLowerCase(), expected.toLowerCase());
        assert.equal(new URL(location).pathname + new URL(location).search, new URL(expected).pathname + new URL(expected).search);
        assert.equal(await s.up['mnist-alice'].count(), before, 'the redirect must not reach an upstream');
    });
}

test('the HTTP listener redirects a POST too, without proxying it', async () => {
    const res = await http1(`${s.gw.httpOrigin}/serving/kubeflow-alice/mnist/x`, {
        method: 'POST', body: 'secret=1', headers: { host: 'localhost' },
    });
    assert.equal(res.status, 301);
    assert.equal(res.headers.location, `https://localhost:${s.gw.httpsPort}/serving/kubeflow-alice/mnist/x`);
});

for (const path of ['/healthz', '/readyz']) {
    test(`admin ${path} answers 200`, async () => {
        const res = await http1(`${s.gw.adminOrigin}${path}`);
        assert.equal(res.status, 200);
    });
}

test('admin paths are not served on the public listener', async () => {
    const res = await http1(`${s.gw.origin}/readyz`, { ...s.client, headers: { accept: 'application/json' } });
    assert.equal(res.status, 404);
});
