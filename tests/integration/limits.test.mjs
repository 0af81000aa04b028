// Request limits of the edge (maxHeaderCount 90, maxHeaderBytes 16384,
// maxBodyBytes 1 MiB) and the not-found answer, over h2 and http/1.1.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { assertErrorPage, assertGenericBody, echoFrom } from './lib/checks.mjs';
import { h2, http1 } from './lib/http.mjs';
import { startEdgeStack } from './lib/stack.mjs';

const MAX_BODY = 1048576;
const PATH = '/serving/kubeflow-alice/mnist/v1/models/mnist:predict';
let s;
before(async () => {
    s = await startEdgeStack({ limits: { maxHeaderBytes: 16384, maxHeaderCount: 90, maxBodyBytes: MAX_BODY } });
});

// One request over proto; returns the result.
function send(proto, { path = PATH, ...opts }) {
    return proto === 'h2' ? h2(s.gw.origin, { ...s.client, path, ...opts })
                          : http1(`${s.gw.origin}${path}`, { ...s.client, ...opts });
}

function headers(count, valueLength) {
    const h = {};
    for (let i = 0; i < count; i++) h[`x-filler-${i}`] = 'v'.repeat(valueLength);
    return h;
}

// maxHeaderCount is 90 here: libh2o's HTTP/1.1 parser refuses more than 100
// header lines itself (tested below), so the configured count stays under it.
const tooMuch = [
    ['too many headers (95 > maxHeaderCount 90)', headers(95, 4)],
    ['one header larger than maxHeaderBytes', { 'x-big': 'b'.repeat(17000) }],
    ['headers that add up to more than maxHeaderBytes', headers(20, 1000)],
];

for (const proto of ['h2', 'http/1.1']) {
    for (const [what, h] of tooMuch) {
        test(`${proto}: ${what} -> 431`, async () => {
            const before = await s.up['mnist-alice'].count();
            const res = await send(proto, { headers: { ...h, accept: 'application/json' } });
            assertErrorPage(res, 431, { json: true });
            assert.equal(await s.up['mnist-alice'].count(), before, 'reached the upstream');
        });
    }

    test(`${proto}: 80 headers of 12 KiB in all are within the limits`, async () => {
        const h = headers(80, 150);
        const res = await send(proto, { headers: h });
        const echo = echoFrom(res, 'mnist-alice');
        assert.equal(echo.headers['x-filler-79'], h['x-filler-79']);
    });

    test(`${proto}: a body of maxBodyBytes + 1 is refused`, async () => {
        const before = await s.up['mnist-alice'].count();
        const attempt = send(proto, { method: 'POST', body: Buffer.alloc(MAX_BODY + 1, 'z'),
                                      headers: { accept: 'application/json' } });
        if (proto === 'h2') {
            // libh2o 2.2.5 resets an h2 stream whose body outgrows the limit (REFUSED_STREAM) before any
            // handler can answer: see docs/configuration.md, "Limits".
            await assert.rejects(attempt, (e) => /REFUSED_STREAM|code 7\b/.test(String(e)), 'stream not refused');
        } else {
            assertErrorPage(await attempt, 413, { json: true });
        }
        assert.equal(await s.up['mnist-alice'].count(), before, 'reached the upstream');
    });

    test(`${proto}: a body of exactly maxBodyBytes passes`, async () => {
        const res = await send(proto, { method: 'POST', body: Buffer.alloc(MAX_BODY, 'z') });
        assert.equal(echoFrom(res, 'mnist-alice').bodyLength, MAX_BODY);
    });

    test(`${proto}: an unrouted path -> 404 (JSON and HTML)`, async () => {
        const b = assertErrorPage(await send(proto, { path: '/no/such/route', headers: { accept: 'application/json' } }),
                                  404, { json: true });
        assert.equal(b.status, 404);
        const html = assertErrorPage(await send(proto, { path: '/no/such/route', headers: { accept: 'text/html' } }), 404);
        assert.match(html, /404/);
    });
}

test('http/1.1: a chunked body over maxBodyBytes -> 413', async () => {
    const res = await http1(`${s.gw.origin}${PATH}`, { ...s.client, method: 'POST', chunked: true,
                                                       body: Buffer.alloc(MAX_BODY + 4096, 'c'),
                                                       headers: { accept: 'application/json' } });
    assertErrorPage(res, 413, { json: true });
});

test('http/1.1: a content-length over maxBodyBytes -> 413 before the body is sent', async () => {
    // Announce a large body, send none: the answer must not wait for it.
    const res = await http1(`${s.gw.origin}${PATH}`, { ...s.client, method: 'POST', body: Buffer.alloc(0),
                                                       headers: { 'content-length': String(MAX_BODY * 4),
                                                                  accept: 'application/json' },
                                                       timeoutMs: 5000 });
    assertErrorPage(res, 413, { json: true });
});

test('http/1.1: more than 100 header lines -> 400 from the parser, nothing forwarded', async () => {
    const before = await s.up['mnist-alice'].count();
    const res = await http1(`${s.gw.origin}${PATH}`, { ...s.client, headers: headers(120, 4) });
    assert.equal(res.status, 400);
    assertGenericBody(res.body.toString());
    assert.equal(await s.up['mnist-alice'].count(), before, 'reached the upstream');
});

test('a prefix route does not match a path that only starts like it', async () => {
    // /serving/kubeflow-alice/mnist/ is the prefix; /serving/kubeflow-alice/mnistx is another path
    const res = await http1(`${s.gw.origin}/serving/kubeflow-alice/mnistx`, { ...s.client });
    assertErrorPage(res, 404);
});
