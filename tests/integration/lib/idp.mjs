// Starts tests/fixtures/idp.mjs (the dev OIDC provider) and talks to it:
// discovery, token requests, PKCE values and its /_test/ hooks.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http1 } from './http.mjs';
import { sleep } from './net.mjs';
import { sourceDir, spawnLogged } from './procs.mjs';

/** The IdP's users (sub = username = email). */
export const USERS = {
    alice: { username: 'alice@example.com', password: 'alice-password', groups: ['kubeflow-alice-editors'] },
    bob: { username: 'bob@example.com', password: 'bob-password', groups: ['kubeflow-bob-editors'] },
    /** request.auth.claims["sub"] of the seed's ServiceRoleBinding (config/seed-policy.yaml) */
    aliceFoo: { username: 'alice@foo.com', password: 'alice-foo-password', groups: ['kubeflow-alice-editors'] },
};

export const DEFAULT_AUDIENCE = 'https://tenantgate.local/api';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** A fresh PKCE pair {verifier, challenge} (S256). */
export function pkcePair() {
    const verifier = b64url(randomBytes(32));
    return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
}

/** A fresh random value for state / nonce. */
export const randomValue = () => b64url(randomBytes(16));

let secretDir = null;

function secretFile(name, secret) {
    if (!secretDir) {
        secretDir = mkdtempSync(join(tmpdir(), 'tg-idp-'));
        process.on('exit', () => rmSync(secretDir, { recursive: true, force: true }));
    }
    const file = join(secretDir, `${name}.secret`);
    writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    return file;
}

/**
 * Starts the dev IdP. options: clientId ('tenantgate'), clientSecret (random),
 * redirectUris (required), postLogoutRedirectUris, backchannelLogoutUri,
 * backchannelCa (a CA file for an https back-channel URI), idTokenAlg
 * ('RS256' | 'ES256'), idTokenTtl, accessTokenTtl, refreshTokenTtl,
 * sessionTtl (seconds), machineClientId + machineClientSecret, audience,
 * port (0), name ('idp'). Resolves once it printed READY with:
 *   issuer, port, clientId, clientSecret, postClientId (the client_secret_post
 *   twin), machineClientId, machineClientSecret, audience, child,
 *   discovery(), jwks(), authorizeUrl(params), token(form, auth),
 *   rotateKeys(alg) -> kids, keys() -> kids, logout(sub),
 *   lastBackchannel(), waitForBackchannel(count, timeoutMs), stop().
 */
