// Traffic mirroring (VirtualService mirror + mirrorPercentage): the shadow
// upstream gets a copy of each request (method, path after rewrite, headers,
// body; Host with "-shadow"), the client only ever sees the primary's
// answers, mirrorPercentage sends that share of the copies, and a dead or
// slow shadow changes nothing for the client.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { makeCerts } from './lib/certs.mjs';
import { edgeConfig, startGateway } from './lib/gateway.mjs';
import { h2, h2Connect } from './lib/http.mjs';
import { freePort, sleep } from './lib/net.mjs';
import { ALICE_MNIST, aliceVirtualService, versionedMnistDocs } from './lib/stack.mjs';
import { startUpstream } from './lib/upstream.mjs';

let gw;
let client;
let shadow;
let slowShadow;

const route = (prefix, mirror, extra = '') => `  - match: [{uri: {prefix: ${prefix}}}]
    route: [{destination: {host: ${ALICE_MNIST}, subset: v1}}]
    mirror: {host: ${ALICE_MNIST}, subset: ${mirror}}
${extra}`;

before(async () => {
    const certs = await makeCerts();
    let primary;
    [primary, shadow, slowShadow] = await Promise.all([
        startUpstream({ name: 'mnist-v1', cert: 'mnist-alice', certs }),
        startUpstream({ name: 'mnist-shadow', cert: 'mnist-alice', certs, logEcho: true }),
        startUpstream({ name: 'mnist-slow-shadow', cert: 'mnist-alice', certs, delayMs: 3000 }),
    ]);
    const dead = { port: await freePort() }; // nothing listens there
    const docs = versionedMnistDocs(certs, { v1: primary, shadow, slow: slowShadow, dead });
    docs.push(aliceVirtualService(route('/all/', 'shadow', '    rewrite: {uri: /v1/models/}\n') +
        route('/some/', 'shadow', '    mirrorPercentage: {value: 25}\n') + route('/dead/', 'dead') + route('/slow/', 'slow')));
    gw = await startGateway({ config: (p) => edgeConfig({ ...p, certs, extraDocs: docs }) });
    client = { ca: certs.read('edge-ca.pem'), servername: 'localhost' };
});

after(async () => {
    await gw?.stop();
});

/** n requests (method, body) to `${prefix}${i}`, 8 in flight; every answer must be the primary's 200. */
async function send(prefix, n, { method = 'GET', body } = {}) {
    const session = await h2Connect(gw.origin, client);
    let sent = 0;
    const worker = async () => {
        while (sent < n) {
            sent += 1;
            const res = await h2(gw.origin, { ...client, session, method, body, path: `${prefix}${sent}` });
            assert.equal(res.status, 200);
            assert.equal(res.headers['x-upstream-name'], 'mnist-v1');
        }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    session.destroy();
}

/** The shadow's echoes whose url starts with prefix, once there are want of them (or 5 s passed). */
async function shadowEchoes(prefix, want) {
    const deadline = Date.now() + 5000;
    let seen = [];
    while (Date.now() < deadline) {
        seen = shadow.echoes().filter((e) => e.url.startsWith(prefix));
        if (seen.length >= want) break;
        await sleep(50);
    }
    await sleep(200); // and no more than that
    return shadow.echoes().filter((e) => e.url.startsWith(prefix));
}

test('every request is copied to the shadow: method, rewritten path, headers, body, -shadow host', async () => {
    const body = 'x'.repeat(5000);
    await send('/all/', 40, { method: 'POST', body });
    const echoes = await shadowEchoes('/v1/models/', 40);
    assert.equal(echoes.length, 40);
    const sha = createHash('sha256').update(body).digest('hex');
    for (const e of echoes) {
        assert.equal(e.method, 'POST');
        assert.match(e.url, /^\/v1\/models\/\d+$/);
        assert.equal(e.bodySha256, sha);
        assert.equal(e.headers.host, `localhost-shadow:${gw.httpsPort}`);
        assert.match(e.headers['x-request-id'], /\S/);
        assert.match(e.headers.traceparent, /^00-/);
    }
    assert.equal(new Set(echoes.map((e) => e.url)).size, 40, 'each request once');
});

test('mirrorPercentage 25 copies a quarter of the requests', async () => {
    await send('/some/', 200);
    const copies = (await shadowEchoes('/some/', 50)).length;
    // spread evenly per worker (two workers): 25% of each worker's share, rounded down
    assert.ok(copies >= 48 && copies <= 50, `${copies} copies of 200`);
});

test('a dead shadow changes nothing for the client', async () => {
    await send('/dead/', 50);
    assert.ok(!gw.child.result, 'the gateway still runs');
});

test('a slow shadow does not slow the client down', async () => {
    const start = Date.now();
    await send('/slow/', 40);
    const took = Date.now() - start;
    assert.ok(took < 2500, `40 requests took ${took} ms behind a shadow that answers in 3 s`);
    // a reload while those copies are in flight: the old generation keeps its pools until they end
    gw.child.proc.kill('SIGHUP');
    await sleep(3500);
    assert.match(gw.child.stderr(), /configuration reloaded/);
    await send('/slow/', 8);
    assert.ok(!gw.child.result, 'the gateway still runs');
});

test('copies in flight are capped at 16 MiB per worker: the rest are dropped, the client never waits', async () => {
    const before = slowShadow.requests().filter((l) => l.startsWith('REQ POST')).length;
    await send('/slow/', 24, { method: 'POST', body: 'b'.repeat(1000000) }); // 1 MB each, one worker
    await sleep(500);
    const copies = slowShadow.requests().filter((l) => l.startsWith('REQ POST')).length - before;
    assert.ok(copies >= 1 && copies <= 16, `${copies} copies of 24 reached the shadow`);
});
