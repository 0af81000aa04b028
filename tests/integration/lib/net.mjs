// Small network helpers.
import net from 'node:net';

/** A TCP port that was free on 127.0.0.1 a moment ago (bind to :0, close, return it). */
export function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

/** Several distinct free ports. */
export async function freePorts(n) {
    const ports = new Set();
    while (ports.size < n) ports.add(await freePort());
    return [...ports];
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
