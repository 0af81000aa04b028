// The gateway's login settings for tests that log users in through the dev
// IdP: secrets in a private temp dir and the TenantGate `oidc` + `sessions`
// lines for edgeConfig({spec}).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Writes a client secret and a session sealing key (mode 0600) to a temp dir
 * removed at exit. Returns {clientSecret, clientSecretFile, keyFile, dir}.
 */
export function loginSecrets() {
    const dir = mkdtempSync(join(tmpdir(), 'tg-login-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    const clientSecret = randomBytes(24).toString('base64url');
    const clientSecretFile = join(dir, 'client-secret');
    const keyFile = join(dir, 'session.key');
    writeFileSync(clientSecretFile, `${clientSecret}\n`, { mode: 0o600 });
    writeFileSync(keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    return { dir, clientSecret, clientSecretFile, keyFile };
}

/**
 * TenantGate spec lines (indented two spaces) turning login on: idp (a
 * startIdp() result), externalUrl (https://localhost:PORT), secrets (from
 * loginSecrets()), store (default: sqlite in the secrets dir), apiPrefixes
 * (none unless given), and more lines of each section as
 * {oidc: {scopes: '[openid]'}, sessions: {cacheTtl: '1s'}}.
 */
export function loginSpec({ idp, externalUrl, secrets, store = `sqlite://${join(secrets.dir, 'sessions.db')}`,
                            apiPrefixes, more = {} }) {
    const lines = (fields = {}) => Object.entries(fields).map(([k, v]) => `    ${k}: ${v}\n`).join('');
    const oidc = { ...(apiPrefixes ? { apiPrefixes: `[${apiPrefixes.join(', ')}]` } : {}), ...more.oidc };
    return `  oidc:
    issuer: ${idp.issuer}
    allowInsecureIssuer: true
    clientId: ${idp.clientId}
    clientSecretFile: ${secrets.clientSecretFile}
    externalUrl: ${externalUrl}
${lines(oidc)}  sessions:
    store: ${store}
    keyFile: ${secrets.keyFile}
${lines(more.sessions)}`;
}
