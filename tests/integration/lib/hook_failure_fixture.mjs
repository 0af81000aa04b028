// A test file whose `before` hook fails after it started peers, run by
// procs.test.mjs in a child `node --test` (this name does not match the
// *.test.mjs glob, so ctest never runs it alone). TG_HOOK_FIXTURE_PIDS: a file
// it appends "pid N" for every process it starts and, as it exits,
// "running N": how many of them had not ended by then (the parent-death
// signal would end those, but procs.mjs is to). TG_HOOK_FIXTURE_MODE:
//   crash  a long-lived child, an in-process server closed by the file's own
//          `after`, and a child that crashes by itself before the hook fails;
//   late   a start still pending when the hook fails: its child is spawned
//          after the file's `after` hooks ran;
//   quiet  no hook fails, the test passes, but a child crashed by itself.
import { appendFileSync } from 'node:fs';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { spawnLogged } from './procs.mjs';

const mode = process.env.TG_HOOK_FIXTURE_MODE || 'crash';
const record = (line) => appendFileSync(process.env.TG_HOOK_FIXTURE_PIDS, `${line}\n`);
const children = [];
let server;

function started(child) {
    children.push(child);
    record(`pid ${child.pid}`);
    return child;
}

process.on('exit', () => record(`running ${children.filter((c) => !c.result).length}`));

before(async () => {
    started(spawnLogged('sleeper', '/bin/sleep', ['600']));
    if (mode === 'quiet') {
        await started(spawnLogged('crasher', '/bin/sh', ['-c', 'exit 3'])).exited;
        return;
    }
    if (mode === 'late') {
        setTimeout(() => started(spawnLogged('late-sleeper', '/bin/sleep', ['600'])), 500);
        throw new Error('deliberate before-hook failure (late)');
    }
    server = http.createServer((req, res) => res.end('ok'));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const crasher = started(spawnLogged('crasher', '/bin/sh', ['-c', 'echo crashing >&2; exit 3']));
    await crasher.exited;
    throw new Error('deliberate before-hook failure (crash)');
});

after(async () => {
    if (server) await new Promise((resolve) => server.close(resolve));
});

test('runs only when the before hook passed (quiet)', () => {});