export async function startIdp({
    clientId = 'tenantgate', clientSecret = b64url(randomBytes(24)), redirectUris, postLogoutRedirectUris = [],
    backchannelLogoutUri, backchannelCa, idTokenAlg, idTokenTtl, accessTokenTtl, refreshTokenTtl, sessionTtl,
    machineClientId, machineClientSecret, audience = DEFAULT_AUDIENCE, port = 0, name = 'idp',
} = {}) {
    if (!redirectUris || !redirectUris.length) throw new Error('startIdp: redirectUris is required');
    const args = [
        join(sourceDir, 'tests', 'fixtures', 'idp.mjs'),
        '--port', String(port),
        '--host', '127.0.0.1',
        '--client-id', clientId,
        '--client-secret-file', secretFile(`${name}-client`, clientSecret),
        '--audience', audience,
    ];
    for (const u of redirectUris) args.push('--redirect-uri', u);
    for (const u of postLogoutRedirectUris) args.push('--post-logout-redirect-uri', u);
    if (backchannelLogoutUri) args.push('--backchannel-logout-uri', backchannelLogoutUri);
    if (backchannelCa) args.push('--backchannel-ca', backchannelCa);
    if (idTokenAlg) args.push('--id-token-alg', idTokenAlg);
    const ttls = { 'id-token-ttl': idTokenTtl, 'access-token-ttl': accessTokenTtl,
                   'refresh-token-ttl': refreshTokenTtl, 'session-ttl': sessionTtl };
    for (const [flag, v] of Object.entries(ttls)) if (v !== undefined) args.push(`--${flag}`, String(v));
    if (machineClientId) {
        const secret = machineClientSecret || b64url(randomBytes(24));
        machineClientSecret = secret;
        args.push('--machine-client-id', machineClientId, '--machine-client-secret-file',
                  secretFile(`${name}-machine`, secret));
    }

    const child = spawnLogged(name, process.execPath, args);
    const m = await child.waitForLine(/^READY (http:\/\/\S+)$/, 15000);
    const issuer = m[1];
    const url = (path) => `${issuer}${path}`;
    const getJson = async (path) => {
        const res = await http1(url(path));
        if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.body.slice(0, 300)}`);
        return res.json();
    };
    const postJson = async (path) => {
        const res = await http1(url(path), { method: 'POST', body: '' });
        if (res.status !== 200) throw new Error(`POST ${path}: ${res.status} ${res.body.slice(0, 300)}`);
        return res.json();
    };

    const idp = {
        issuer,
        port: Number(new URL(issuer).port),
        clientId,
        clientSecret,
        postClientId: `${clientId}-post`,
        machineClientId,
        machineClientSecret,
        audience,
        child,
        url,
        discovery: () => getJson('/.well-known/openid-configuration'),
        jwks: () => getJson('/jwks'),

        /**
         * The authorization URL. params: redirectUri (first registered),
         * clientId, scope ('openid email profile groups'), state, nonce,
         * challenge (omit with challenge: null), prompt, resource, extra {k: v}.
         */
        authorizeUrl({ redirectUri = redirectUris[0], clientId: cid = clientId, scope = 'openid email profile groups',
                       state, nonce, challenge, prompt, resource, extra = {} } = {}) {
            const q = new URLSearchParams({ client_id: cid, response_type: 'code', scope, redirect_uri: redirectUri });
            if (state !== undefined) q.set('state', state);
            if (nonce !== undefined) q.set('nonce', nonce);
            if (challenge) {
                q.set('code_challenge', challenge);
                q.set('code_challenge_method', 'S256');
            }
            if (prompt !== undefined) q.set('prompt', prompt);
            if (resource !== undefined) q.set('resource', resource);
            for (const [k, v] of Object.entries(extra)) q.set(k, v);
            return url(`/auth?${q}`);
        },

        /**
         * POSTs form to the token endpoint. auth: {clientId, clientSecret,
         * method: 'basic' (default) | 'post'}, the web client by default.
         * Resolves {status, headers, body, json()}.
         */
        token(form, { clientId: cid = clientId, clientSecret: secret = clientSecret, method = 'basic' } = {}) {
            const params = new URLSearchParams(form);
            const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
            if (method === 'basic') {
                const enc = (s) => encodeURIComponent(s);
                headers.authorization = `Basic ${Buffer.from(`${enc(cid)}:${enc(secret)}`).toString('base64')}`;
            } else {
                params.set('client_id', cid);
                params.set('client_secret', secret);
            }
            return http1(url('/token'), { method: 'POST', headers, body: params.toString() });
        },

        /** Puts a new signing key of alg (RS256) first; resolves the kids, newest first. */
        rotateKeys: async (alg = 'RS256') => (await postJson(`/_test/rotate-keys?alg=${alg}`)).kids,
        /** The kids of the JWKS in signing order. */
        keys: async () => (await getJson('/_test/keys')).kids,
        /** Ends sub's IdP sessions with back-channel logouts; resolves {sessions, backchannel}. */
        logout: (sub) => postJson(`/_test/logout?sub=${encodeURIComponent(sub)}`),
        /** {count, last: {client, url, status, error, at}} of the back-channel calls so far. */
        lastBackchannel: () => getJson('/_test/last-backchannel'),
        /** Waits until at least count back-channel calls were made; resolves lastBackchannel(). */
        async waitForBackchannel(count, timeoutMs = 5000) {
            const deadline = Date.now() + timeoutMs;
            for (;;) {
                const b = await idp.lastBackchannel();
                if (b.count >= count) return b;
                if (Date.now() > deadline) throw new Error(`only ${b.count} back-channel calls after ${timeoutMs} ms`);
                await sleep(50);
            }
        },
        stop: (signal, graceMs) => child.stop(signal, graceMs),
    };
    return idp;
}
