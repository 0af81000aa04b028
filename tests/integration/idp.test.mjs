// Self-checks of the dev IdP (tests/fixtures/idp.mjs) and of the login
// helpers (lib/browserless.mjs), without the gateway: the test itself plays
// the relying party, with a tiny HTTP server for its callback, post-logout
// and back-channel logout endpoints.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { makeCerts } from './lib/certs.mjs';
import { CookieJar, createBrowser, parseForms, siteOf } from './lib/browserless.mjs';
import { pkcePair, randomValue, startIdp, USERS } from './lib/idp.mjs';
import { runCommand, sourceDir } from './lib/procs.mjs';

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const MACHINE = 'metrics-bot';

let rp; // the relying party's endpoints
let idp;

// ---- the relying party: /callback, /signed-out, /backchannel -----------------

function startRp() {
    const state = { callbacks: [], logoutTokens: [], waiters: [], backchannelStatus: 200, origin: '' };
    const server = http.createServer((req, res) => {
        const u = new URL(req.url, 'http://rp.invalid');
        if (req.method === 'POST' && u.pathname === '/backchannel') {
            const chunks = [];
            req.on('data', (c) => chunks.push(c));
            req.on('end', () => {
                const form = new URLSearchParams(Buffer.concat(chunks).toString());
                state.logoutTokens.push({ token: form.get('logout_token'), type: req.headers['content-type'] });
                for (const w of state.waiters.splice(0)) w();
                res.writeHead(state.backchannelStatus, { 'cache-control': 'no-store' });
                res.end();
            });
            return;
        }
        if (req.method === 'GET' && (u.pathname === '/callback' || u.pathname === '/signed-out')) {
            if (u.pathname === '/callback') state.callbacks.push(Object.fromEntries(u.searchParams));
            res.writeHead(200, { 'content-type': 'text/plain' });
            res.end(`rp ${u.pathname}`);
            return;
        }
        res.writeHead(404);
        res.end();
    });
    return new Promise((resolve) => {
        server.listen(0, '127.0.0.1', () => {
            state.origin = `http://127.0.0.1:${server.address().port}`;
            state.server = server;
            /** Resolves the n-th (1-based) logout token once it arrived. */
            state.logoutToken = async (n, timeoutMs = 5000) => {
                const deadline = Date.now() + timeoutMs;
                while (state.logoutTokens.length < n) {
                    if (Date.now() > deadline) throw new Error(`logout token #${n} never arrived`);
                    await new Promise((r) => {
                        state.waiters.push(r);
                        setTimeout(r, 100);
                    });
                }
                return state.logoutTokens[n - 1].token;
            };
            resolve(state);
        });
    });
}

before(async () => {
    rp = await startRp();
    idp = await startIdp({
        redirectUris: [`${rp.origin}/callback`],
        postLogoutRedirectUris: [`${rp.origin}/signed-out`],
        backchannelLogoutUri: `${rp.origin}/backchannel`,
        machineClientId: MACHINE,
    });
});

after(() => new Promise((resolve) => (rp ? rp.server.close(resolve) : resolve())));

// ---- helpers ---------------------------------------------------------------

const keySet = async () => createLocalJWKSet(await idp.jwks());

/**
 * Logs user in through a fresh browser (or the given one); returns
 * {browser, res, callback (the query the RP received), verifier, nonce, state}.
 */
async function loginFlow(user = USERS.alice, { browser = createBrowser(), scope, prompt, resource, clientId } = {}) {
    const { verifier, challenge } = pkcePair();
    const nonce = randomValue();
    const state = randomValue();
    const res = await browser.login(idp.authorizeUrl({ state, nonce, challenge, scope, prompt, resource, clientId }),
                                    { username: user.username, password: user.password });
    assert.equal(res.status, 200, `login ended with ${res.status} at ${res.url}: ${res.body.slice(0, 300)}`);
    assert.equal(new URL(res.url).pathname, '/callback', `login ended at ${res.url}`);
    const callback = Object.fromEntries(new URL(res.url).searchParams);
    assert.equal(callback.state, state);
    assert.equal(callback.iss, idp.issuer, 'RFC 9207 iss parameter');
    assert.ok(callback.code, `no code: ${JSON.stringify(callback)}`);
    return { browser, res, callback, verifier, nonce, state };
}

