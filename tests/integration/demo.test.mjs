// The README's first command: scripts/demo brings the whole stack up on the
// fixed ports of DESIGN.md (dev IdP, gateway with login, alice's and bob's
// real Jupyter behind mTLS sidecars, mnist v1 and v2 at 95/5), the curl
// command it prints works, users log in and reach their notebooks and the
// model, the printed curl command with alice's IdP token (scripts/demo-token)
// gets a prediction over HTTP/2 (bob's 403, none 401), the model servers see
// valid RCTokens of alice, and Ctrl-C (SIGINT) leaves no process behind -
// kernels included.
// Then `scripts/demo --redis` keeps the sessions in the Redis it starts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { createBrowser } from './lib/browserless.mjs';
import { http1 } from './lib/http.mjs';
import { USERS } from './lib/idp.mjs';
import { sleep } from './lib/net.mjs';
import { sourceDir, spawnLogged } from './lib/procs.mjs';

const run = promisify(execFile);
const ORIGIN = 'https://localhost:8443';
const PORTS = [8443, 8080, 9901, 5556, 18501, 18502, 18601, 18602, 18888, 18889];
const MNIST = '/serving/kubeflow-alice/mnist/v1/models/mnist';
// Every process the demo starts names this checkout's .demo/ or config/demo.yaml.
const OURS = `${sourceDir}/(\\.demo/|config/demo\\.yaml)`;

function portOpen(port) {
    return new Promise((resolve) => {
        const sock = connect({ host: '127.0.0.1', port });
        sock.once('connect', () => {
            sock.destroy();
            resolve(true);
        });
        sock.once('error', () => resolve(false));
    });
}

async function ours() {
    const { stdout } = await run('pgrep', ['-af', OURS]).catch((e) => e);
    return (stdout || '').trim();
}

let demo;
let banner;
let ca;

/** Starts scripts/demo with args once the ports are free; resolves once its banner is complete. */
async function startDemo(args = [], ports = PORTS) {
    for (const port of ports) assert.equal(await portOpen(port), false, `port ${port} is busy: is a demo running?`);
    demo = spawnLogged('demo', 'bash', [join(sourceDir, 'scripts/demo'), ...args], { cwd: sourceDir });
    await demo.waitForLine(/tenantgate demo is up/, 600000);
    await demo.waitForLine(/Ctrl-C stops everything/, 5000);
    banner = demo.stdout();
    ca = readFileSync(join(sourceDir, '.demo/certs/edge-ca.pem'));
}

/** Ctrl-C: the demo exits by itself, and no port or process of it is left. */
async function stopDemo(ports = PORTS) {
    const r = await demo.stop('SIGINT', 15000);
    assert.equal(r.killed, false, 'the demo ignored SIGINT');
    for (const port of ports) assert.equal(await portOpen(port), false, `port ${port} still open after Ctrl-C`);
    assert.equal(await ours(), '', 'left behind');
}

before(() => startDemo());

after(async () => {
    if (demo && !demo.result) await demo.stop('SIGINT', 15000);
});

const browser = () => createBrowser({ ca, resolve: { localhost: '127.0.0.1' } });
const cookieHeader = (b) => b.jar.list.map((c) => `${c.name}=${c.value}`).join('; ');

test('the banner names the users, the notebook URLs and whether RCTokens are checked', () => {
    for (const s of ['alice@example.com / alice-password', 'bob@example.com   / bob-password',
                     `${ORIGIN}/notebook/kubeflow-alice/nb1/`, `${ORIGIN}/notebook/kubeflow-bob/nb1/`,
                     'http://127.0.0.1:5556']) {
        assert.ok(banner.includes(s), `banner lacks ${s}:\n${banner}`);
    }
    assert.match(banner, /RCTokens +on: /);
});

/** Runs a curl command line the way a newcomer's shell would; resolves {status, version, body}. */
async function curl(commandLine) {
    const { stdout } = await run('bash', ['-c', `${commandLine} -sS -w '\\n%{http_code} %{http_version}'`],
                                 { cwd: sourceDir });
    const lines = stdout.trimEnd().split('\n');
    const [status, version] = lines.at(-1).split(' ');
    return { status: Number(status), version, body: lines.slice(0, -1).join('\n') };
}

