// Browser login end to end: the gateway in front of the usual stack with an
// oidc section, the dev IdP (npm oidc-provider) and a browser without a
// browser. Both session stores: sqlite (embedded) and a redis-server this
// test starts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createBrowser } from './lib/browserless.mjs';
import { echoFrom } from './lib/checks.mjs';
import { edgeConfig, startGateway } from './lib/gateway.mjs';
import { h2, h2Connect, http1 } from './lib/http.mjs';
import { startIdp, USERS } from './lib/idp.mjs';
import { startRedis } from './lib/redis.mjs';
import { freePort, freePorts, sleep } from './lib/net.mjs';
import { makeCerts } from './lib/certs.mjs';
import { standardServices, startStandardUpstreams } from './lib/stack.mjs';
import { loginSecrets, loginSpec } from './lib/login.mjs';

const NB = '/notebook/kubeflow-alice/nb1/';
const ID = /^[A-Za-z0-9_-]{43}$/;

const login = loginSecrets();
const { dir: secrets, clientSecret } = login; // client-secret and session.key in secrets

let certs;
let up;
let idp;
let httpsPort;

before(async () => {
    certs = await makeCerts();
    up = await startStandardUpstreams(certs);
    httpsPort = await freePort();
    idp = await startIdp({
        clientSecret,
        redirectUris: [`https://localhost:${httpsPort}/authservice/callback`],
        postLogoutRedirectUris: [`https://localhost:${httpsPort}/`],
    });
});

async function startLoginGateway(store) {
    const [adminPort, httpPort] = await freePorts(2);
    const config = (ports) => edgeConfig({ ...ports, certs, services: standardServices(up) }).replace(
        'stripHeaders: [x-forwarded-user]\n',
        `stripHeaders: [x-forwarded-user]
${loginSpec({ idp, externalUrl: `https://localhost:${httpsPort}`, secrets: login, store, apiPrefixes: ['/api/'],
              more: { sessions: { idleTimeout: '3s', cacheTtl: '1s' } } })}`);
    return startGateway({ config, ports: { adminPort, httpsPort, httpPort }, name: 'login-gateway' });
}

function newBrowser() {
    return createBrowser({ ca: certs.read('edge-ca.pem'), resolve: { localhost: '127.0.0.1' } });
}

const origin = () => `https://localhost:${httpsPort}`;
const idpHops = (res) => res.chain.filter((h) => h.url.startsWith(idp.issuer)).length;

/** Logs alice in through NB; returns {browser, res, id}. */
async function loginAlice(path = NB) {
    const browser = newBrowser();
    const res = await browser.login(`${origin()}${path}`, USERS.alice);
    return { browser, res };
}

/** The session cookie of browser (jar entry), or undefined. */
const sessionEntry = (browser) => browser.jar.list.find((c) => c.name === '__Host-tenantgate');
const sessionCookie = (browser) => sessionEntry(browser)?.value;

