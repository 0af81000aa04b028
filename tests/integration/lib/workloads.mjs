// Starts the mesh workloads of tests/fixtures/: the TF-Serving-shaped model
// server and the notebook sidecar (mTLS termination + optional RCToken check).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { http1 } from './http.mjs';
import { sleep } from './net.mjs';
import { sourceDir, spawnLogged } from './procs.mjs';

// rctoken: {jwksUrl, issuer, audience, jwksCa?} or undefined (no check).
function rcTokenArgs(rctoken) {
    if (!rctoken) return [];
    const args = ['--jwks-url', rctoken.jwksUrl, '--issuer', rctoken.issuer, '--audience', rctoken.audience];
    if (rctoken.jwksCa) args.push('--jwks-ca', rctoken.jwksCa);
    return args;
}

async function startFixture(name, script, certs, cert, args, port = 0) {
    const child = spawnLogged(name, process.execPath, [
        join(sourceDir, 'tests', 'fixtures', script),
        '--port', String(port),
        '--cert', certs.path(`${cert}.pem`),
        '--key', certs.path(`${cert}.key`),
        '--ca', certs.path('mesh-ca.pem'),
        ...args,
    ]);
    const m = await child.waitForLine(/^READY (\d+)$/, 10000);
    const log = () => child.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    return {
        name,
        port: Number(m[1]),
        child,
        /** The JSON lines logged so far (one per request). */
        log,
        /** Resolves the (n+1)th JSON line once it was logged (the log is written after the answer). */
        async logLine(n, timeoutMs = 3000) {
            const deadline = Date.now() + timeoutMs;
            while (log().length <= n) {
                if (Date.now() > deadline) throw new Error(`${name}: no log line ${n + 1} within ${timeoutMs} ms`);
                await sleep(20);
            }
            return log()[n];
        },
    };
}

/**
 * Starts tests/fixtures/model_server.mjs serving mnist at version with
 * certificate <cert> of certs (makeCerts()). Resolves {name, port, child, log()}.
 */
export function startModelServer({ certs, cert = 'mnist-alice', version, rctoken, name = `mnist-v${version}`,
                                   port = 0 }) {
    return startFixture(name, 'model_server.mjs', certs, cert, ['--version', String(version), ...rcTokenArgs(rctoken)],
                        port);
}

/**
 * Starts tests/fixtures/sidecar.mjs in front of target (http://127.0.0.1:PORT)
 * with certificate <cert> of certs. Resolves {name, port, child, log()}.
 */
export function startSidecar({ certs, cert, target, rctoken, name = `sidecar-${cert}`, port = 0 }) {
    return startFixture(name, 'sidecar.mjs', certs, cert, ['--target', target, ...rcTokenArgs(rctoken)], port);
}

/**
 * The RCToken check a workload with audience should do, when the gateway at
 * origin publishes RCToken keys (GET /.well-known/jwks.json answers 200);
 * else null (its config has no rctoken section). The issuer is the one the gateway
 * names in /.well-known/openid-configuration, else externalUrl (the origin
 * browsers use). ca: the edge CA file.
 */
export async function gatewayRcToken({ origin, externalUrl, ca, audience }) {
    const tls = { ca: readFileSync(ca), servername: 'localhost' };
    const jwks = await http1(`${origin}/.well-known/jwks.json`, tls).catch(() => null);
    if (!jwks || jwks.status !== 200) return null;
    const meta = await http1(`${origin}/.well-known/openid-configuration`, tls).catch(() => null);
    const issuer = meta && meta.status === 200 ? meta.json().issuer : externalUrl;
    return { jwksUrl: `${origin}/.well-known/jwks.json`, issuer, audience, jwksCa: ca };
}
