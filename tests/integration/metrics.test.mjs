// Observability: /metrics on the admin listener counts requests per tenant
// (namespace, route, status class, reason), authorization decisions and
// reloads (a refused reload counts as refused, an accepted one moves the
// generation and brings the new tenant's series); the access log has one
// JSON line per request without the query; no cookie, token or user id sent
// by a client ever shows up in either.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { echoFrom } from './lib/checks.mjs';
import { makeCerts } from './lib/certs.mjs';
import { edgeConfig, startGateway } from './lib/gateway.mjs';
import { h2, http1 } from './lib/http.mjs';
import { freePort } from './lib/net.mjs';
import { standardServices, startStandardUpstreams } from './lib/stack.mjs';

const SECRETS = ['cookie-secret-4f1d', 'bearer-secret-9a7c', 'userid-secret-2b8e', 'query-secret-7d3a'];

let certs;
let up;
let gw;
let ports;
let dir;
let closedPort; // nothing listens there: connect failures
const client = () => ({ ca: certs.read('edge-ca.pem'), servername: 'localhost' });

function config(extra = []) {
    const dead = { name: 'dead', namespace: 'kubeflow-bob', host: 'dead.kubeflow-bob.svc.cluster.local',
        port: closedPort, prefix: '/dead/' };
    return edgeConfig({ ...ports, certs, services: standardServices(up).concat([dead], extra),
        spec: `  accessLog: {file: ${JSON.stringify(join(dir, 'access.jsonl'))}}\n` });
}

