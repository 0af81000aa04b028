// Child processes of an integration test file: each one's stdout and stderr
// go to tests/artifacts/<test>/<name>.{stdout,stderr}.log (and stay readable
// in memory), and every child is ended when the file's tests finish (an
// `after` hook), when the process exits, and on SIGINT/SIGTERM/SIGHUP.
// Children also get a parent-death signal (setpriv --pdeathsig), so not even
// a SIGKILL of the test runner leaves one behind.
//
// The `after` hook is registered when this module is imported, so it runs
// before the file's own `after` hooks, also when a `before` hook failed. It
// never throws: node:test skips the remaining `after` hooks of a file once one
// throws, and a file whose own cleanup (closing an in-process server) was
// skipped would never exit. A child that crashed by itself is reported on
// stderr and fails the file through its exit code. A child spawned after that
// hook (by a start still pending when a `before` hook failed) is killed at once.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The repository root (TG_SOURCE_DIR, else derived from this file's place). */
export const sourceDir = process.env.TG_SOURCE_DIR || resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

// A stopping gateway may drain requests in flight for up to 5 s (DRAIN_TIMEOUT_MS in gateway/runtime.c, which
// logs a warning when it gives up): the grace covers that contract plus a loaded machine's margin.
const STOP_GRACE_MS = 7000;
const SETPRIV = '/usr/bin/setpriv';
const children = new Set();
const names = new Map();
let logDir = null;
let ended = false; // the file's tests and the after hook are done

/** The test's name: the test file's base name without .test.mjs. */
export function testName() {
    const file = process.argv[1] ? basename(process.argv[1]) : 'unknown';
    return file.replace(/\.test\.mjs$/, '').replace(/\.m?js$/, '');
}

/** tests/artifacts/<test>/, emptied the first time it is asked for in this process. */
export function artifactsDir() {
    if (logDir === null) {
        logDir = join(sourceDir, 'tests', 'artifacts', testName());
        rmSync(logDir, { recursive: true, force: true });
        mkdirSync(logDir, { recursive: true });
    }
    return logDir;
}

