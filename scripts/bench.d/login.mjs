// Helper of scripts/bench: logins through a proxy's OIDC login (tenantgate or
// Apache + mod_auth_openidc, both in front of the IdP fixture) with the
// browserless browser of the integration tests, and an access token of a user
// straight from the IdP.
//
//   node login.mjs [--mode cookie] --url https://localhost:PORT/PATH --ca CA.pem [--user alice]
//       logs in once and prints the Cookie header that browser would send to
//       the URL: h2load then replays it.
//   node login.mjs --mode rate --url URL --ca CA.pem [--count 200] [--seconds 10] [--parallel 16]
//       [--reuse yes|no]
//       complete logins (URL -> IdP form -> callback -> session -> 200 at URL),
//       each with a fresh browser (no cookie, no connection), --parallel at a
//       time, until --count are started or --seconds have passed; prints one
//       JSON line {logins, failed, seconds, rate, parallel, reuse, firstError}.
//       --reuse yes (default): within a login, one keep-alive connection per
//       origin, as a browser does; no: a new connection for every hop.
//   node login.mjs --mode token --idp http://127.0.0.1:PORT --client-secret-file FILE
//       [--client-id tenantgate] [--audience https://tenantgate.local/api] [--user alice]
//       the user's RFC 9068 access token for the audience (code flow with PKCE
//       as scripts/demo-token; the redirect URI IDP/bench-token must be
//       registered: nothing listens there, the code is all that is needed).
//
// Exits 1 with the reason on stderr when a login or the token request fails.
// Never prints a cookie or a token anywhere but stdout, and no query string
// (codes, state) of a URL in an error.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createBrowser } from '../../tests/integration/lib/browserless.mjs';

const USERS = {
  alice: { username: 'alice@example.com', password: 'alice-password' },
  bob: { username: 'bob@example.com', password: 'bob-password' },
};
const MODES = ['cookie', 'rate', 'token'];

function args(argv) {
  const out = {
    mode: 'cookie',
    user: 'alice',
    count: '200',
    seconds: '10',
    parallel: '16',
    reuse: 'yes',
    'client-id': 'tenantgate',
    audience: 'https://tenantgate.local/api',
  };
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) throw new Error(`bad argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  if (!MODES.includes(out.mode)) throw new Error(`--mode: one of ${MODES.join(', ')}`);
  if (out.mode === 'token' ? !out.idp || !out['client-secret-file'] : !out.url || !out.ca)
    throw new Error('usage: see the header of scripts/bench.d/login.mjs');
  if (!USERS[out.user]) throw new Error(`unknown user ${out.user}`);
  if (!['yes', 'no'].includes(out.reuse)) throw new Error('--reuse: yes or no');
  for (const k of ['count', 'seconds', 'parallel'])
    if (!/^[1-9]\d{0,5}$/.test(out[k])) throw new Error(`--${k}: a positive integer`);
  return out;
}

/** An error message without query strings (they carry codes and state). */
const clean = (message) => String(message).replace(/\?[^\s)]*/g, '?…');

const hopsOf = (res) => res.chain.map((h) => `${h.status} ${h.method} ${new URL(h.url).pathname}`).join(' -> ');

/**
 * One login with a fresh browser; resolves the browser, or throws why it
 * failed. agents: keep-alive agents of this login only (closed by the caller).
 */
async function loginOnce(a, agents) {
  const browser = createBrowser({ ca: a.caPem, resolve: { localhost: '127.0.0.1' }, agents });
  const res = await browser.login(a.url, USERS[a.user]);
  if (res.status !== 200 || res.loginForm === null || new URL(res.url).href !== new URL(a.url).href) {
    // the start of the last page's text: an error page says why (it holds no secret)
    const text = res.body.replace(/<(script|style)[^]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ');
    throw new Error(`login did not end on 200 at the URL after the IdP's form (status ${res.status}; ` +
      `hops: ${hopsOf(res)}; page: "${text.trim().slice(0, 160)}")`);
  }
  return { browser, res };
}

async function cookie(a) {
  a.caPem = fs.readFileSync(a.ca);
  const { browser, res } = await loginOnce(a);
  const header = browser.jar.header(a.url);
  if (!header) throw new Error(`no cookie for ${a.url} after the login (hops: ${hopsOf(res)})`);
  console.error(`login.mjs: ${a.user} logged in at ${new URL(a.url).origin} in ${res.chain.length} hops`);
  console.log(header);
}

async function rate(a) {
  a.caPem = fs.readFileSync(a.ca);
  const count = Number(a.count);
  const parallel = Number(a.parallel);
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(a.seconds) * 1000000000n;
  let started = 0;
  let logins = 0;
  let failed = 0;
  let firstError = null;
  async function worker() {
    while (started < count && process.hrtime.bigint() < deadline) {
      started += 1;
      const agents =
        a.reuse === 'yes' ? { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) } : undefined;
      try {
        await loginOnce(a, agents);
        logins += 1;
      } catch (err) {
        failed += 1;
        firstError ??= clean(err.message);
      } finally {
        if (agents) for (const agent of Object.values(agents)) agent.destroy();
      }
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ logins, failed, seconds, rate: logins / seconds, parallel, reuse: a.reuse, firstError }));
}

async function token(a) {
  const secret = fs.readFileSync(a['client-secret-file'], 'utf8').trim();
  const b64url = (buf) => Buffer.from(buf).toString('base64url');
  const redirectUri = `${a.idp}/bench-token`;
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(16));
  const q = new URLSearchParams({
    client_id: a['client-id'],
    response_type: 'code',
    scope: 'openid email groups api',
    redirect_uri: redirectUri,
    state,
    nonce: b64url(randomBytes(16)),
    resource: a.audience,
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
  });
  const res = await createBrowser().login(`${a.idp}/auth?${q}`, USERS[a.user]);
  const back = new URL(res.url);
  const code = back.searchParams.get('code');
  if (`${back.origin}${back.pathname}` !== redirectUri || !code || back.searchParams.get('state') !== state)
    throw new Error(`the IdP did not hand out a code (status ${res.status}; hops: ${hopsOf(res)})`);
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: redirectUri,
    resource: a.audience,
  });
  const basic = Buffer.from(`${encodeURIComponent(a['client-id'])}:${encodeURIComponent(secret)}`).toString('base64');
  const answer = await fetch(`${a.idp}/token`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Basic ${basic}`, accept: 'application/json' },
  });
  const body = await answer.json().catch(() => ({}));
  if (answer.status !== 200 || typeof body.access_token !== 'string')
    throw new Error(`the token request was refused: ${answer.status} ${body.error || ''}`);
  console.error(`login.mjs: an access token of ${a.user} for ${a.audience} (expires in ${body.expires_in} s)`);
  console.log(body.access_token);
}

async function main() {
  const a = args(process.argv.slice(2));
  await { cookie, rate, token }[a.mode](a);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`login.mjs: ${clean(err.message)}`);
    process.exit(1);
  }
);
