// lib/procs.mjs itself: a test file whose `before` hook fails after starting
// peers exits within seconds with that hook's error and leaves no process
// behind, run in a child `node --test` (lib/hook_failure_fixture.mjs) the way
// ctest runs the other files, but without --test-force-exit, so the cleanup
// has to come from procs.mjs alone.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pidAlive, sourceDir } from './lib/procs.mjs';

const FIXTURE = join(sourceDir, 'tests', 'integration', 'lib', 'hook_failure_fixture.mjs');
const EXIT_WITHIN_MS = 8000; // a node start and a few process kills, on a loaded machine
const KILL_AFTER_MS = 30000; // a file that hangs: stopped here so that this test fails instead of hanging

/**
 * Runs the fixture in mode; resolves {code, signal, output, ms, pids, running (children not ended when the
 * fixture exited, null if it did not say), left (pids still alive after it)}.
 */
async function runFixture(mode) {
    const dir = mkdtempSync(join(tmpdir(), 'tg-procs-'));
    const pidsFile = join(dir, 'pids');
    writeFileSync(pidsFile, '');
    const start = Date.now();
    const env = { ...process.env, TG_HOOK_FIXTURE_MODE: mode, TG_HOOK_FIXTURE_PIDS: pidsFile };
    delete env.NODE_TEST_CONTEXT; // set for this file by its own runner: the child would not run its tests
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', FIXTURE], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // its own process group: a hung run is killed whole
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const killer = setTimeout(() => process.kill(-child.pid, 'SIGKILL'), KILL_AFTER_MS);
    const [code, signal] = await new Promise((resolve) => child.on('close', (c, s) => resolve([c, s])));
    clearTimeout(killer);
    const ms = Date.now() - start;
    const lines = readFileSync(pidsFile, 'utf8').split('\n');
    const pids = lines.filter((l) => l.startsWith('pid ')).map((l) => Number(l.slice(4)));
    const end = lines.find((l) => l.startsWith('running '));
    const running = end ? Number(end.slice(8)) : null;
    const deadline = Date.now() + 3000; // killed children are reaped once their parent is gone
    while (pids.some(pidAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const left = pids.filter(pidAlive);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    console.log(`fixture ${mode}: exit code ${code} after ${ms} ms, ${pids.length} processes started, ` +
                `${running} running at its exit, ${left.length} left`);
    return { code, signal, output, ms, pids, running, left };
}

test('a before hook that fails after starting peers: the file fails within seconds with its error, no process left', async () => {
    const r = await runFixture('crash');
    assert.ok(r.ms < EXIT_WITHIN_MS, `the fixture took ${r.ms} ms (signal ${r.signal}):\n${r.output}`);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /deliberate before-hook failure \(crash\)/);
    assert.match(r.output, /crasher .* exited by itself: code 3/); // the crash is reported, not hidden
    assert.equal(r.pids.length, 2);
    assert.equal(r.running, 0, 'children were still running when the fixture exited');
    assert.deepEqual(r.left, [], `still running after the fixture ended: ${r.left}`);
});

test('a child spawned after the file\'s after hooks (a start still pending) is killed at once, not waited for', async () => {
    const r = await runFixture('late');
    assert.ok(r.ms < EXIT_WITHIN_MS, `the fixture took ${r.ms} ms (signal ${r.signal}):\n${r.output}`);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /deliberate before-hook failure \(late\)/);
    assert.equal(r.pids.length, 2, r.output);
    assert.equal(r.running, 0, 'children were still running when the fixture exited');
    assert.deepEqual(r.left, [], `still running after the fixture ended: ${r.left}`);
});

test('a child that crashed by itself still fails a file whose tests passed', async () => {
    const r = await runFixture('quiet');
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /✔ runs only when the before hook passed/);
    assert.match(r.output, /crasher .* exited by itself: code 3/);
    assert.equal(r.running, 0, 'children were still running when the fixture exited');
});