/** Whether a process with this pid exists (a zombie not yet reaped counts). */
export function pidAlive(pid) {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

function uniqueName(name) {
    const n = (names.get(name) || 0) + 1;
    names.set(name, n);
    return n === 1 ? name : `${name}-${n}`;
}

function tail(text, max = 4000) {
    return text.length > max ? `...${text.slice(-max)}` : text;
}

/**
 * Starts cmd with args. Returns a handle:
 *   name, pid, proc, stdout(), stderr(), exited (promise of {code, signal}),
 *   waitForLine(regex, timeoutMs) -> the match, stop(signal, graceMs) -> {code, signal, killed}.
 * A child that exits by itself with a failure (non-zero or a signal) before
 * stop() is reported by the after hook unless options.mayExit is set.
 */
export function spawnLogged(name, cmd, args = [], options = {}) {
    name = uniqueName(name);
    const dir = artifactsDir();
    const outLog = createWriteStream(join(dir, `${name}.stdout.log`));
    const errLog = createWriteStream(join(dir, `${name}.stderr.log`));
    const usePdeath = existsSync(SETPRIV);
    const file = usePdeath ? SETPRIV : cmd;
    const argv = usePdeath ? ['--pdeathsig', 'KILL', '--', cmd, ...args] : args;
    const proc = spawn(file, argv, {
        cwd: options.cwd,
        env: { ...process.env, ...(options.env || {}) },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = [];
    const err = [];
    const lineWaiters = new Set();
    let lineBuf = '';
    const handle = {
        name,
        proc,
        pid: proc.pid,
        command: [cmd, ...args].join(' '),
        stopping: false,
        mayExit: Boolean(options.mayExit),
        result: null,
        stdout: () => out.join(''),
        stderr: () => err.join(''),
    };
    handle.exited = new Promise((resolveExit) => {
        proc.on('exit', (code, signal) => {
            handle.result = { code, signal };
            for (const w of lineWaiters) w.onExit();
            resolveExit(handle.result);
        });
    });
    // Spawn failures (ENOENT) come as 'error' without 'exit'.
    proc.on('error', (e) => {
        err.push(`spawn failed: ${e.message}\n`);
        if (!handle.result) {
            handle.result = { code: 127, signal: null };
            for (const w of lineWaiters) w.onExit();
        }
    });
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stdout.on('data', (chunk) => {
        out.push(chunk);
        outLog.write(chunk);
        lineBuf += chunk;
        let nl;
        while ((nl = lineBuf.indexOf('\n')) >= 0) {
            const line = lineBuf.slice(0, nl);
            lineBuf = lineBuf.slice(nl + 1);
            for (const w of lineWaiters) w.onLine(line);
        }
    });
    proc.stderr.on('data', (chunk) => {
        err.push(chunk);
        errLog.write(chunk);
    });
    handle.closed = new Promise((resolveClose) => {
        proc.on('close', () => {
            outLog.end();
            errLog.end();
            resolveClose();
        });
    });

    handle.waitForLine = (regex, timeoutMs = 10000) =>
        new Promise((resolveLine, reject) => {
            for (const line of handle.stdout().split('\n')) {
                const m = line.match(regex);
                if (m) return resolveLine(m);
            }
            const w = {
                onLine(line) {
                    const m = line.match(regex);
                    if (m) done(null, m);
                },
                onExit() {
                    const r = handle.result;
                    done(new Error(`${name} exited (code ${r.code}, signal ${r.signal}) before printing ${regex}\n` +
                                   `stderr:\n${tail(handle.stderr())}`));
                },
            };
            const timer = setTimeout(
                () => done(new Error(`${name}: no line ${regex} within ${timeoutMs} ms\nstderr:\n${tail(handle.stderr())}`)),
                timeoutMs);
            function done(e, m) {
                clearTimeout(timer);
                lineWaiters.delete(w);
                if (e) reject(e);
                else resolveLine(m);
            }
            lineWaiters.add(w);
            if (handle.result) w.onExit();
        });

    handle.stop = async (signal = 'SIGTERM', graceMs = STOP_GRACE_MS) => {
        handle.stopping = true;
        if (handle.result) return { ...handle.result, killed: false };
        proc.kill(signal);
        let timer;
        const graceful = await Promise.race([
            handle.exited.then(() => true),
            new Promise((r) => (timer = setTimeout(() => r(false), graceMs))),
        ]);
        clearTimeout(timer);
        if (graceful) return { ...handle.result, killed: false };
        proc.kill('SIGKILL');
        await handle.exited;
        return { ...handle.result, killed: true };
    };

    children.add(handle);
    if (ended) {
        // too late to be stopped by anyone: nothing may keep the file's process alive
        handle.mayExit = true;
        handle.stopping = true;
        proc.kill('SIGKILL');
    }
    return handle;
}

/**
 * Runs cmd to completion (logged like spawnLogged). Resolves {code, signal, stdout, stderr};
 * rejects if it runs longer than timeoutMs (it is killed).
 */
export async function runCommand(name, cmd, args = [], { env, cwd, timeoutMs = 20000 } = {}) {
    const child = spawnLogged(name, cmd, args, { env, cwd, mayExit: true });
    let timer;
    const timedOut = new Promise((r) => (timer = setTimeout(() => r(true), timeoutMs)));
    const late = await Promise.race([child.exited.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
        await child.stop('SIGKILL', 1000);
        throw new Error(`${child.command}: still running after ${timeoutMs} ms\nstderr:\n${tail(child.stderr())}`);
    }
    await child.closed;
    return { ...child.result, stdout: child.stdout(), stderr: child.stderr() };
}

/**
 * Ends every child still running (SIGTERM, SIGKILL after STOP_GRACE_MS). Throws one
 * error listing children that crashed on their own or ignored SIGTERM.
 */
export async function stopAll() {
    const problems = [];
    await Promise.all([...children].map(async (c) => {
        if (c.result) {
            const r = c.result;
            if (!c.stopping && !c.mayExit && (r.code !== 0 || r.signal)) {
                problems.push(`${c.name} (${c.command}) exited by itself: code ${r.code}, signal ${r.signal}\n` +
                              `stderr:\n${tail(c.stderr())}`);
            }
            return;
        }
        const r = await c.stop('SIGTERM');
        if (r.killed) {
            problems.push(`${c.name} (${c.command}) ignored SIGTERM for ${STOP_GRACE_MS} ms and was killed\n` +
                          `stderr:\n${tail(c.stderr())}`);
        }
    }));
    children.clear();
    if (problems.length) throw new Error(problems.join('\n'));
}

function killAllNow() {
    for (const c of children) {
        if (!c.result) {
            try {
                c.proc.kill('SIGKILL');
            } catch {
                // already gone
            }
        }
    }
}

after(async () => {
    ended = true;
    try {
        await stopAll();
    } catch (e) {
        process.exitCode = 1;
        console.error(`procs.mjs: ${e.message}`);
    }
});
process.on('exit', killAllNow);
for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
    process.once(sig, () => {
        killAllNow();
        process.exit(128 + n);
    });
}
