// HTTP/2 rapid reset (CVE-2023-44487; libh2o 2.2.5 has no fix): a connection
// that opens streams and cancels them before any response is closed by the
// gateway, while a well-behaved connection that makes as many requests is not.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { before, test } from 'node:test';
import { echoFrom } from './lib/checks.mjs';
import { h2, h2Connect } from './lib/http.mjs';
import { startEdgeStack } from './lib/stack.mjs';

const PATH = '/serving/kubeflow-alice/mnist/slow';
const MAX_STREAMS = 1200; // bounded: the guard must act long before this
let s;
before(async () => {
    s = await startEdgeStack();
});

// Opens streams in batches of 50 and cancels them right after their HEADERS went out. Resolves with how many streams were opened before the server closed the connection
// (MAX_STREAMS if it never did).
async function rapidReset(session) {
    let opened = 0;
    let closed = false;
    session.on('close', () => { closed = true; });
    session.on('error', () => { closed = true; });
    while (!closed && opened < MAX_STREAMS) {
        const batch = [];
        for (let i = 0; i < 50 && !closed; i++) {
            try {
                const stream = session.request({ ':path': PATH, 'x-test-delay-ms': '2000' }, { endStream: true });
                stream.on('error', () => {});
                batch.push(stream);
                opened += 1;
            } catch {
                closed = true;
            }
        }
        // Let the HEADERS go out first (a stream cancelled before that never reaches the server); the upstream
        // holds its answer for 2 s, so every cancel still lands before any response.
        await new Promise((r) => setTimeout(r, 20));
        for (const stream of batch) stream.close(http2.constants.NGHTTP2_CANCEL);
        await new Promise((r) => setTimeout(r, 10));
    }
    return { opened, closed };
}

test('a connection that cancels its streams before any response is closed', async () => {
    const session = await h2Connect(s.gw.origin, s.client);
    const { opened, closed } = await rapidReset(session);
    session.destroy();
    assert.ok(closed, `still open after ${opened} cancelled streams`);
    assert.ok(opened >= 200, `closed after only ${opened} streams`);
    assert.match(s.gw.child.stderr(), /rapid reset/);
});

test('the gateway keeps serving other connections', async () => {
    const res = await h2(s.gw.origin, { ...s.client, path: '/serving/kubeflow-alice/mnist/after' });
    assert.equal(echoFrom(res, 'mnist-alice').url, '/serving/kubeflow-alice/mnist/after');
});

test('a busy but well-behaved connection is never closed', async () => {
    const session = await h2Connect(s.gw.origin, s.client);
    try {
        for (let round = 0; round < 6; round++) {
            const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
                h2(s.gw.origin, { ...s.client, session, path: `/serving/kubeflow-alice/mnist/${round}-${i}` })));
            for (const res of results) assert.equal(res.status, 200);
        }
        assert.equal(session.closed || session.destroyed, false);
    } finally {
        session.destroy();
    }
});