async function exchange(code, verifier, extra = {}, auth) {
    const res = await idp.token({
        grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: `${rp.origin}/callback`, ...extra,
    }, auth);
    return res;
}

async function tokensFor(user = USERS.alice, opts = {}) {
    const flow = await loginFlow(user, opts);
    const res = await exchange(flow.callback.code, flow.verifier, opts.tokenParams || {}, opts.auth);
    assert.equal(res.status, 200, `token endpoint: ${res.status} ${res.body}`);
    return { ...flow, tokens: res.json() };
}

async function verifyIdToken(idToken, nonce, user = USERS.alice, aud = idp.clientId) {
    const { payload, protectedHeader } = await jwtVerify(idToken, await keySet(), {
        issuer: idp.issuer, audience: aud, algorithms: ['RS256', 'ES256'],
    });
    assert.equal(payload.nonce, nonce);
    assert.equal(payload.sub, user.username);
    assert.equal(payload.email, user.username);
    assert.equal(payload.email_verified, true);
    assert.deepEqual(payload.groups, user.groups);
    assert.equal(typeof payload.sid, 'string');
    assert.ok(payload.exp - payload.iat === 300, `ID token TTL ${payload.exp - payload.iat}`);
    return { payload, protectedHeader };
}

// ---- the IdP ---------------------------------------------------------------

