// Helper of scripts/bench: logs a user in once through a proxy's OIDC login
// (tenantgate or Apache + mod_auth_openidc, both in front of the IdP fixture)
// with the browserless browser of the integration tests, and prints the Cookie
// header that browser would send to the URL: h2load then replays it.
//
//   node login.mjs --url https://localhost:PORT/PATH --ca CA.pem [--user alice]
//
// Exits 1 (reason on stderr, never the cookie) when the login does not end
// on a 200 answer at the URL or no cookie is left to send.
import fs from 'node:fs';
import { createBrowser } from '../../tests/integration/lib/browserless.mjs';

const USERS = {
  alice: { username: 'alice@example.com', password: 'alice-password' },
  bob: { username: 'bob@example.com', password: 'bob-password' },
};

function args(argv) {
  const out = { user: 'alice' };
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) throw new Error(`bad argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  if (!out.url || !out.ca) throw new Error('usage: login.mjs --url URL --ca CA.pem [--user alice|bob]');
  if (!USERS[out.user]) throw new Error(`unknown user ${out.user}`);
  return out;
}

async function main() {
  const a = args(process.argv.slice(2));
  const browser = createBrowser({ ca: fs.readFileSync(a.ca), resolve: { localhost: '127.0.0.1' } });
  const res = await browser.login(a.url, USERS[a.user]);
  const hops = res.chain.map((h) => `${h.status} ${h.method} ${new URL(h.url).pathname}`).join(' -> ');
  if (res.status !== 200 || res.loginForm === null) {
    throw new Error(`login did not end on 200 after the IdP's form (status ${res.status}; hops: ${hops})`);
  }
  const cookie = browser.jar.header(a.url);
  if (!cookie) throw new Error(`no cookie for ${a.url} after the login (hops: ${hops})`);
  console.error(`login.mjs: ${a.user} logged in at ${new URL(a.url).origin} in ${res.chain.length} hops`);
  console.log(cookie);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`login.mjs: ${err.message}`);
    process.exit(1);
  }
);
