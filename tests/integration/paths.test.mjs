// Path normalisation at the edge: routing happens on the normalised path, the
// upstream gets that same path, and ambiguous encodings are refused with 400.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { assertErrorPage, echoFrom } from './lib/checks.mjs';
import { h2, http1 } from './lib/http.mjs';
import { startEdgeStack } from './lib/stack.mjs';

let s;
before(async () => {
    s = await startEdgeStack();
});

function send(proto, path, headers = {}) {
    return proto === 'h2' ? h2(s.gw.origin, { ...s.client, path, headers })
                          : http1(`${s.gw.origin}/`, { ...s.client, path, headers });
}

// [path sent verbatim, upstream expected, path the upstream must see]
const routed = [
    ['/notebook/kubeflow-alice/../kubeflow-bob/x', 'nb1-bob', '/notebook/kubeflow-bob/x'],
    ['/notebook/kubeflow-alice/nb1/../../kubeflow-bob/x', 'nb1-bob', '/notebook/kubeflow-bob/x'],
    ['/notebook/kubeflow-alice/nb1/./../../kubeflow-bob/./y/', 'nb1-bob', '/notebook/kubeflow-bob/y/'],
    ['//serving///kubeflow-alice/mnist/x', 'mnist-alice', '/serving/kubeflow-alice/mnist/x'],
    ['/serving/kubeflow-alice/mnist/./v1/models/mnist', 'mnist-alice', '/serving/kubeflow-alice/mnist/v1/models/mnist'],
    ['/serving/kubeflow-alice/mnist/x?a=%2F&b=../c&d=%zz', 'mnist-alice',
     '/serving/kubeflow-alice/mnist/x?a=%2F&b=../c&d=%zz'],
];

// Each must be 400 (on routed prefixes too, so a 404 or an upstream answer cannot pass for it).
const refused = [
    '/a%2fb',
    '/a%2Fb',
    '/serving/kubeflow-alice/mnist/a%2fb',
    '/notebook/kubeflow-alice/nb1%2f..%2f..%2fkubeflow-bob/x',
    '/a%zz',
    '/serving/kubeflow-alice/mnist/a%zz',
    '/a%',
    '/a%4',
    '/a\\b',
    '/serving/kubeflow-alice/mnist/a\\b',
    '/serving/kubeflow-alice/mnist/%5c..%5c',
];

for (const proto of ['h2', 'http/1.1']) {
    for (const [path, upstream, seen] of routed) {
        test(`${proto}: ${path} reaches ${upstream} as ${seen}`, async () => {
            const aliceNb = await s.up['nb1-alice'].count();
            const echo = echoFrom(await send(proto, path), upstream);
            assert.equal(echo.url, seen);
            if (upstream !== 'nb1-alice') {
                assert.equal(await s.up['nb1-alice'].count(), aliceNb, 'alice\'s notebook got the request');
            }
        });
    }

    for (const path of refused) {
        test(`${proto}: ${path} -> 400`, async () => {
            const counts = await Promise.all(Object.values(s.up).map((u) => u.count()));
            const res = await send(proto, path, { accept: 'application/json' });
            assertErrorPage(res, 400, { json: true });
            assert.deepEqual(await Promise.all(Object.values(s.up).map((u) => u.count())), counts, 'reached an upstream');
        });
    }

    test(`${proto}: encoded dot segments never reach alice's notebook`, async () => {
        for (const path of ['/notebook/kubeflow-alice/nb1/%2e%2e/%2e%2e/kubeflow-bob/x',
                            '/notebook/kubeflow-alice/nb1/%2E%2E/%2E%2E/kubeflow-bob/x',
                            '/notebook/kubeflow-alice/nb1/.%2e/.%2e/kubeflow-bob/x']) {
            const before = await s.up['nb1-alice'].count();
            const res = await send(proto, path, { accept: 'application/json' });
            if (res.status === 200) {
                assert.equal(res.json().upstream, 'nb1-bob', path);
                assert.equal(res.json().url, '/notebook/kubeflow-bob/x');
            } else {
                assertErrorPage(res, 400, { json: true });
            }
            assert.equal(await s.up['nb1-alice'].count(), before, `${path} reached alice's notebook`);
        }
    });

    test(`${proto}: dot segments cannot climb above the root`, async () => {
        const res = await send(proto, '/../../serving/kubeflow-alice/mnist/x', { accept: 'application/json' });
        if (res.status === 200) assert.equal(echoFrom(res, 'mnist-alice').url, '/serving/kubeflow-alice/mnist/x');
        else assertErrorPage(res, 400, { json: true });
    });
}
