// Sticky splits (tenantgate.io/sticky-split: user, a tenantgate extension):
// users logged in through the real IdP keep their subset of a 50/50 split for
// 100 requests and across a reload, each lands where the documented hash says
// (computed here independently), and anonymous callers still get the
// alternating weighted round robin.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createBrowser } from './lib/browserless.mjs';
import { makeCerts } from './lib/certs.mjs';
import { edgeConfig, startGateway } from './lib/gateway.mjs';
import { h2 } from './lib/http.mjs';
import { startIdp, USERS } from './lib/idp.mjs';
import { freePort, sleep } from './lib/net.mjs';
import { aliceVirtualService, versionedMnistDocs } from './lib/stack.mjs';
import { startUpstream } from './lib/upstream.mjs';
import { loginSecrets, loginSpec } from './lib/login.mjs';

const HOST = 'mnist.kubeflow-alice.svc.cluster.local';
const PATH = '/serving/kubeflow-alice/mnist/v1/models/mnist';

const login = loginSecrets(); // client-secret and session.key in login.dir
const { clientSecret } = login;

/** docs/internals/traffic.md: FNV-1a 64 over salt, NUL, key; then the splitmix64 finaliser. */
function stickyHash(salt, key) {
    const M = (1n << 64n) - 1n;
    let h = 0xcbf29ce484222325n;
    for (const byte of Buffer.concat([Buffer.from(salt), Buffer.from([0]), Buffer.from(key)])) {
        h ^= BigInt(byte);
        h = (h * 0x100000001b3n) & M;
    }
    h ^= h >> 30n;
    h = (h * 0xbf58476d1ce4e5b9n) & M;
    h ^= h >> 27n;
    h = (h * 0x94d049bb133111ebn) & M;
    h ^= h >> 31n;
    return h;
}
const expectedSubset = (user) => (stickyHash('kubeflow-alice/mnist-sticky', user) % 100n < 50n ? 'mnist-v1' : 'mnist-v2');

function splitDocs(certs, v1, v2) {
    return [...versionedMnistDocs(certs, { v1, v2 }), aliceVirtualService(`  - match: [{uri: {prefix: /serving/kubeflow-alice/mnist/}}]
    route:
    - {destination: {host: ${HOST}, subset: v1}, weight: 50}
    - {destination: {host: ${HOST}, subset: v2}, weight: 50}`, { name: 'mnist-sticky', annotations: '{tenantgate.io/sticky-split: user}' })];
}

let certs;
let v1;
let v2;
let idp;
let httpsPort;
let gw;

before(async () => {
    certs = await makeCerts();
    [v1, v2] = await Promise.all(['mnist-v1', 'mnist-v2'].map((name) => startUpstream({ name, cert: 'mnist-alice', certs })));
    httpsPort = await freePort();
    idp = await startIdp({
        clientSecret,
        redirectUris: [`https://localhost:${httpsPort}/authservice/callback`],
        postLogoutRedirectUris: [`https://localhost:${httpsPort}/`],
    });
    const spec = loginSpec({ idp, externalUrl: `https://localhost:${httpsPort}`, secrets: login });
    gw = await startGateway({
        config: (p) => edgeConfig({ ...p, certs, spec, extraDocs: splitDocs(certs, v1, v2) }),
        ports: { httpsPort, adminPort: await freePort(), httpPort: await freePort() },
    });
});

after(async () => {
    await gw?.stop();
});

/** The upstreams that answered n requests of browser, in order. */
async function upstreamsOf(browser, n) {
    const seen = [];
    for (let i = 0; i < n; i += 1) {
        const res = await browser.get(`https://localhost:${httpsPort}${PATH}?i=${i}`);
        assert.equal(res.status, 200, res.body.slice(0, 300));
        seen.push(res.headers['x-upstream-name']);
    }
    return seen;
}

async function loggedIn(user) {
    const browser = createBrowser({ ca: certs.read('edge-ca.pem'), resolve: { localhost: '127.0.0.1' } });
    const res = await browser.login(`https://localhost:${httpsPort}${PATH}`, user);
    assert.equal(res.status, 200, res.body.slice(0, 300));
    assert.ok(res.loginForm, 'went through the IdP login form');
    return browser;
}

test('alice and bob each stay on one subset for 100 requests, the one the hash names', async () => {
    const alice = await loggedIn(USERS.alice);
    const bob = await loggedIn(USERS.bob);
    const a = await upstreamsOf(alice, 100);
    const b = await upstreamsOf(bob, 100);
    assert.deepEqual(new Set(a), new Set([expectedSubset(USERS.alice.username)]), `alice: ${a.join(',')}`);
    assert.deepEqual(new Set(b), new Set([expectedSubset(USERS.bob.username)]), `bob: ${b.join(',')}`);
    // with this VirtualService name the two users hash to different halves: both subsets serve someone
    assert.notEqual(a[0], b[0]);

    // a reload that keeps the weights keeps every user where they were
    const before = (gw.child.stderr().match(/configuration reloaded/g) || []).length;
    gw.child.proc.kill('SIGHUP');
    for (let i = 0; i < 100 && (gw.child.stderr().match(/configuration reloaded/g) || []).length === before; i += 1) {
        await sleep(50);
    }
    assert.ok((gw.child.stderr().match(/configuration reloaded/g) || []).length > before, 'reloaded');
    assert.deepEqual(new Set(await upstreamsOf(alice, 20)), new Set([a[0]]));
    assert.deepEqual(new Set(await upstreamsOf(bob, 20)), new Set([b[0]]));
});

test('without a user the sticky route falls back to the weighted round robin', async () => {
    const anon = await startGateway({
        config: (p) => edgeConfig({ ...p, certs, threads: 1, extraDocs: splitDocs(certs, v1, v2) }),
        name: 'anonymous-gateway',
    });
    try {
        const client = { ca: certs.read('edge-ca.pem'), servername: 'localhost' };
        const counts = {};
        for (let i = 0; i < 40; i += 1) {
            const res = await h2(anon.origin, { ...client, path: `${PATH}?i=${i}` });
            assert.equal(res.status, 200);
            counts[res.headers['x-upstream-name']] = (counts[res.headers['x-upstream-name']] || 0) + 1;
        }
        assert.deepEqual(counts, { 'mnist-v1': 20, 'mnist-v2': 20 });
    } finally {
        await anon.stop();
    }
});
