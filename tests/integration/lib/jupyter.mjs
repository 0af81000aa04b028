// A real Jupyter notebook server (Debian jupyter-notebook 6.4) for a tenant,
// as it runs in a Kubeflow notebook pod: base URL /notebook/<ns>/<name>/, no
// token or password (the gateway and the sidecar are the authentication),
// plain HTTP on 127.0.0.1 behind the mTLS sidecar.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sleep } from './net.mjs';
import { pidAlive, spawnLogged } from './procs.mjs';

export const JUPYTER_BIN = '/usr/bin/jupyter-notebook';

/** The NotebookApp settings of a notebook at baseUrl on 127.0.0.1:port serving dir. */
export function jupyterArgs({ baseUrl, port, dir }) {
    return [
        '--no-browser',
        '--ip=127.0.0.1',
        `--port=${port}`,
        '--port-retries=0',
        `--notebook-dir=${dir}`,
        `--NotebookApp.base_url=${baseUrl}`,
        // The gateway and the sidecar authenticate; Jupyter's own token is off.
        '--NotebookApp.token=',
        '--NotebookApp.password=',
        // Requests arrive through the gateway with its Host and Origin
        // (https://localhost:8443), not Jupyter's own address.
        '--NotebookApp.allow_remote_access=True',
        '--NotebookApp.allow_origin=*',
        '--NotebookApp.trust_xheaders=True',
        // CI containers run as root; Jupyter refuses that unless told.
        ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
    ];
}

/** The environment that keeps Jupyter's state (config, runtime, IPython) inside home. */
export function jupyterEnv(home) {
    return {
        HOME: home,
        JUPYTER_CONFIG_DIR: join(home, 'config'),
        JUPYTER_DATA_DIR: join(home, 'data'),
        JUPYTER_RUNTIME_DIR: join(home, 'runtime'),
        IPYTHONDIR: join(home, 'ipython'),
        // Debian's kernel spec runs /usr/bin/python3; keep Debian's tools first.
        PATH: `/usr/bin:/bin:${process.env.PATH || ''}`,
    };
}

function apiStatus(port, baseUrl) {
    return new Promise((resolve) => {
        const req = http.get({ host: '127.0.0.1', port, path: `${baseUrl}api`, agent: false }, (res) => {
            res.resume();
            resolve(res.statusCode);
        });
        req.setTimeout(1000, () => req.destroy());
        req.on('error', () => resolve(0));
    });
}

// The pids of pid's children (Jupyter's kernels).
function childPids(pid) {
    try {
        return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
            .split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);
    } catch {
        return [];
    }
}

/**
 * Starts Jupyter for namespace/name (base URL /notebook/<namespace>/<name>/)
 * on a free port with a temp notebook dir holding `files` ({name: text}).
 * Resolves once /api answers 200 with {port, baseUrl, url, dir, child,
 * stop()}; stop() ends Jupyter and every kernel it started (SIGTERM, then
 * SIGKILL) and removes the temp dir.
 */
export async function startJupyter({ namespace, name = 'nb1', files = {}, timeoutMs = 30000 }) {
    const home = mkdtempSync(join(tmpdir(), `tg-jupyter-${namespace}-`));
    const dir = join(home, 'notebooks');
    mkdirSync(dir);
    for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
    const port = await freePort();
    const baseUrl = `/notebook/${namespace}/${name}/`;
    const child = spawnLogged(`jupyter-${namespace}`, JUPYTER_BIN, jupyterArgs({ baseUrl, port, dir }),
                              { env: jupyterEnv(home) });
    const kernels = new Set();
    const stop = async () => {
        for (const pid of childPids(child.pid)) kernels.add(pid);
        await child.stop('SIGTERM', 5000);
        for (const pid of kernels) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
        rmSync(home, { recursive: true, force: true });
    };
    process.on('exit', () => {
        for (const pid of [...kernels, ...childPids(child.pid)]) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
        rmSync(home, { recursive: true, force: true });
    });
    const deadline = Date.now() + timeoutMs;
    while ((await apiStatus(port, baseUrl)) !== 200) {
        if (child.result || Date.now() > deadline) {
            await stop();
            throw new Error(`jupyter for ${namespace} did not come up on port ${port}\nstderr:\n` +
                            `${child.stderr().slice(-3000)}`);
        }
        await sleep(200);
    }
    // Kernels are remembered while it runs, so stop() finds them even if Jupyter died first.
    const watch = setInterval(() => {
        for (const pid of childPids(child.pid)) kernels.add(pid);
    }, 500);
    watch.unref();
    return { port, baseUrl, url: `http://127.0.0.1:${port}${baseUrl}`, dir, child,
             stop: async () => { clearInterval(watch); await stop(); } };
}