function suite(storeName, storeUrl, storeProcess) {
    describe(`login with the ${storeName} store`, () => {
        let gw;
        before(async () => {
            gw = await startLoginGateway(storeUrl());
        });
        after(async () => {
            await gw?.stop();
        });

        test('a browser is sent through the IdP and lands on its path as alice', async () => {
            const { browser, res } = await loginAlice(`${NB}tree?x=1`);
            const echo = echoFrom(res, 'nb1-alice');
            assert.equal(res.url, `${origin()}${NB}tree?x=1`);
            assert.equal(echo.headers['kubeflow-userid'], USERS.alice.username);
            assert.equal(echo.headers['kubeflow-groups'], USERS.alice.groups.join(','));
            assert.ok(idpHops(res) >= 2, 'went through the IdP');
            const first = res.chain[0];
            assert.equal(first.status, 302);
            assert.match(first.location, /^\/authservice\/login\?rd=/);
            // the session cookie: only a 43-character id, Secure, HttpOnly, SameSite=Lax, Path=/, host-only
            const c = sessionEntry(browser);
            assert.match(c.value, ID);
            assert.ok(c.secure && c.httpOnly && c.hostOnly);
            assert.equal(c.sameSite, 'lax');
            assert.equal(c.path, '/');
            // the pending-login cookie is gone once the login finished
            assert.equal(browser.jar.list.find((x) => x.name === '__Host-tenantgate-login'), undefined);
            // session reuse: no IdP round trip
            const again = await browser.get(`${origin()}${NB}`);
            echoFrom(again, 'nb1-alice');
            assert.equal(again.chain.length, 1);
            assert.equal(idpHops(again), 0);
        });

        test('HTTP/2: the session works, several requests on one connection, a stale cookie gets 302', async () => {
            const { browser } = await loginAlice();
            const id = sessionCookie(browser);
            const ca = certs.read('edge-ca.pem');
            for (let i = 0; i < 3; i += 1) {
                await sleep(i === 2 ? 1100 : 0); // past the 1 s cache TTL: read from the store again
                const res = await h2(gw.origin, { ca, servername: 'localhost', path: NB,
                    headers: { cookie: ['a=1', `__Host-tenantgate=${id}`], accept: 'text/html' } });
                assert.equal(res.status, 200);
                assert.equal(res.json().headers['kubeflow-userid'], USERS.alice.username);
            }
            const stale = await h2(gw.origin, { ca, servername: 'localhost', path: NB,
                headers: { cookie: `__Host-tenantgate=${'x'.repeat(43)}`, accept: 'text/html' } });
            assert.equal(stale.status, 302);
            assert.equal(stale.headers.location, `/authservice/login?rd=${encodeURIComponent(NB)}`);
        });

        test('the gateway\'s own cookies never reach the upstream; the others do, in order', async () => {
            const { browser } = await loginAlice();
            const id = sessionCookie(browser);
            const ca = certs.read('edge-ca.pem');
            const login = '__Host-tenantgate-login=pending1';
            // HTTP/1.1, one Cookie header
            const one = await http1(`${gw.origin}${NB}`, { ca, servername: 'localhost', headers: {
                cookie: `_xsrf=2|abc|def; __Host-tenantgate=${id}; ${login};theme=dark`, accept: 'text/html' } });
            assert.equal(one.status, 200);
            assert.equal(one.json().headers['kubeflow-userid'], USERS.alice.username);
            assert.equal(one.json().headers.cookie, '_xsrf=2|abc|def; theme=dark');
            // HTTP/2, one Cookie header per cookie (as browsers send them), one of them only gateway cookies
            const two = await h2(gw.origin, { ca, servername: 'localhost', path: NB, headers: {
                cookie: [`__Host-tenantgate=${id}`, '_xsrf=2|x', `${login}; a=1`], accept: 'text/html' } });
            assert.equal(two.status, 200);
            assert.equal(two.json().headers.cookie, '_xsrf=2|x; a=1');
            // only gateway cookies: no Cookie header at all upstream
            const none = await h2(gw.origin, { ca, servername: 'localhost', path: NB, headers: {
                cookie: [`__Host-tenantgate=${id}`, login], accept: 'text/html' } });
            assert.equal(none.status, 200);
            assert.equal(none.json().headers.cookie, undefined);
            assert.ok(!JSON.stringify(none.json()).includes(id), 'the session id reached the upstream');
        });

        test('an idle session ends after idleTimeout; use keeps it alive', async () => {
            const { browser } = await loginAlice();
            for (const wait of [1100, 1100]) { // each past the cache TTL: read from the store, idle clock reset
                await sleep(wait);
                echoFrom(await browser.get(`${origin()}${NB}`), 'nb1-alice');
            }
            await sleep(3200);
            const res = await http1(`${gw.origin}${NB}`, { ca: certs.read('edge-ca.pem'), servername: 'localhost',
                headers: { cookie: `__Host-tenantgate=${sessionCookie(browser)}`, accept: 'text/html' } });
            assert.equal(res.status, 302);
            assert.match(res.headers.location, /^\/authservice\/login\?rd=/);
        });

        test('API clients get 401 JSON with WWW-Authenticate, never a redirect', async () => {
            const ca = certs.read('edge-ca.pem');
            const cases = [
                { path: NB, headers: { accept: 'application/json' } },
                { path: NB, headers: { 'x-requested-with': 'XMLHttpRequest' } },
                { path: NB, method: 'POST', body: 'a=1' },
                { path: '/api/v1/things', headers: { accept: 'text/html' } },
                { path: NB, headers: { authorization: 'Bearer abc' } },
            ];
            for (const c of cases) {
                const res = await http1(`${gw.origin}${c.path}`, { ca, servername: 'localhost', method: c.method,
                    body: c.body, headers: c.headers });
                assert.equal(res.status, 401, JSON.stringify(c));
                assert.equal(res.headers['www-authenticate'], 'Bearer realm="tenantgate"');
                assert.equal(res.headers.location, undefined);
                assert.equal(res.json().status, 401);
            }
            const browser = await http1(`${gw.origin}${NB}`, { ca, servername: 'localhost',
                headers: { accept: 'text/html' } });
            assert.equal(browser.status, 302);
        });

        test('/authservice/me is alice JSON with a session, 401 without', async () => {
            const { browser } = await loginAlice();
            const me = await browser.get(`${origin()}/authservice/me`);
            assert.equal(me.status, 200);
            const body = me.json();
            assert.equal(body.email, USERS.alice.username);
            assert.equal(typeof body.sub, 'string');
            assert.deepEqual(body.groups, USERS.alice.groups);
            const anon = await newBrowser().get(`${origin()}/authservice/me`);
            assert.equal(anon.status, 401);
            assert.equal(anon.headers['www-authenticate'], 'Bearer realm="tenantgate"');
        });

        test('callback rejections: missing, unknown, replayed, foreign state; tampered code', async () => {
            const browser = newBrowser();
            // start a login and stop at the IdP form: the browser now holds a pending state
            const start = await browser.get(`${origin()}${NB}`);
            const authorize = start.chain.find((h) => h.url.startsWith(`${idp.issuer}/auth?`));
            const state = new URL(authorize.url).searchParams.get('state');
            assert.match(state, ID);
            const cb = (q) => browser.get(`${origin()}/authservice/callback?${q}`);
            const noSession = () => assert.equal(sessionCookie(browser), undefined);
            for (const q of ['code=abc', `state=${'A'.repeat(43)}&code=abc`, `state=${state}`,
                             `state=${state}&error=access_denied&error_description=%3Cscript%3E`]) {
                const res = await cb(q);
                assert.ok(res.status === 400 || res.status === 401, `${q}: ${res.status}`);
                assert.doesNotMatch(res.body, /script|access_denied/);
                noSession();
            }
            // tampered code: the state is consumed and the IdP refuses the code
            const tampered = await cb(`state=${state}&code=tampered-code`);
            assert.ok(tampered.status === 400 || tampered.status === 401, `tampered: ${tampered.status}`);
            noSession();
            // replay: the state was used (taken) by the tampered attempt
            const replay = await cb(`state=${state}&code=abc`);
            assert.equal(replay.status, 400);
            noSession();
            // a state this browser never started (it belongs to another browser)
            const other = newBrowser();
            const otherStart = await other.get(`${origin()}${NB}`);
            const otherState = new URL(otherStart.chain.find((h) => h.url.startsWith(`${idp.issuer}/auth?`)).url)
                .searchParams.get('state');
            const foreign = await cb(`state=${otherState}&code=abc`);
            assert.equal(foreign.status, 400);
            noSession();
            // a real code replayed after a successful login is refused too
            const { browser: b2, res } = await loginAlice();
            const callbackHop = res.chain.find((h) => h.url.startsWith(`${origin()}/authservice/callback?`));
            const again = await b2.get(callbackHop.url);
            assert.equal(again.status, 400);
        });

        test('open redirect attempts in rd land on a local path', async () => {
            for (const rd of ['//evil.example', '/\\evil.example', 'https://evil.example', '%2F%2Fevil.example',
                              '/%5Cevil.example']) {
                const browser = newBrowser();
                const res = await browser.login(`${origin()}/authservice/login?rd=${encodeURIComponent(rd)}`,
                    USERS.alice);
                const last = res.chain[res.chain.length - 1];
                assert.ok(last.url.startsWith(`${origin()}/`), `${rd} -> ${last.url}`);
                assert.ok(!res.chain.some((h) => h.url.includes('evil.example') && !h.url.includes('rd=')),
                    `${rd}: ${JSON.stringify(res.chain)}`);
                const back = res.chain.find((h) => h.url.startsWith(`${origin()}/authservice/callback`));
                assert.equal(back.location, '/', rd);
            }
        });

        if (storeProcess) {
            test('store stalled: a client leaving mid-lookup is dropped safely, then 503 (no login loop), then back', async () => {
                const { browser } = await loginAlice();
                const id = sessionCookie(browser);
                const ca = certs.read('edge-ca.pem');
                const get = (timeoutMs) => http1(`${gw.origin}${NB}`, { ca, servername: 'localhost', timeoutMs,
                    headers: { cookie: `__Host-tenantgate=${id}`, accept: 'text/html' } });
                await sleep(1100); // past the cache TTL: every lookup asks the store
                const redisProc = storeProcess();
                redisProc.kill('SIGSTOP');
                try {
                    // the client goes away while its lookup waits on the store
                    await assert.rejects(get(50));
                    const res = await get(5000);
                    assert.equal(res.status, 503);
                    assert.equal(res.headers.location, undefined);
                } finally {
                    redisProc.kill('SIGCONT');
                }
                await sleep(200);
                const back = await get(5000);
                assert.equal(back.status, 200);
                assert.equal(back.json().headers['kubeflow-userid'], USERS.alice.username);
            });
        }

        if (storeProcess) {
            test('concurrent requests of one session past the cache TTL read the store once', async () => {
                const { browser } = await loginAlice();
                const id = sessionCookie(browser);
                const ca = certs.read('edge-ca.pem');
                // GETs Redis has run so far: a miss reads the record and its idle marker (2 GETs, pipelined)
                const gets = () => {
                    const info = execFileSync('redis-cli', ['-p', String(redis.port), 'INFO', 'commandstats'],
                        { encoding: 'utf8' });
                    return Number(/^cmdstat_get:calls=(\d+)/m.exec(info)?.[1] ?? 0);
                };
                const session = await h2Connect(gw.origin, { ca, servername: 'localhost' }); // one worker
                try {
                    await sleep(1100); // past the 1 s cache TTL
                    const before = gets();
                    const answers = await Promise.all(Array.from({ length: 20 }, () => h2(gw.origin, { session,
                        path: NB, headers: { cookie: `__Host-tenantgate=${id}`, accept: 'text/html' } })));
                    const after = gets();
                    for (const res of answers) {
                        assert.equal(res.status, 200);
                        assert.equal(res.json().headers['kubeflow-userid'], USERS.alice.username);
                    }
                    assert.equal(after - before, 2, 'twenty concurrent misses of one session: one store read');
                    // now cached (for the 1 s TTL): hits, one at a time and concurrent, never ask the store
                    const hit = () => h2(gw.origin, { session, path: NB,
                        headers: { cookie: `__Host-tenantgate=${id}`, accept: 'text/html' } });
                    const hits = [await hit(), await hit(), ...await Promise.all(Array.from({ length: 10 }, hit))];
                    for (const res of hits) {
                        assert.equal(res.status, 200);
                        assert.equal(res.json().headers['kubeflow-userid'], USERS.alice.username);
                    }
                    assert.equal(gets() - after, 0, 'a cache hit read the store');
                } finally {
                    session.close();
                }
            });
        }

        test('logout: confirm page, CSRF required, session deleted, cookie cleared, IdP end_session', async () => {
            const { browser } = await loginAlice();
            const id = sessionCookie(browser);
            const page = await browser.get(`${origin()}/authservice/logout`);
            assert.equal(page.status, 200);
            assert.match(page.body, /name="csrf"/);
            const noCsrf = await browser.post(`${origin()}/authservice/logout`, {}, { from: `${origin()}/authservice/logout` });
            assert.equal(noCsrf.status, 403);
            const badCsrf = await browser.post(`${origin()}/authservice/logout`, { csrf: 'A'.repeat(43) },
                { from: `${origin()}/authservice/logout` });
            assert.equal(badCsrf.status, 403);
            assert.equal(sessionCookie(browser), id);
            const out = await browser.submitForm(page);
            const toIdp = out.chain.find((h) => h.url.startsWith(`${idp.issuer}`));
            assert.ok(toIdp, JSON.stringify(out.chain));
            assert.match(toIdp.url, /id_token_hint=/);
            assert.equal(sessionCookie(browser), undefined);
            // the old cookie no longer works, even after the cache TTL is irrelevant (deleted everywhere)
            const ca = certs.read('edge-ca.pem');
            const res = await http1(`${gw.origin}/authservice/me`, { ca, servername: 'localhost',
                headers: { cookie: `__Host-tenantgate=${id}` } });
            assert.equal(res.status, 401);
            // nor on a proxied path, within the cache TTL of its last use (the identity step's cache probe)
            const proxied = await http1(`${gw.origin}${NB}`, { ca, servername: 'localhost',
                headers: { cookie: `__Host-tenantgate=${id}`, accept: 'text/html' } });
            assert.equal(proxied.status, 302);
            assert.match(proxied.headers.location, /^\/authservice\/login\?rd=/);
        });
    });
}

suite('sqlite', () => `sqlite://${join(secrets, 'sessions.db')}`);

let redis;
before(async () => {
    redis = await startRedis();
});
suite('redis', () => redis.url, () => redis.child.proc);
