// OIDC Back-Channel Logout 1.0: the dev IdP (oidc-provider, backchannelLogout
// on for the gateway's client) posts a logout token to
// /authservice/backchannel-logout when the user's IdP sessions end; the
// gateway verifies it and ends the matching sessions. Bad requests get 400
// JSON, never a change. The IdP posts through a relay here that keeps a copy
// of each logout token (to replay one).
import assert from 'node:assert/strict';
import http from 'node:http';
import { before, test } from 'node:test';
import { echoFrom } from './lib/checks.mjs';
import { http1 } from './lib/http.mjs';
import { USERS } from './lib/idp.mjs';
import { startLoginStack } from './lib/login_stack.mjs';

const NB = '/notebook/kubeflow-alice/nb1/';
const BOB_NB = '/notebook/kubeflow-bob/nb1/';

let s;
const relayed = []; // logout tokens the IdP sent

/** Forwards the IdP's back-channel POSTs to the gateway, keeping each logout token. */
function startRelay() {
    const server = http.createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', async () => {
            const body = Buffer.concat(chunks).toString();
            relayed.push(new URLSearchParams(body).get('logout_token'));
            const answer = await post(body).catch(() => ({ status: 502 }));
            res.writeHead(answer.status, { 'cache-control': 'no-store' });
            res.end();
        });
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
        server.unref();
        resolve(`http://127.0.0.1:${server.address().port}/backchannel`);
    }));
}

before(async () => {
    s = await startLoginStack({ sessions: { cacheTtl: '30s' }, backchannel: await startRelay() });
});

/** GET path on the gateway with session id: 200 or 302 (sent to log in). */
async function statusWith(id, path = NB) {
    const res = await s.get('a', path, id);
    assert.ok(res.status === 200 || res.status === 302, `status ${res.status}`);
    return res.status;
}

function post(body) {
    return http1(`${s.gw.a.origin}/authservice/backchannel-logout`, { ca: s.certs.read('edge-ca.pem'),
        servername: 'localhost', method: 'POST', body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' } });
}

test('an IdP-side logout of alice ends both her gateway sessions (even cached), not bob\'s', async () => {
    const [alice1, alice2, bob] = [s.newBrowser(), s.newBrowser(), s.newBrowser()];
    echoFrom(await alice1.login(`${s.origin('a')}${NB}`, USERS.alice), 'nb1-alice');
    echoFrom(await alice2.login(`${s.origin('a')}${NB}`, USERS.alice), 'nb1-alice');
    echoFrom(await bob.login(`${s.origin('a')}${BOB_NB}`, USERS.bob), 'nb1-bob');
    const [a1, a2, b] = [alice1, alice2, bob].map(s.sessionOf);
    for (const id of [a1, a2]) assert.equal(await statusWith(id), 200); // now cached (cacheTtl 30 s)
    assert.equal(await statusWith(b, BOB_NB), 200);

    const before = (await s.idp.lastBackchannel()).count;
    const out = await s.idp.logout(USERS.alice.username);
    assert.equal(out.backchannel.length, 2, JSON.stringify(out));
    for (const call of out.backchannel) assert.equal(call.status, 200, JSON.stringify(out));
    const last = await s.idp.waitForBackchannel(before + 2);
    assert.equal(last.last.status, 200, JSON.stringify(last));

    assert.equal(await statusWith(a1), 302);
    assert.equal(await statusWith(a2), 302);
    assert.equal(await statusWith(b, BOB_NB), 200);

    // a logout token is accepted once: the same token again is refused (and changes nothing)
    assert.equal(relayed.length, 2);
    const replay = await post(`logout_token=${relayed[0]}`);
    assert.equal(replay.status, 400);
    assert.match(replay.json().error_description, /replayed/);
    assert.equal(await statusWith(b, BOB_NB), 200);
});

test('bad back-channel requests: 400 JSON, no-store; GET is 405', async () => {
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${b64({ alg: 'none' })}.${b64({ iss: s.idp.issuer, aud: s.idp.clientId,
        iat: Math.floor(Date.now() / 1000), jti: 'x', sub: USERS.alice.username,
        events: { 'http://schemas.openid.net/event/backchannel-logout': {} } })}.`;
    for (const body of ['', 'logout_token=', 'other=1', 'logout_token=not.a.jwt', 'logout_token=%zz',
        `logout_token=${unsigned}`]) {
        const res = await post(body);
        assert.equal(res.status, 400, `${body}: ${res.status}`);
        assert.equal(res.headers['cache-control'], 'no-store');
        assert.equal(res.json().error, 'invalid_request');
    }
    const get = await http1(`${s.gw.a.origin}/authservice/backchannel-logout`, { ca: s.certs.read('edge-ca.pem'),
        servername: 'localhost' });
    assert.equal(get.status, 405);
});
