// The throwaway PKI of scripts/make-certs, made once per test file in a temp dir.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sourceDir } from './procs.mjs';

let made = null;

/**
 * Runs scripts/make-certs into a fresh temp dir (once per process) and
 * resolves {dir, path(name), read(name)}; the dir is removed at exit.
 */
export function makeCerts() {
    if (!made) {
        made = (async () => {
            const dir = mkdtempSync(join(tmpdir(), 'tg-certs-'));
            process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
            await promisify(execFile)(join(sourceDir, 'scripts', 'make-certs'), [dir], { timeout: 30000 });
            return {
                dir,
                path: (name) => join(dir, name),
                read: (name) => readFileSync(join(dir, name)),
            };
        })();
    }
    return made;
}
