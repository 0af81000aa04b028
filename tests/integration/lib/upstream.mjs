// Starts tests/fixtures/upstream.mjs: the mTLS echo workload.
import https from 'node:https';
import { join } from 'node:path';
import { sourceDir, spawnLogged } from './procs.mjs';

const SYNC = '/__tg-sync/';
let syncCount = 0;

/**
 * Starts an echo upstream named name serving certificate <cert>.pem/.key from
 * certs (a makeCerts() result) and trusting clients of the mesh CA; delayMs
 * holds every answer back that long (a slow endpoint); logEcho prints each
 * echo as an "ECHO <json>" line (see echoes()); status answers every echo
 * with that status (a failing endpoint). Resolves
 * {name, port, child, requests(), settled(), count()} once it printed READY:
 *   requests()  the "REQ <method> <url>" / "UPGRADE <url>" lines read so far;
 *   settled()   resolves once every line the fixture logged before now has been read
 *               (a direct request is sent and its own line awaited: stdout is ordered);
 *   count()     settled(), then requests().length;
 *   echoes()    the parsed ECHO lines read so far (logEcho only).
 */
export async function startUpstream({ name, cert, certs, port = 0, delayMs = 0, logEcho = false, status = 200 }) {
    const child = spawnLogged(`upstream-${name}`, process.execPath, [
        join(sourceDir, 'tests', 'fixtures', 'upstream.mjs'),
        '--port', String(port),
        '--cert', certs.path(`${cert}.pem`),
        '--key', certs.path(`${cert}.key`),
        '--ca', certs.path('mesh-ca.pem'),
        '--name', name,
        '--host', '127.0.0.1',
        '--delay-ms', String(delayMs),
        ...(logEcho ? ['--log-echo'] : []),
        '--status', String(status),
    ]);
    const m = await child.waitForLine(/^READY (\d+)$/, 10000);
    const u = {
        name,
        port: Number(m[1]),
        child,
        requests: () => child.stdout().split('\n').filter((l) => /^(REQ|UPGRADE) /.test(l) && !l.includes(SYNC)),
        echoes: () => child.stdout().split('\n').filter((l) => l.startsWith('ECHO ')).map((l) => JSON.parse(l.slice(5)))
            .filter((e) => !e.url.startsWith(SYNC)),
    };
    u.settled = async () => {
        syncCount += 1;
        const path = `${SYNC}${syncCount}`;
        const seen = child.waitForLine(new RegExp(`^REQ GET ${path}$`), 5000);
        await new Promise((resolve, reject) => {
            const req = https.get({
                host: '127.0.0.1', port: u.port, path, agent: false,
                cert: certs.read('gateway-client.pem'), key: certs.read('gateway-client.key'),
                // ordering only: some fixtures serve deliberately untrusted certificates
                rejectUnauthorized: false,
            }, (res) => {
                res.resume();
                res.on('end', resolve);
            });
            req.on('error', reject);
        });
        await seen;
    };
    u.count = async () => {
        await u.settled();
        return u.requests().length;
    };
    return u;
}
