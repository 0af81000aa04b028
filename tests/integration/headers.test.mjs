// Request headers the upstream sees: client-sent identity headers are gone,
// forwarding and tracing headers are the gateway's.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { TRACEPARENT, UUID, echoFrom } from './lib/checks.mjs';
import { h2, http1 } from './lib/http.mjs';
import { startEdgeStack } from './lib/stack.mjs';

const PATH = '/serving/kubeflow-alice/mnist/v1/models/mnist';
let s;
before(async () => {
    s = await startEdgeStack({ stripHeaders: ['x-forwarded-user'] });
});

async function echo(proto, headers) {
    const res = proto === 'h2' ? await h2(s.gw.origin, { ...s.client, path: PATH, headers })
                               : await http1(`${s.gw.origin}${PATH}`, { ...s.client, headers });
    return echoFrom(res, 'mnist-alice').headers;
}

for (const proto of ['h2', 'http/1.1']) {
    test(`${proto}: client-sent identity headers are stripped, others kept`, async () => {
        const h = await echo(proto, {
            'kubeflow-userid': 'mallory@example.com',
            'kubeflow-groups': 'admins',
            'x-forwarded-user': 'mallory',
            'x-keep-me': 'kept',
        });
        for (const name of ['kubeflow-userid', 'kubeflow-groups', 'x-forwarded-user']) {
            assert.equal(h[name], undefined, `${name} reached the upstream: ${h[name]}`);
        }
        assert.equal(h['x-keep-me'], 'kept');
    });

    test(`${proto}: forwarding headers are set`, async () => {
        const h = await echo(proto, {});
        assert.equal(h['x-forwarded-proto'], 'https');
        assert.equal(h['x-forwarded-for'], '127.0.0.1');
        assert.match(h['x-request-id'] || '', UUID);
        assert.match(h.traceparent || '', TRACEPARENT);
    });

    test(`${proto}: a valid client traceparent keeps its trace-id`, async () => {
        const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
        const h = await echo(proto, { traceparent: `00-${trace}-00f067aa0ba902b7-01` });
        const m = (h.traceparent || '').match(TRACEPARENT);
        assert.ok(m, `traceparent ${h.traceparent}`);
        assert.equal(m[1], trace);
    });
}

test('http/1.1: identity headers are stripped whatever their case or count', async () => {
    const h = await echo('http/1.1', {
        'KubeFlow-UserId': 'mallory@example.com',
        'KUBEFLOW-GROUPS': ['admins', 'root'],
        'X-Forwarded-User': ['a', 'b'],
    });
    for (const name of ['kubeflow-userid', 'kubeflow-groups', 'x-forwarded-user']) {
        assert.equal(h[name], undefined, `${name} reached the upstream: ${h[name]}`);
    }
});

test('every request gets its own x-request-id and trace-id', async () => {
    const a = await echo('h2', {});
    const b = await echo('http/1.1', {});
    assert.notEqual(a['x-request-id'], b['x-request-id']);
    assert.notEqual(a.traceparent.split('-')[1], b.traceparent.split('-')[1]);
});

const invalidTraceparents = [
    'garbage',
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01', // zero trace-id
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', // zero parent-id
    '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', // upper case
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', // version ff
    '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01', // short trace-id
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g', // bad flags
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra', // version 00 has exactly 4 fields
];
for (const bad of invalidTraceparents) {
    test(`an invalid traceparent is replaced: ${bad}`, async () => {
        const h = await echo('h2', { traceparent: bad });
        const m = (h.traceparent || '').match(TRACEPARENT);
        assert.ok(m, `traceparent ${h.traceparent}`);
        assert.notEqual(m[1], bad.split('-')[1]?.toLowerCase(), 'kept the invalid trace-id');
    });
}
