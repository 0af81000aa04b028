// Starts tests/fixtures/upstream.mjs: the mTLS echo workload.
import { join } from 'node:path';
import { sourceDir, spawnLogged } from './procs.mjs';

/**
 * Starts an echo upstream named name serving certificate <cert>.pem/.key from
 * certs (a makeCerts() result) and trusting clients of the mesh CA. Resolves
 * {name, port, child, requests()} once it printed READY; requests() lists the
 * "REQ <method> <url>" / "UPGRADE <url>" lines it has logged so far.
 */
export async function startUpstream({ name, cert, certs, port = 0 }) {
    const child = spawnLogged(`upstream-${name}`, process.execPath, [
        join(sourceDir, 'tests', 'fixtures', 'upstream.mjs'),
        '--port', String(port),
        '--cert', certs.path(`${cert}.pem`),
        '--key', certs.path(`${cert}.key`),
        '--ca', certs.path('mesh-ca.pem'),
        '--name', name,
        '--host', '127.0.0.1',
    ]);
    const m = await child.waitForLine(/^READY (\d+)$/, 10000);
    return {
        name,
        port: Number(m[1]),
        child,
        requests: () => child.stdout().split('\n').filter((l) => /^(REQ|UPGRADE) /.test(l)),
    };
}
