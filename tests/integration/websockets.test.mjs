// Websockets of ended sessions are closed: alice has websockets open through
// replica A and replica B (shared Redis); she logs out on A; both tunnels are
// closed (A: where the logout ran or through the feed on its other worker; B:
// through the ended-session feed), while bob's websocket keeps working.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import WebSocket from 'ws';
import { echoFrom } from './lib/checks.mjs';
import { USERS } from './lib/idp.mjs';
import { startLoginStack } from './lib/login_stack.mjs';

const NB = '/notebook/kubeflow-alice/nb1/';
const BOB_NB = '/notebook/kubeflow-bob/nb1/';

let s;
before(async () => {
    s = await startLoginStack({ replicas: { a: {}, b: {} }, sessions: { cacheTtl: '30s', logoutPollInterval: '200ms' } });
});

/** An open websocket through replica g with session id; records when it closed (ws.closedAt). */
function openWs(name, path, id) {
    const ws = new WebSocket(`wss://localhost:${s.gw[name].httpsPort}${path}`, { ca: s.certs.read('edge-ca.pem'),
        lookup: (host, opts, cb) => (opts?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)),
        headers: { cookie: `__Host-tenantgate=${id}` } });
    ws.closed = new Promise((resolve) => ws.once('close', () => { ws.closedAt = Date.now(); resolve(); }));
    ws.on('error', () => {});
    return new Promise((resolve, reject) => {
        ws.once('open', () => resolve(ws));
        ws.once('unexpected-response', (req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
        ws.once('error', reject);
    });
}

function echo(ws, text) {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no echo within 5 s')), 5000);
        ws.once('message', (data) => { clearTimeout(timer); resolve(data.toString()); });
        ws.send(text);
    });
}

const within = (promise, ms, what) => Promise.race([promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);

test('logout on A closes alice\'s websockets on A and B; bob\'s stays', async (t) => {
    const [alice, bob] = [s.newBrowser(), s.newBrowser()];
    echoFrom(await alice.login(`${s.origin('a')}${NB}`, USERS.alice), 'nb1-alice');
    echoFrom(await bob.login(`${s.origin('a')}${BOB_NB}`, USERS.bob), 'nb1-bob');
    const id = s.sessionOf(alice);

    // several on A (two workers: some land on the one that will not run the logout), one on B
    const onA = await Promise.all([1, 2, 3, 4].map(() => openWs('a', `${NB}api/kernels/k1/channels`, id)));
    const onB = await openWs('b', `${NB}api/kernels/k1/channels`, id);
    const bobs = await openWs('a', `${BOB_NB}api/kernels/k2/channels`, s.sessionOf(bob));
    for (const ws of [...onA, onB, bobs]) assert.equal(await echo(ws, 'ping'), 'ping');

    const page = await alice.get(`${s.origin('a')}/authservice/logout`);
    assert.equal(page.status, 200);
    const loggedOut = Date.now();
    await alice.submitForm(page);

    await within(Promise.all([...onA, onB].map((ws) => ws.closed)), 3000, 'alice\'s websockets closed');
    const delays = [...onA, onB].map((ws) => ws.closedAt - loggedOut);
    t.diagnostic(`alice's websockets closed after ${delays.join(', ')} ms (A x4, B)`);
    assert.equal(bobs.readyState, WebSocket.OPEN);
    assert.equal(await echo(bobs, 'still here'), 'still here');
    // and a new websocket with the ended session is refused
    await assert.rejects(openWs('b', `${NB}api/kernels/k1/channels`, id), /upgrade answered 302/);
    bobs.close();
});
