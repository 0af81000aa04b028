// Retries of idempotent requests (VirtualService retries): with one live and
// one dead endpoint taking turns, a route without retries fails every other
// request, a route with retries answers every GET, PUT and DELETE from the
// live endpoint, POST is never retried, and perTryTimeout moves a request off
// an endpoint that does not answer in time.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeCerts } from './lib/certs.mjs';
import { edgeConfig, startGateway } from './lib/gateway.mjs';
import { h2, h2Connect } from './lib/http.mjs';
import { freePort } from './lib/net.mjs';
import { ALICE_MNIST, aliceVirtualService, versionedMnistDocs } from './lib/stack.mjs';
import { startUpstream } from './lib/upstream.mjs';

let gw;
let client;

const route = (prefix, subset, retries = '') => `  - match: [{uri: {prefix: ${prefix}}}]
    route: [{destination: {host: ${ALICE_MNIST}, subset: ${subset}}}]
${retries}`;

before(async () => {
    const certs = await makeCerts();
    const [live, slow, busy] = await Promise.all([
        startUpstream({ name: 'mnist-live', cert: 'mnist-alice', certs }),
        startUpstream({ name: 'mnist-slow', cert: 'mnist-alice', certs, delayMs: 2000 }),
        startUpstream({ name: 'mnist-busy', cert: 'mnist-alice', certs, status: 503 }),
    ]);
    live.labels = 'flaky: "y", tortoise: "y", sulky: "y"';
    slow.labels = 'tortoise: "y"';
    busy.labels = 'sulky: "y"';
    const dead = { port: await freePort(), labels: 'flaky: "y"' }; // nothing listens there: refused
    const docs = versionedMnistDocs(certs, { live, dead, slow, busy }, {
        subsets: ['{name: flaky, labels: {flaky: "y"}}', '{name: tortoise, labels: {tortoise: "y"}}',
                  '{name: sulky, labels: {sulky: "y"}}'],
    });
    docs.push(aliceVirtualService(
        route('/plain/', 'flaky') +
        route('/retry/', 'flaky', '    retries: {attempts: 2, retryOn: connect-failure}\n') +
        route('/hurry/', 'tortoise', '    retries: {attempts: 1, perTryTimeout: 300ms, retryOn: gateway-error}\n') +
        route('/busy/', 'sulky', '    retries: {attempts: 1}\n'))); // the default retryOn has 503
    // one worker: the endpoints of a subset take strict turns
    gw = await startGateway({ config: (p) => edgeConfig({ ...p, certs, threads: 1, extraDocs: docs }) });
    client = { ca: certs.read('edge-ca.pem'), servername: 'localhost' };
});

after(async () => {
    await gw?.stop();
});

/** n requests one after the other; the statuses and upstream names of the answers. */
async function statuses(prefix, n, method = 'GET') {
    const session = await h2Connect(gw.origin, client);
    const seen = [];
    for (let i = 0; i < n; i += 1) {
        const body = method === 'POST' || method === 'PUT' ? `{"i": ${i}}` : undefined;
        const res = await h2(gw.origin, { ...client, session, method, body, path: `${prefix}${i}` });
        seen.push(res.status === 200 ? res.headers['x-upstream-name'] : res.status);
    }
    session.destroy();
    return seen;
}

const count = (list, value) => list.filter((x) => x === value).length;

// The tests share one worker's retry budget (20% of its requests over 10 s, at least 30 retries) and
// run in this order within one window. The bad endpoint's turn comes for every first try on /retry/,
// /hurry/ and /busy/ once one was retried: a retry moves the round robin on by one too.
test('with retries every GET, PUT and DELETE is answered by the live endpoint', async () => {
    for (const [method, n] of [['GET', 10], ['PUT', 5], ['DELETE', 5]]) {
        const seen = await statuses('/retry/', n, method);
        assert.equal(count(seen, 'mnist-live'), n, `${method}: ${seen.join(',')}`);
    }
    assert.match(gw.child.stderr(), /retry: request \S+: try 1 failed \(connect failure, 502\), retrying/);
});

test('perTryTimeout moves a request off an endpoint that does not answer in time', async () => {
    const took = [];
    const seen = [];
    for (let i = 0; i < 6; i += 1) {
        const start = Date.now();
        seen.push(...await statuses('/hurry/', 1));
        took.push(Date.now() - start);
    }
    assert.deepEqual(seen, Array(6).fill('mnist-live'));
    // each within the 300 ms try plus a retry, well before the slow endpoint's 2 s
    assert.ok(Math.max(...took) < 1500, `requests took ${took.join(', ')} ms`);
    assert.match(gw.child.stderr(), /try 1 failed \(timeout, 504\), retrying/);
});

test('an upstream 503 is retried (default retryOn) and the client never sees it', async () => {
    const seen = await statuses('/busy/', 6);
    assert.deepEqual(seen, Array(6).fill('mnist-live'));
    assert.match(gw.child.stderr(), /try 1 failed \(status, 503\), retrying/);
});

test('POST is never retried', async () => {
    const seen = await statuses('/retry/', 10, 'POST');
    assert.ok(count(seen, 502) >= 5, seen.join(','));
});

test('the retry budget stops retries once spent', async () => {
    const seen = await statuses('/retry/', 20);
    // about 30 retries so far (every first try on /retry/, /hurry/ and /busy/ after the first met the bad
    // one): the budget allows 30 in the window, so now every other request fails as without retries
    const failed = count(seen, 502);
    assert.ok(failed >= 5 && failed <= 10, seen.join(','));
    assert.match(gw.child.stderr(), /retry budget of \S+ spent: no retry/);
});

test('without retries every other request meets the dead endpoint', async () => {
    const seen = await statuses('/plain/', 20);
    assert.equal(count(seen, 502), 10, seen.join(','));
    assert.equal(count(seen, 'mnist-live'), 10, seen.join(','));
});