test('discovery names the issuer, the endpoints, S256 only and back-channel logout', async () => {
    const d = await idp.discovery();
    assert.equal(d.issuer, idp.issuer);
    assert.match(idp.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    for (const [field, path] of [['authorization_endpoint', '/auth'], ['token_endpoint', '/token'],
                                 ['jwks_uri', '/jwks'], ['userinfo_endpoint', '/me'],
                                 ['end_session_endpoint', '/session/end'],
                                 ['introspection_endpoint', '/token/introspection'],
                                 ['revocation_endpoint', '/token/revocation']]) {
        assert.equal(d[field], `${idp.issuer}${path}`, field);
    }
    assert.deepEqual(d.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(d.response_types_supported, ['code']);
    assert.equal(d.backchannel_logout_supported, true);
    assert.equal(d.backchannel_logout_session_supported, true);
    for (const s of ['openid', 'email', 'profile', 'groups', 'offline_access']) assert.ok(d.scopes_supported.includes(s), s);
    assert.ok(d.claims_supported.includes('groups'));
    const jwks = await idp.jwks();
    assert.deepEqual(jwks.keys.map((k) => `${k.kty}/${k.alg}`), ['RSA/RS256', 'EC/ES256']);
    assert.ok(jwks.keys.every((k) => k.kid && !k.d), 'public keys with kids only');
    assert.deepEqual(await idp.keys(), jwks.keys.map((k) => k.kid));
});

test('code + PKCE: login form, code exchange with client_secret_basic, ID token verified with jose', async () => {
    const { res, callback, verifier, nonce, browser } = await loginFlow();
    // authorize -> interaction (form) -> POST login -> resume -> callback
    const hops = res.chain.map((h) => `${h.method} ${new URL(h.url).pathname.replace(/\/[\w-]{20,}/, '/:uid')} ${h.status}`);
    assert.deepEqual(hops, ['GET /auth 303', 'GET /interaction/:uid 200', 'POST /interaction/:uid/login 303',
                            'GET /auth/:uid 303', 'GET /callback 200']);
    const session = browser.jar.get(idp.issuer, '_session');
    assert.ok(session && session.httpOnly && session.sameSite === 'lax', 'IdP session cookie');

    const tokenRes = await exchange(callback.code, verifier);
    assert.equal(tokenRes.status, 200, tokenRes.body);
    const tokens = tokenRes.json();
    assert.equal(tokens.token_type, 'Bearer');
    assert.equal(tokens.expires_in, 300);
    assert.equal(tokens.refresh_token, undefined, 'no refresh token without offline_access');
    const { protectedHeader } = await verifyIdToken(tokens.id_token, nonce);
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(protectedHeader.kid, (await idp.keys())[0]);

    // no resource asked + openid: an opaque token for userinfo
    assert.equal(tokens.access_token.split('.').length, 1, 'opaque access token');
    const { http1 } = await import('./lib/http.mjs');
    const me = await http1(idp.url('/me'), { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(me.status, 200, me.body);
    assert.deepEqual(me.json().groups, USERS.alice.groups);

    // a code is good once
    const again = await exchange(callback.code, verifier);
    assert.equal(again.status, 400);
    assert.equal(again.json().error, 'invalid_grant');
});

test('the <client>-post twin authenticates with client_secret_post only', async () => {
    const flow = await loginFlow(USERS.bob, { clientId: idp.postClientId });
    const basic = await exchange(flow.callback.code, flow.verifier, {},
                                 { clientId: idp.postClientId, method: 'basic' });
    assert.equal(basic.status, 401, basic.body);
    assert.equal(basic.json().error, 'invalid_client');
    const post = await exchange(flow.callback.code, flow.verifier, {}, { clientId: idp.postClientId, method: 'post' });
    assert.equal(post.status, 200, post.body);
    await verifyIdToken(post.json().id_token, flow.nonce, USERS.bob, idp.postClientId);
});

test('PKCE is required and checked', async () => {
    const errorOf = async (params) => {
        const res = await createBrowser().get(idp.authorizeUrl({ state: 's', nonce: 'n', ...params }));
        assert.equal(new URL(res.url).pathname, '/callback', `ended at ${res.url}`);
        return Object.fromEntries(new URL(res.url).searchParams);
    };
    const none = await errorOf({});
    assert.equal(none.error, 'invalid_request');
    assert.match(none.error_description, /PKCE/);
    const plain = await errorOf({ extra: { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' } });
    assert.equal(plain.error, 'invalid_request');

    const flow = await loginFlow();
    for (const [what, verifier] of [['a wrong verifier', pkcePair().verifier], ['no verifier', undefined]]) {
        const res = await idp.token({ grant_type: 'authorization_code', code: flow.callback.code,
                                      redirect_uri: `${rp.origin}/callback`,
                                      ...(verifier ? { code_verifier: verifier } : {}) });
        assert.equal(res.status, 400, `${what}: ${res.body}`);
        assert.equal(res.json().error, 'invalid_grant', what);
    }
});

test('a wrong password gets 401 and the form again; the right one then goes through', async () => {
    const browser = createBrowser();
    const { challenge, verifier } = pkcePair();
    const url = idp.authorizeUrl({ state: 'st', nonce: 'nn', challenge });
    for (const [username, password] of [[USERS.alice.username, 'bob-password'], ['mallory@example.com', 'x'],
                                        [USERS.alice.username, '']]) {
        const res = await browser.login(url, { username, password });
        assert.equal(res.status, 401, `${username}/${password}: ${res.status} at ${res.url}`);
        assert.match(res.url, /\/interaction\/[\w-]+\/login$/);
        assert.match(res.body, /id="error"[^>]*>Wrong username or password/);
        assert.ok(parseForms(res.body).some((f) => f.fields.some((x) => x.name === 'password')), 'the form again');
        assert.equal(rp.callbacks.filter((c) => c.state === 'st').length, 0, 'no code after a wrong password');
    }
    const page = await browser.get(url);
    const wrong = await browser.submitForm(page, { values: { username: USERS.alice.username, password: 'nope' } });
    assert.equal(wrong.status, 401);
    const ok = await browser.submitForm(wrong, { values: { username: USERS.alice.username, password: USERS.alice.password } });
    assert.equal(new URL(ok.url).pathname, '/callback');
    const res = await exchange(new URL(ok.url).searchParams.get('code'), verifier);
    assert.equal(res.status, 200, res.body);
});

test('refresh tokens: offline_access + prompt=consent, consent given without a page', async () => {
    const scope = 'openid email groups offline_access';
    const { tokens, res, nonce } = await tokensFor(USERS.alice, { scope, prompt: 'consent' });
    assert.equal(res.chain.filter((h) => h.method === 'POST').length, 1, 'one form (login), no consent page');
    assert.ok(tokens.refresh_token, 'a refresh token');
    assert.equal(tokens.scope, scope);
    const first = await verifyIdToken(tokens.id_token, nonce);

    const refreshed = await idp.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    assert.equal(refreshed.status, 200, refreshed.body);
    const t2 = refreshed.json();
    assert.notEqual(t2.access_token, tokens.access_token);
    const { payload } = await jwtVerify(t2.id_token, await keySet(), { issuer: idp.issuer, audience: idp.clientId });
    assert.equal(payload.sub, USERS.alice.username);
    assert.equal(payload.sid, first.payload.sid);
    assert.deepEqual(payload.groups, USERS.alice.groups);

    // a refresh token bound to another client is refused
    const stolen = await idp.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
                                   { clientId: idp.postClientId, method: 'post' });
    assert.equal(stolen.status, 400, stolen.body);
    assert.equal(stolen.json().error, 'invalid_grant');

    // without prompt=consent the IdP drops offline_access (OIDC Core 11)
    const plain = await tokensFor(USERS.alice, { scope });
    assert.equal(plain.tokens.refresh_token, undefined);
});

test('resource=<audience> gets an RFC 9068 JWT access token (typ at+jwt) with email and groups', async () => {
    const { tokens } = await tokensFor(USERS.bob, { scope: 'openid email groups api', resource: idp.audience,
                                                   tokenParams: { resource: idp.audience } });
    const header = decodeProtectedHeader(tokens.access_token);
    assert.equal(header.typ, 'at+jwt');
    assert.equal(header.alg, 'RS256');
    const { payload } = await jwtVerify(tokens.access_token, await keySet(), {
        issuer: idp.issuer, audience: idp.audience, typ: 'at+jwt',
    });
    assert.equal(payload.sub, USERS.bob.username);
    assert.equal(payload.client_id, idp.clientId);
    assert.equal(payload.email, USERS.bob.username);
    assert.deepEqual(payload.groups, USERS.bob.groups);
    assert.equal(payload.scope, 'api');
    assert.equal(payload.exp - payload.iat, 300);

    const other = await tokensFor(USERS.bob, { tokenParams: { resource: 'https://elsewhere.example/api' } })
        .catch((e) => e);
    assert.match(String(other.message), /invalid_target|token endpoint: 400/);
});

test('key rotation puts a new kid first; tokens signed before still verify', async () => {
    const old = await tokensFor(USERS.alice);
    const before = await idp.keys();
    assert.equal(decodeProtectedHeader(old.tokens.id_token).kid, before[0]);

    const kids = await idp.rotateKeys();
    assert.equal(kids.length, before.length + 1);
    assert.ok(!before.includes(kids[0]), 'a new kid');
    assert.deepEqual(kids.slice(1), before, 'old keys kept, in order');
    assert.deepEqual((await idp.jwks()).keys.map((k) => k.kid), kids, 'published JWKS');

    const fresh = await tokensFor(USERS.alice);
    assert.equal(decodeProtectedHeader(fresh.tokens.id_token).kid, kids[0], 'new tokens use the new key');
    await verifyIdToken(fresh.tokens.id_token, fresh.nonce);
    await verifyIdToken(old.tokens.id_token, old.nonce);

    const ec = await idp.rotateKeys('ES256');
    assert.equal(ec.length, kids.length + 1);
    const bad = await fetch(idp.url('/_test/rotate-keys?alg=HS256'), { method: 'POST' });
    assert.equal(bad.status, 400);
    assert.deepEqual(await idp.keys(), ec, 'a refused rotation changes nothing');
});

test('client_credentials: the machine client gets a JWT for the audience by default', async () => {
    const auth = { clientId: MACHINE, clientSecret: idp.machineClientSecret };
    const res = await idp.token({ grant_type: 'client_credentials', scope: 'api' }, auth);
    assert.equal(res.status, 200, res.body);
    const body = res.json();
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 300);
    const { payload, protectedHeader } = await jwtVerify(body.access_token, await keySet(), {
        issuer: idp.issuer, audience: idp.audience, typ: 'at+jwt',
    });
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(payload.sub, MACHINE);
    assert.equal(payload.client_id, MACHINE);
    assert.equal(payload.scope, 'api');
    assert.equal(payload.groups, undefined);

    const wrong = await idp.token({ grant_type: 'client_credentials' }, { ...auth, clientSecret: 'not-the-secret' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json().error, 'invalid_client');
    const web = await idp.token({ grant_type: 'client_credentials' });
    assert.equal(web.status, 400);
    assert.equal(web.json().error, 'invalid_request');
    assert.match(web.json().error_description, /grant type is not allowed/);
});

test('end_session: id_token_hint + post_logout_redirect_uri, back-channel logout token verifies', async () => {
    const { tokens, browser } = await tokensFor(USERS.alice);
    const sid = decodeJwt(tokens.id_token).sid;
    const already = rp.logoutTokens.length;
    const calls = (await idp.lastBackchannel()).count;

    const q = new URLSearchParams({ id_token_hint: tokens.id_token, post_logout_redirect_uri: `${rp.origin}/signed-out`,
                                    state: 'bye' });
    const page = await browser.get(idp.url(`/session/end?${q}`));
    assert.equal(page.status, 200);
    assert.ok(parseForms(page.body)[0].buttons.some((b) => b.id === 'logout'), 'a sign-out button #logout');
    const done = await browser.submitForm(page);
    assert.equal(done.url, `${rp.origin}/signed-out?state=bye`);

    const token = await rp.logoutToken(already + 1);
    assert.equal(rp.logoutTokens[already].type, 'application/x-www-form-urlencoded');
    const { payload, protectedHeader } = await jwtVerify(token, await keySet(), {
        issuer: idp.issuer, audience: idp.clientId, typ: 'logout+jwt', maxTokenAge: '2m',
    });
    assert.equal(protectedHeader.typ, 'logout+jwt');
    assert.deepEqual(payload.events, { [BACKCHANNEL_EVENT]: {} });
    assert.equal(payload.sub, USERS.alice.username);
    assert.equal(payload.sid, sid);
    assert.equal(typeof payload.jti, 'string');
    assert.equal(payload.nonce, undefined, 'a logout token has no nonce');
    const b = await idp.waitForBackchannel(calls + 1);
    assert.equal(b.last.status, 200);
    assert.equal(b.last.client, idp.clientId);

    // the IdP session is gone: the next authorization shows the form again
    assert.equal(browser.jar.get(idp.issuer, '_session'), undefined, 'session cookie deleted');
    const next = await browser.get(idp.authorizeUrl({ state: 's', nonce: 'n', challenge: pkcePair().challenge }));
    assert.match(next.url, /\/interaction\//);
    assert.ok(parseForms(next.body).some((f) => f.fields.some((x) => x.name === 'password')));
});

test('/_test/logout ends the user\'s sessions through the back channel; failures are recorded', async () => {
    await idp.logout(USERS.bob.username); // bob's sessions of earlier tests
    const browser = createBrowser();
    const first = await tokensFor(USERS.bob, { browser });
    const sid = decodeJwt(first.tokens.id_token).sid;
    // a second session of bob in another browser, and alice's, which must survive
    await tokensFor(USERS.bob);
    const alice = await tokensFor(USERS.alice);
    const already = rp.logoutTokens.length;

    const out = await idp.logout(USERS.bob.username);
    assert.equal(out.sessions, 2);
    assert.deepEqual(out.backchannel.map((b) => [b.client, b.status]), [[idp.clientId, 200], [idp.clientId, 200]]);
    const tokens = await Promise.all([rp.logoutToken(already + 1), rp.logoutToken(already + 2)]);
    const sids = [];
    for (const t of tokens) {
        const { payload } = await jwtVerify(t, await keySet(), { issuer: idp.issuer, audience: idp.clientId });
        assert.equal(payload.sub, USERS.bob.username);
        sids.push(payload.sid);
    }
    assert.ok(sids.includes(sid), 'the first browser session\'s sid');

    const next = await browser.get(idp.authorizeUrl({ state: 's', nonce: 'n', challenge: pkcePair().challenge }));
    assert.match(next.url, /\/interaction\//, 'bob must log in again');
    const stillAlice = await alice.browser.get(idp.authorizeUrl({ state: 's', nonce: 'n', challenge: pkcePair().challenge }));
    assert.equal(new URL(stillAlice.url).pathname, '/callback', 'alice keeps her session');
    // bob's grant is revoked: his refresh-less access token no longer works at userinfo
    const { http1 } = await import('./lib/http.mjs');
    const me = await http1(idp.url('/me'), { headers: { authorization: `Bearer ${first.tokens.access_token}` } });
    assert.equal(me.status, 401);

    rp.backchannelStatus = 500;
    try {
        await tokensFor(USERS.bob);
        const failed = await idp.logout(USERS.bob.username);
        assert.equal(failed.backchannel[0].status, 500);
        assert.equal((await idp.lastBackchannel()).last.status, 500);
    } finally {
        rp.backchannelStatus = 200;
    }
    assert.deepEqual(await idp.logout('nobody@example.com'), { sessions: 0, backchannel: [] });
});

test('--id-token-alg ES256 signs ID tokens with the EC key', async () => {
    const es = await startIdp({ name: 'idp-es256', idTokenAlg: 'ES256', idTokenTtl: 120,
                                redirectUris: [`${rp.origin}/callback`] });
    try {
        const { verifier, challenge } = pkcePair();
        const res = await createBrowser().login(es.authorizeUrl({ state: 's', nonce: 'n1', challenge }),
                                                { username: USERS.bob.username, password: USERS.bob.password });
        const code = new URL(res.url).searchParams.get('code');
        const t = await es.token({ grant_type: 'authorization_code', code, code_verifier: verifier,
                                   redirect_uri: `${rp.origin}/callback` });
        assert.equal(t.status, 200, t.body);
        const idToken = t.json().id_token;
        const { payload, protectedHeader } = await jwtVerify(idToken, createLocalJWKSet(await es.jwks()), {
            issuer: es.issuer, audience: es.clientId, algorithms: ['ES256'],
        });
        assert.equal(protectedHeader.alg, 'ES256');
        assert.equal(payload.exp - payload.iat, 120);
        assert.equal(payload.nonce, 'n1');
    } finally {
        await es.stop();
    }
});

test('back-channel logout over https trusts --backchannel-ca, and nothing else', async () => {
    const certs = await makeCerts();
    const received = [];
    const server = https.createServer({ cert: certs.read('server.pem'), key: certs.read('server.key') }, (req, res) => {
        req.resume();
        req.on('end', () => {
            received.push(req.url);
            res.writeHead(204);
            res.end();
        });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
        const uri = `https://127.0.0.1:${server.address().port}/authservice/backchannel-logout`;
        const common = { redirectUris: [`${rp.origin}/callback`], backchannelLogoutUri: uri };
        const [trusting, untrusting] = await Promise.all([
            startIdp({ ...common, name: 'idp-tls', backchannelCa: certs.path('edge-ca.pem') }),
            startIdp({ ...common, name: 'idp-tls-noca' }),
        ]);
        for (const [p, status] of [[trusting, 204], [untrusting, 0]]) {
            const { challenge } = pkcePair();
            const res = await createBrowser().login(p.authorizeUrl({ state: 's', nonce: 'n', challenge }),
                                                    { username: USERS.alice.username, password: USERS.alice.password });
            assert.equal(new URL(res.url).pathname, '/callback');
            const out = await p.logout(USERS.alice.username);
            assert.equal(out.sessions, 1);
            assert.equal(out.backchannel[0].status, status, JSON.stringify(out));
            const last = (await p.lastBackchannel()).last;
            assert.equal(last.status, status);
            if (!status) assert.match(last.error, /CERT|SIGNATURE|SELF_SIGNED|UNABLE/i);
        }
        assert.deepEqual(received, ['/authservice/backchannel-logout'], 'only the trusting IdP got through');
    } finally {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
    }
});

test('the IdP refuses bad command lines with exit 2 and a reason', async () => {
    const script = join(sourceDir, 'tests', 'fixtures', 'idp.mjs');
    const dir = mkdtempSync(join(tmpdir(), 'tg-idp-cli-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'a-good-secret\n');
    const base = ['--port', '0', '--client-id', 'c', '--client-secret-file', secret, '--redirect-uri', 'http://x/cb'];
    const cases = [
        [['--bogus'], /Unknown option '--bogus'/],
        [['--port', '0', '--client-secret-file', secret, '--redirect-uri', 'http://x/cb'], /--client-id is required/],
        [[...base.slice(2), '--port', 'http'], /--port: not a port number/],
        [[...base.slice(0, 4), '--client-secret-file', '/dev/null', '--redirect-uri', 'http://x/cb'],
         /secret .* must be 8\+ characters/],
        [[...base.slice(0, 4), '--client-secret-file', join(dir, 'missing'), '--redirect-uri', 'http://x/cb'],
         /cannot read .*missing: ENOENT/],
        [[...base, '--id-token-alg', 'HS256'], /--id-token-alg: RS256 or ES256/],
        [[...base, '--redirect-uri', 'not a url'], /--redirect-uri: not an absolute URL/],
        [[...base, '--machine-client-id', 'm'], /go together/],
        [[...base, '--session-ttl', '0'], /--session-ttl: not a positive number/],
        [[...base, '--id-token-ttl', '5m'], /--id-token-ttl: not a positive number/],
        [[...base, 'stray'], /Unexpected argument 'stray'/],
    ];
    await Promise.all(cases.map(async ([args, reason], i) => {
        const r = await runCommand(`idp-cli-${i}`, process.execPath, [script, ...args], { timeoutMs: 15000 });
        assert.equal(r.code, 2, `${args.join(' ')}: code ${r.code}\n${r.stderr}`);
        assert.match(r.stderr, reason, args.join(' '));
        assert.doesNotMatch(r.stdout, /READY/);
    }));
});

// ---- the browserless helpers on their own ----------------------------------

test('cookie jar: prefixes, Secure, Domain, Path, expiry and deletion', () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const jar = new CookieJar({ now: () => now });
    const secureUrl = 'https://gw.example.com/app/x';
    const plain = 'http://gw.example.com/app/x';
    const cases = [
        // [url, set-cookie, stored?, reason pattern]
        [secureUrl, '__Host-a=1; Secure; Path=/; HttpOnly; SameSite=Lax', true],
        [secureUrl, '__Host-b=1; Secure; Path=/app', false, /Path=\//],
        [secureUrl, '__Host-c=1; Secure; Path=/; Domain=gw.example.com', false, /Domain/],
        [plain, '__Host-d=1; Secure; Path=/', false, /insecure origin/],
        [secureUrl, '__Host-e=1; Path=/', false, /without Secure/],
        [secureUrl, '__Secure-f=1', false, /without Secure/],
        [secureUrl, '__secure-F=1; Secure', true],
        [plain, 's=1; Secure', false, /insecure origin/],
        [secureUrl, 'dom=1; Domain=example.com; Path=/', true],
        [secureUrl, 'evil=1; Domain=other.com', false, /does not match/],
        [secureUrl, 'n=1; SameSite=None', false, /SameSite=None/],
        [secureUrl, 'p=1', true],
        [secureUrl, 'old=1; Expires=Wed, 01 Jan 2020 00:00:00 GMT', false, /deleted/],
        [secureUrl, 'noeq', false, /malformed/],
    ];
    for (const [url, sc, stored, reason] of cases) {
        const r = jar.setCookie(url, sc);
        assert.equal(r.stored, stored, `${sc}: ${r.reason}`);
        if (reason) assert.match(r.reason, reason, sc);
    }
    // __Host-a on every path of its host, only over https; dom also on subdomains
    assert.equal(jar.header('https://gw.example.com/'), '__Host-a=1; dom=1');
    assert.equal(jar.header('http://gw.example.com/app/y'), 'p=1; dom=1', 'longer paths first');
    assert.equal(jar.header('https://gw.example.com/app/y'), '__secure-F=1; p=1; __Host-a=1; dom=1');
    assert.equal(jar.header('https://other.example.com/app/'), 'dom=1', 'host-only cookies stay on their host');
    assert.equal(jar.header('https://gw.example.com/application'), '__Host-a=1; dom=1', '/app does not match /application');
    assert.equal(jar.header('https://gw.example.com/app/x', { script: true }), '__secure-F=1; p=1; dom=1', 'no HttpOnly for scripts');

    // an insecure origin cannot shadow a Secure cookie
    assert.equal(jar.setCookie(plain, '__secure-F=evil; Path=/').stored, false);
    // Max-Age wins over Expires; expiry and deletion
    assert.equal(jar.setCookie(secureUrl, 'p=2; Max-Age=60; Expires=Wed, 01 Jan 2020 00:00:00 GMT').reason, 'replaced');
    assert.equal(jar.get(secureUrl, 'p').value, '2');
    now += 61 * 1000;
    assert.equal(jar.get(secureUrl, 'p'), undefined, 'expired');
    assert.equal(jar.setCookie(secureUrl, '__Host-a=; Secure; Path=/; Max-Age=0').reason, 'deleted');
    assert.equal(jar.header('https://gw.example.com/'), 'dom=1');
});

test('cookie jar: SameSite on cross-site requests', () => {
    const jar = new CookieJar();
    const url = 'https://gw.example.com/';
    for (const sc of ['lax=1; Secure', 'dflt=1; Secure', 'strict=1; Secure; SameSite=Strict', 'none=1; Secure; SameSite=None']) {
        jar.setCookie(url, sc.includes('SameSite') || sc.startsWith('dflt') ? sc : `${sc}; SameSite=Lax`);
    }
    const names = (o) => jar.cookiesFor(url, o).map((c) => c.name).join(',');
    assert.equal(names({}), 'lax,dflt,strict,none');
    assert.equal(names({ crossSite: true }), 'lax,dflt,none', 'cross-site top-level GET: no Strict');
    assert.equal(names({ crossSite: true, method: 'POST' }), 'none', 'cross-site POST: None only');
    assert.equal(names({ crossSite: true, topLevel: false }), 'none', 'cross-site subresource: None only');
    assert.equal(siteOf('https://a.gw.example.com:8443/x'), 'https://example.com');
    assert.notEqual(siteOf('http://127.0.0.1:1/'), siteOf('https://127.0.0.1:1/'), 'schemeful sites');
});

test('browser: redirects keep or drop the method, cookies cross hops, SameSite holds on real requests', async () => {
    const seen = [];
    const server = http.createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            const u = new URL(req.url, 'http://x');
            seen.push({ method: req.method, path: u.pathname, host: req.headers.host, cookie: req.headers.cookie || '',
                        body: Buffer.concat(chunks).toString() });
            const go = (status, location, cookies = []) => {
                res.writeHead(status, { location, 'set-cookie': cookies });
                res.end();
            };
            switch (u.pathname) {
            case '/set': return go(302, '/r303', ['a=1; Path=/; SameSite=Lax', 'st=1; Path=/; SameSite=Strict']);
            case '/r303': return go(303, '/end');
            case '/r307': return go(307, '/end');
            case '/away': return go(302, `http://localhost:${server.address().port}/bounce`);
            case '/bounce': return go(302, `http://127.0.0.1:${server.address().port}/end`);
            default:
                res.writeHead(200, { 'content-type': 'text/html' });
                return res.end(`<form method="post" action="/r307" id="f"><input type="hidden" name="k" value="a&amp;b">` +
                               '<button type="submit" name="go" value="1" id="b"></button></form>');
            }
        });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
        const origin = `http://127.0.0.1:${server.address().port}`;
        const b = createBrowser({ resolve: { localhost: '127.0.0.1' } });
        const page = await b.get(`${origin}/set`);
        assert.deepEqual(page.chain.map((h) => `${h.method} ${new URL(h.url).pathname} ${h.status}`),
                         ['GET /set 302', 'GET /r303 303', 'GET /end 200']);
        assert.equal(seen.at(-1).cookie, 'a=1; st=1', 'cookies set on a redirect go to the next hop');

        seen.length = 0;
        const posted = await b.submitForm(page);
        assert.deepEqual(seen.map((s) => `${s.method} ${s.path} ${s.body}`),
                         ['POST /r307 k=a%26b&go=1', 'POST /end k=a%26b&go=1'], '307 keeps POST and its body');
        assert.equal(posted.status, 200);

        seen.length = 0;
        await b.post(`${origin}/r303`, { x: '1' }, { from: 'http://elsewhere.example/' });
        assert.deepEqual(seen.map((s) => `${s.method} ${s.path} ${s.cookie}`), ['POST /r303 ', 'GET /end a=1'],
                         'a cross-site POST carries no Lax cookie; its 303 turns into a GET that does');

        seen.length = 0;
        await b.get(`${origin}/away`);
        assert.deepEqual(seen.map((s) => `${s.path} ${s.host.split(':')[0]} ${s.cookie}`),
                         ['/away 127.0.0.1 a=1; st=1', '/bounce localhost ', '/end 127.0.0.1 a=1'],
                         'after a cross-site hop, Strict cookies stay home');
    } finally {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
    }
});
