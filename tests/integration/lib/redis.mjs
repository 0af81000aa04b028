// A throwaway redis-server on a free loopback port (no persistence), for
// session-store tests. Stopped with the other children (procs.mjs) at the end.
import net from 'node:net';
import { freePort, sleep } from './net.mjs';
import { spawnLogged } from './procs.mjs';

/** Starts redis-server and waits until it accepts connections. Returns {port, url, child, stop()}. */
export async function startRedis({ name = 'redis' } = {}) {
    const port = await freePort();
    const child = spawnLogged(name, 'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    for (let i = 0; i < 100; i += 1) {
        const ok = await new Promise((resolve) => {
            const s = new net.Socket();
            s.once('error', () => resolve(false));
            s.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
        });
        if (ok) return { port, url: `redis://127.0.0.1:${port}/0`, child, stop: () => child.stop() };
        await sleep(50);
    }
    throw new Error(`redis-server did not listen on ${port}\n${child.stderr()}`);
}