/** The JSON lines a demo workload logged (one per request) in .demo/logs/NAME.log. */
function workloadLog(name) {
    return readFileSync(join(sourceDir, '.demo/logs', `${name}.log`), 'utf8').split('\n')
        .filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

test('the printed curl command: alice\'s IdP token gets a prediction from her model over HTTP/2', async () => {
    const line = banner.split('\n').find((l) => l.trim().startsWith('curl '));
    assert.ok(line, `no curl command in:\n${banner}`);
    assert.match(line, /--http2 .*Authorization: Bearer \$\(scripts\/demo-token alice\)".*mnist:predict$/);
    const before = workloadLog('mnist-v1').length + workloadLog('mnist-v2').length;
    const res = await curl(line.trim());
    assert.equal(`${res.status} ${res.version}`, '200 2', res.body);
    const out = JSON.parse(res.body);
    assert.equal(out.predictions.length, 1);
    assert.match(String(out.model_version), /^[12]$/);
    // the model server saw a valid RCToken of alice for its own host, not her IdP token
    for (let i = 0; i < 30 && workloadLog('mnist-v1').length + workloadLog('mnist-v2').length === before; i += 1) {
        await sleep(100);
    }
    const seen = workloadLog(`mnist-v${out.model_version}`).filter((l) => l.path === '/v1/models/mnist:predict');
    assert.ok(seen.length >= 1, 'the model server logged no predict');
    assert.deepEqual(seen.at(-1).rctoken, { valid: true, sub: USERS.alice.username,
                                            aud: 'mnist.kubeflow-alice.svc.cluster.local' });
    // the README's quick start shows the same command
    const readme = readFileSync(join(sourceDir, 'README.md'), 'utf8');
    assert.ok(readme.split('\n').includes(line.trim()), `README.md does not show: ${line.trim()}`);
    for (const url of [`${ORIGIN}/notebook/kubeflow-alice/nb1/`, 'scripts/demo --redis', 'scripts/demo-token alice']) {
        assert.ok(readme.includes(url), `README.md does not mention ${url}`);
    }
});

test('on alice\'s model bob\'s IdP token gets 403 and no token 401 JSON; the model server logs only valid RCTokens', async () => {
    const predict = `curl --http2 --cacert .demo/certs/edge-ca.pem -d '{"instances":[[0]]}' ${ORIGIN}${MNIST}:predict`;
    const bob = await curl(`${predict} -H "Authorization: Bearer $(scripts/demo-token bob)"`);
    assert.equal(`${bob.status} ${bob.version}`, '403 2', bob.body);
    assert.equal(JSON.parse(bob.body).status, 403);
    const none = await curl(`${predict} -H 'Accept: application/json'`);
    assert.equal(`${none.status} ${none.version}`, '401 2', none.body);
    assert.equal(JSON.parse(none.body).error, 'authentication required');
    const bad = await curl(`${predict} -H 'Authorization: Bearer not.a.token'`);
    assert.equal(bad.status, 401, bad.body);
    assert.equal(JSON.parse(bad.body).error, 'invalid_token');
    const lines = [...workloadLog('mnist-v1'), ...workloadLog('mnist-v2')];
    assert.ok(lines.length >= 1);
    for (const l of lines) assert.equal(l.rctoken?.valid, true, JSON.stringify(l));
    assert.ok(lines.every((l) => l.rctoken.sub === USERS.alice.username), 'only alice reached her model');
});

test('the workloads refuse a request without a valid RCToken, as an Envoy sidecar would', async () => {
    // straight to alice's sidecar with the gateway's own mesh certificate, no token
    const mesh = (f) => join(sourceDir, '.demo/certs', f);
    const { stdout } = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', mesh('mesh-ca.pem'),
                                          '--cert', mesh('gateway-client.pem'), '--key', mesh('gateway-client.key'),
                                          '--resolve', 'nb1.kubeflow-alice.svc.cluster.local:18601:127.0.0.1',
                                          'https://nb1.kubeflow-alice.svc.cluster.local:18601/notebook/kubeflow-alice/nb1/api']);
    assert.equal(stdout, '401');
    for (let i = 0; i < 30 && !workloadLog('sidecar-alice').length; i += 1) await sleep(100);
    const last = workloadLog('sidecar-alice').at(-1);
    assert.equal(last.status, 401);
    assert.equal(last.rctoken.valid, false);
});

test('alice logs in through the IdP onto her real Jupyter and starts a kernel', async () => {
    const b = browser();
    const res = await b.login(`${ORIGIN}/notebook/kubeflow-alice/nb1/tree`, USERS.alice);
    assert.equal(res.status, 200);
    assert.equal(res.url, `${ORIGIN}/notebook/kubeflow-alice/nb1/tree`);
    assert.match(res.body, /data-base-url="\/notebook\/kubeflow-alice\/nb1\/"/);
    const xsrf = b.jar.list.find((c) => c.name === '_xsrf');
    assert.ok(xsrf, 'Jupyter set no _xsrf cookie through the gateway');
    const kernel = await http1(`${ORIGIN}/notebook/kubeflow-alice/nb1/api/kernels`, {
        ca, servername: 'localhost', method: 'POST', body: '{}',
        headers: { cookie: cookieHeader(b), 'x-xsrftoken': xsrf.value, 'content-type': 'application/json' },
    }).then((r) => r);
    assert.equal(kernel.status, 201, kernel.body);
    // a kernel process of the demo now runs (Ctrl-C must end it)
    for (let i = 0; i < 50 && !(await ours()).includes('ipykernel'); i += 1) await sleep(100);
    assert.match(await ours(), /ipykernel_launcher/);
});