async function scrape() {
    const res = await http1(`${gw.adminOrigin}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    return res.body.toString();
}

// The value of the sample with exactly these labels (0 when absent).
function sample(text, name, labels) {
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
    const wanted = pairs ? `${name}{${pairs}} ` : `${name} `;
    const line = text.split('\n').find((l) => l.startsWith(wanted));
    return line ? Number(line.slice(wanted.length)) : 0;
}

const requests = (text, namespace, route, codeClass, reason) =>
    sample(text, 'tenantgate_requests_total', { namespace, route, code_class: codeClass, reason });

async function waitFor(what, check, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${gw.child.stderr().slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
    }
}

// A request carrying every kind of secret a client can send.
const get = (path) => h2(gw.origin, { ...client(), path: `${path}?token=${SECRETS[3]}`, headers: {
    cookie: `__Host-tenantgate=${SECRETS[0]}; other=${SECRETS[0]}`,
    authorization: `Bearer ${SECRETS[1]}`,
    'kubeflow-userid': SECRETS[2],
} });

before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tg-metrics-'));
    closedPort = await freePort();
    certs = await makeCerts();
    up = await startStandardUpstreams(certs);
    gw = await startGateway({ config: (p) => {
        ports = p;
        return config();
    } });
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('requests to two tenants move their own counters', async () => {
    const before = await scrape();
    for (let i = 0; i < 3; ++i) echoFrom(await get('/serving/kubeflow-alice/mnist/v1/models/mnist'), 'mnist-alice');
    for (let i = 0; i < 2; ++i) echoFrom(await get('/notebook/kubeflow-bob/tree'), 'nb1-bob');
    assert.equal((await get('/nowhere')).status, 404);
    assert.equal((await get('/dead/x')).status, 502);
    let text;
    // a request is counted when its memory goes, just after the answer: wait for the last one
    await waitFor('the counters', async () => {
        text = await scrape();
        return requests(text, '', '', '4xx', 'no_route') - requests(before, '', '', '4xx', 'no_route') === 1;
    });
    const delta = (ns, route, cls, reason) => requests(text, ns, route, cls, reason) - requests(before, ns, route, cls, reason);
    assert.equal(delta('kubeflow-alice', 'mnist/0', '2xx', 'upstream'), 3);
    assert.equal(delta('kubeflow-bob', 'nb1/0', '2xx', 'upstream'), 2);
    assert.equal(delta('kubeflow-alice', 'nb1/0', '2xx', 'upstream'), 0);
    assert.equal(delta('kubeflow-bob', 'dead/0', '5xx', 'upstream'), 1);
    const failures = (t) => sample(t, 'tenantgate_upstream_connect_failures_total',
        { namespace: 'kubeflow-bob', cluster: 'dead.kubeflow-bob.svc.cluster.local|v1|8500' });
    assert.equal(failures(text) - failures(before), 1);
    const count = (t, ns) => sample(t, 'tenantgate_request_duration_seconds_count', { namespace: ns });
    assert.equal(count(text, 'kubeflow-alice') - count(before, 'kubeflow-alice'), 3);
    assert.equal(count(text, 'kubeflow-bob') - count(before, 'kubeflow-bob'), 3); // nb1 twice, dead once
    const allows = (t, ns) => sample(t, 'tenantgate_authz_decisions_total', { namespace: ns, decision: 'allow' });
    assert.equal(allows(text, 'kubeflow-alice') - allows(before, 'kubeflow-alice'), 3);
    assert.equal(sample(text, 'tenantgate_inflight_requests', {}), 0);
    assert.equal(sample(text, 'tenantgate_config_generation', {}), 1);
    assert.match(text, /^tenantgate_build_info\{version="[^"]+"\} 1$/m);
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} in /metrics`);

    const lines = readFileSync(join(dir, 'access.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const alice = lines.filter((l) => l.namespace === 'kubeflow-alice');
    assert.equal(alice.length, 3);
    assert.equal(alice[0].route, 'mnist/0');
    assert.equal(alice[0].path, '/serving/kubeflow-alice/mnist/v1/models/mnist');
    assert.equal(alice[0].method, 'GET');
    assert.equal(alice[0].status, 200);
    assert.equal(alice[0].userid, null);
    assert.match(alice[0].upstream, /^mnist\.kubeflow-alice\.svc\.cluster\.local\|v1\|8500$/);
    assert.match(alice[0].request_id, /^[0-9a-f-]{36}$/i);
    assert.ok(alice[0].bytes > 0 && alice[0].duration_ms >= 0);
    assert.equal(lines.filter((l) => l.namespace === 'kubeflow-bob').length, 3);
    const dead = lines.find((l) => l.route === 'dead/0');
    assert.equal(dead.status, 502);
    assert.equal(dead.upstream, 'dead.kubeflow-bob.svc.cluster.local|v1|8500');
    const missing = lines.find((l) => l.path === '/nowhere');
    assert.equal(missing.status, 404);
    assert.equal(missing.namespace, null);
    const raw = readFileSync(join(dir, 'access.jsonl'), 'utf8');
    for (const secret of SECRETS) assert.ok(!raw.includes(secret), `${secret} in the access log`);
});

test('a refused reload is counted; an accepted one adds the new tenant', async () => {
    const before = await scrape();
    const refused = (t) => sample(t, 'tenantgate_config_reloads_total', { result: 'refused' });
    const ok = (t) => sample(t, 'tenantgate_config_reloads_total', { result: 'ok' });
    writeFileSync(gw.configPath, `${config()}\nspec: [not, valid\n`);
    gw.child.proc.kill('SIGHUP');
    await waitFor('the refused reload', async () => refused(await scrape()) === refused(before) + 1);
    let text = await scrape();
    assert.equal(ok(text), ok(before));
    assert.equal(sample(text, 'tenantgate_config_generation', {}), 1);

    writeFileSync(gw.configPath, config([{ name: 'extra', namespace: 'kubeflow-carol',
        host: 'extra.kubeflow-carol.svc.cluster.local', port: up['mnist-alice'].port, prefix: '/extra/',
        sni: 'mnist.kubeflow-alice.svc.cluster.local',
        subjectAltNames: ['spiffe://cluster.local/ns/kubeflow-alice/sa/default-editor'] }]));
    gw.child.proc.kill('SIGHUP');
    await waitFor('the reload', async () => ok(await scrape()) === ok(before) + 1);
    echoFrom(await get('/extra/x'), 'mnist-alice');
    await waitFor('the new tenant', async () => {
        text = await scrape();
        return requests(text, 'kubeflow-carol', 'extra/0', '2xx', 'upstream') === 1;
    });
    assert.equal(sample(text, 'tenantgate_config_generation', {}), 2);
});