test('bob logs in onto his own Jupyter; alice gets the 403 page there; the sidecars saw only valid RCTokens', async () => {
    const res = await browser().login(`${ORIGIN}/notebook/kubeflow-bob/nb1/tree`, USERS.bob);
    assert.equal(res.status, 200);
    assert.match(res.body, /data-base-url="\/notebook\/kubeflow-bob\/nb1\/"/);
    const alice = browser();
    await alice.login(`${ORIGIN}/notebook/kubeflow-alice/nb1/tree`, USERS.alice);
    const denied = await alice.get(`${ORIGIN}/notebook/kubeflow-bob/nb1/tree`);
    assert.equal(denied.status, 403);
    assert.match(denied.body, /Signed in as: <strong id="user">alice@example\.com<\/strong>/);
    assert.match(denied.body, /href="\/authservice\/logout"/);
    // every request through the gateway came with a valid RCToken of the owner;
    // alice's sidecar also refused the tokenless request of the test above
    for (const [user, name, refused] of [['bob', 'sidecar-bob', 0], ['alice', 'sidecar-alice', 1]]) {
        const lines = workloadLog(name);
        const valid = lines.filter((l) => l.rctoken?.valid);
        assert.ok(valid.length >= 1, `${name} let nothing in`);
        assert.ok(valid.every((l) => l.rctoken.sub === USERS[user].username), `${name}: ${JSON.stringify(valid)}`);
        assert.equal(lines.length - valid.length, refused, `${name}: ${JSON.stringify(lines.map((l) => l.rctoken))}`);
    }
});

test('alice\'s predictions come from mnist v1 and v2 at about 95/5, over mTLS', async () => {
    const b = browser();
    await b.login(`${ORIGIN}${MNIST}`, USERS.alice);
    const status = await b.get(`${ORIGIN}${MNIST}`);
    assert.equal(status.status, 200);
    assert.equal(status.json().model_version_status[0].state, 'AVAILABLE');
    const versions = { 1: 0, 2: 0 };
    for (let i = 0; i < 100; i += 1) {
        const r = await http1(`${ORIGIN}/serving/kubeflow-alice/mnist/v1/models/mnist:predict`, {
            ca, servername: 'localhost', method: 'POST', body: JSON.stringify({ instances: [[i, 1, 2]] }),
            headers: { cookie: cookieHeader(b), 'content-type': 'application/json' },
        });
        assert.equal(r.status, 200, r.body);
        const out = r.json();
        assert.equal(out.predictions.length, 1);
        versions[out.model_version] += 1;
    }
    assert.ok(versions[2] >= 1 && versions[2] <= 15, `v1/v2 split ${JSON.stringify(versions)}`);
    assert.equal(versions[1] + versions[2], 100);
});

test('the http listener redirects and the admin listener is ready', async () => {
    const { stdout } = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}',
                                          'http://localhost:8080/serving/kubeflow-alice/mnist/x']);
    assert.equal(stdout, '301 https://localhost:8443/serving/kubeflow-alice/mnist/x');
    const ready = await run('curl', ['-sS', 'http://127.0.0.1:9901/readyz']);
    assert.equal(ready.stdout.trim(), 'ready');
});

test('Ctrl-C stops every process of the stack, kernels included', () => stopDemo());

test('--redis: sessions live in the Redis the demo starts, and Ctrl-C stops it too', async () => {
    const ports = [...PORTS, 16379];
    await startDemo(['--redis'], ports);
    assert.match(banner, /sessions in redis \(127\.0\.0\.1:16379\)/);
    const before = await run('redis-cli', ['-p', '16379', 'dbsize']);
    const res = await browser().login(`${ORIGIN}/notebook/kubeflow-alice/nb1/tree`, USERS.alice);
    assert.equal(res.status, 200);
    const afterLogin = await run('redis-cli', ['-p', '16379', 'dbsize']);
    assert.ok(Number(afterLogin.stdout) > Number(before.stdout),
              `no session in Redis (${afterLogin.stdout.trim()} keys)`);
    await stopDemo(ports);
});
