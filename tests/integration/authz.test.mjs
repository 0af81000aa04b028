// Authorization end to end: the seed talk's ServiceRole/ServiceRoleBinding
// (config/seed-policy.yaml, verbatim) plus AuthorizationPolicies for the
// notebooks, users logged in through the dev IdP, the 403 page and JSON, the
// audit trail, forged identity headers, cross-tenant configs refused at load
// and 429 under a burst.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createBrowser } from './lib/browserless.mjs';
import { echoFrom } from './lib/checks.mjs';
import { checkConfig, edgeConfig, startGateway, writeConfig } from './lib/gateway.mjs';
import { h2, h2Connect } from './lib/http.mjs';
import { startIdp, USERS } from './lib/idp.mjs';
import { freePort, freePorts } from './lib/net.mjs';
import { makeCerts } from './lib/certs.mjs';
import { sourceDir } from './lib/procs.mjs';
import { ALICE_MNIST, standardServices, startStandardUpstreams } from './lib/stack.mjs';
import { loginSecrets, loginSpec } from './lib/login.mjs';

const MNIST = '/serving/kubeflow-alice/mnist/v1/models/mnist';
const ALICE_NB = '/notebook/kubeflow-alice/nb1/tree';
const BOB_NB = '/notebook/kubeflow-bob/tree';

const login = loginSecrets();
const { dir, clientSecret } = login; // client-secret and session.key in dir
const auditFile = join(dir, 'audit.jsonl');

/** The seed's two documents, as written in the talk. */
const seedDocs = readFileSync(join(sourceDir, 'config/seed-policy.yaml'), 'utf8')
    .split(/^---\n/m).map((d) => d.replace(/^#.*\n/gm, '')).filter((d) => d.trim() !== '');

const notebookPolicies = [`apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {name: notebooks, namespace: kubeflow-alice}
spec:
  action: ALLOW
  rules:
  - to: [{operation: {paths: ["/notebook/kubeflow-alice/*"]}}]
    when: [{key: "request.auth.claims[groups]", values: [kubeflow-alice-editors]}]
`, `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {name: models, namespace: kubeflow-alice}
spec:
  rules:
  - to: [{operation: {paths: ["/v1/models/*"], methods: [GET]}}]
`, `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {name: owner, namespace: kubeflow-bob}
spec:
  rules:
  - from: [{source: {requestPrincipals: ["*/bob@example.com"]}}]
`, `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {name: no-delete, namespace: kubeflow-bob}
spec:
  action: DENY
  rules:
  - to: [{operation: {methods: [DELETE]}}]
`];

/** The mnist ServiceEntry is "TF Serving" for ServiceRole services. */
const tfServing = (text) => text.replace('kind: ServiceEntry\nmetadata: {name: mnist, namespace: kubeflow-alice}',
    'kind: ServiceEntry\nmetadata: {name: mnist, namespace: kubeflow-alice, ' +
    'annotations: {tenantgate.io/service-name: "TF Serving"}}');

let certs;
let up;
let idp;
let httpsPort;
let gw;

before(async () => {
    certs = await makeCerts();
    up = await startStandardUpstreams(certs);
    httpsPort = await freePort();
    idp = await startIdp({ clientSecret, redirectUris: [`https://localhost:${httpsPort}/authservice/callback`] });
    const [adminPort, httpPort] = await freePorts(2);
    const spec = `${loginSpec({ idp, externalUrl: `https://localhost:${httpsPort}`, secrets: login })}  authorization:
    audit: {file: ${auditFile}, sampleAllows: 1, sqliteTable: true}
`;
    // the same model server behind a rewrite: policies see the path the destination sees
    const models = { name: 'models', namespace: 'kubeflow-alice', host: ALICE_MNIST.replace('mnist', 'models'),
                     port: up['mnist-alice'].port, prefix: '/models/kubeflow-alice/mnist/', rewrite: '/v1/models/mnist',
                     sni: ALICE_MNIST };
    const services = [...standardServices(up), models];
    const config = (ports) => tfServing(edgeConfig({ ...ports, certs, services, spec,
                                                     extraDocs: [...seedDocs, ...notebookPolicies] }));
    gw = await startGateway({ config, ports: { adminPort, httpsPort, httpPort }, name: 'authz-gateway' });
});

after(async () => {
    await gw?.stop();
});

const origin = () => `https://localhost:${httpsPort}`;
const newBrowser = () => createBrowser({ ca: certs.read('edge-ca.pem'), resolve: { localhost: '127.0.0.1' } });

async function loggedIn(user) {
    const browser = newBrowser();
    const res = await browser.login(`${origin()}${MNIST}`, user);
    assert.ok(res.loginForm, `login of ${user.username}: no login form (${res.status})`);
    assert.ok(browser.jar.list.some((c) => c.name === '__Host-tenantgate'), `no session for ${user.username}`);
    return browser;
}

function assertForbiddenPage(res, user, method, path) {
    assert.equal(res.status, 403, res.body.slice(0, 300));
    assert.match(res.headers['content-type'], /^text\/html/);
    assert.ok(res.body.includes(user.username), 'the page says who you are');
    assert.ok(res.body.includes(`${method} ${path}`), 'the page says what you asked for');
    assert.ok(res.body.includes('href="/authservice/logout"'), 'the page offers to sign in as someone else');
    for (const secret of ['alice@foo.com', 'alice-serving', 'example-role-binding', 'kubeflow-bob-editors']) {
        if (user.username !== secret) assert.ok(!res.body.includes(secret), `the page names ${secret}`);
    }
}

function auditLines() {
    return readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

describe('the seed policy (ServiceRole + ServiceRoleBinding, verbatim)', () => {
    test('alice (sub alice@foo.com) may GET TF Serving; POST is 403 JSON', async () => {
        const alice = await loggedIn(USERS.aliceFoo);
        const res = await alice.get(`${origin()}${MNIST}`);
        const echo = echoFrom(res, 'mnist-alice');
        assert.equal(echo.headers['kubeflow-userid'], USERS.aliceFoo.username);
        // HEAD is granted too; the same session over h2 with a plain client
        const cookie = alice.jar.header(`${origin()}${MNIST}`, { method: 'HEAD' });
        const head = await h2(gw.origin, { ca: certs.read('edge-ca.pem'), servername: 'localhost', method: 'HEAD',
                                           path: MNIST, headers: { cookie } });
        assert.equal(head.status, 200);
        const post = await alice.post(`${origin()}${MNIST}:predict`, { instances: '1' });
        assert.equal(post.status, 403);
        assert.match(post.headers['content-type'], /^application\/json/);
        assert.equal(post.json().status, 403);
        assert.equal(post.json().request_id, post.headers['x-request-id']);
    });

    test('bob may not: a 403 page for his browser, JSON for his API client', async () => {
        const bob = await loggedIn(USERS.bob);
        const page = await bob.get(`${origin()}${MNIST}`);
        assertForbiddenPage(page, USERS.bob, 'GET', MNIST);
        const api = await bob.get(`${origin()}${MNIST}`, { headers: { accept: 'application/json' } });
        assert.equal(api.status, 403);
        assert.deepEqual(Object.keys(api.json()).sort(), ['error', 'request_id', 'status']);
        const line = auditLines().find((l) => l.request_id === page.headers['x-request-id']);
        assert.ok(line, 'the deny is in the audit trail');
        assert.equal(line.decision, 'deny');
        assert.equal(line.user, USERS.bob.username);
        assert.equal(line.namespace, 'kubeflow-alice');
        assert.equal(line.method, 'GET');
        assert.equal(line.path, MNIST);
        assert.equal(line.policy, null);
        assert.match(line.reason, /no policy allows/);
    });

    test('a forged kubeflow-userid header changes nothing', async () => {
        const bob = await loggedIn(USERS.bob);
        const res = await bob.get(`${origin()}${MNIST}`, {
            headers: { 'kubeflow-userid': USERS.aliceFoo.username, 'kubeflow-groups': 'kubeflow-alice-editors' } });
        assertForbiddenPage(res, USERS.bob, 'GET', MNIST);
        const anonymous = newBrowser();
        const anon = await anonymous.get(`${origin()}${MNIST}`, { headers: { 'kubeflow-userid': USERS.aliceFoo.username } });
        assert.ok(anon.url.startsWith(idp.issuer), `an anonymous request ended at ${anon.url}, not the IdP login`);
        assert.ok(!anon.chain.some((h) => h.status === 200 && h.url.startsWith(origin() + MNIST)));
    });

    test('allows are audited with the rule that decided; no cookie or token in the trail', async () => {
        const alice = await loggedIn(USERS.aliceFoo);
        const res = await alice.get(`${origin()}${MNIST}?token=secret-query`);
        assert.equal(res.status, 200);
        const line = auditLines().find((l) => l.request_id === res.headers['x-request-id'] ||
                                              l.request_id === res.json().headers['x-request-id']);
        assert.ok(line, 'the allow is in the audit trail (sampleAllows: 1)');
        assert.equal(line.decision, 'allow');
        assert.equal(line.policy, 'ServiceRoleBinding kubeflow-alice/example-role-binding');
        assert.equal(line.rule, 0);
        const text = readFileSync(auditFile, 'utf8');
        assert.ok(!text.includes('secret-query'), 'the query is not audited');
        assert.ok(!text.includes('tenantgate='), 'no cookie');
    });
});

describe('notebooks under AuthorizationPolicy', () => {
    test('alice reaches her notebook through a groups claim, not bob\'s', async () => {
        const alice = await loggedIn(USERS.aliceFoo);
        echoFrom(await alice.get(`${origin()}${ALICE_NB}`), 'nb1-alice');
        assertForbiddenPage(await alice.get(`${origin()}${BOB_NB}`), USERS.aliceFoo, 'GET', BOB_NB);
    });

    test('bob reaches his notebook, not alice\'s; DENY beats ALLOW', async () => {
        const bob = await loggedIn(USERS.bob);
        echoFrom(await bob.get(`${origin()}${BOB_NB}`), 'nb1-bob');
        assertForbiddenPage(await bob.get(`${origin()}${ALICE_NB}`), USERS.bob, 'GET', ALICE_NB);
        // no session: the login step answers first (401 for an API client), never the upstream
        const del = await h2(gw.origin, { ca: certs.read('edge-ca.pem'), servername: 'localhost', method: 'DELETE',
                                          path: BOB_NB });
        assert.equal(del.status, 401);
    });
});

describe('policies match the path the destination sees', () => {
    test('an ALLOW on /v1/models/* covers a route rewritten to it, and nothing else', async () => {
        const bob = await loggedIn(USERS.bob);
        const res = await bob.get(`${origin()}/models/kubeflow-alice/mnist/`);
        assert.equal(echoFrom(res, 'mnist-alice').url, '/v1/models/mnist');
        const post = await bob.post(`${origin()}/models/kubeflow-alice/mnist/`, { x: '1' });
        assert.equal(post.status, 403);
        assertForbiddenPage(await bob.get(`${origin()}${MNIST}`), USERS.bob, 'GET', MNIST);
    });
});

describe('tenant isolation at load', () => {
    const base = () => edgeConfig({ adminPort: 1, httpsPort: 2, httpPort: 3, certs, services: standardServices(up) });

    test('a VirtualService claiming another tenant\'s prefix is refused, naming both documents', async () => {
        const file = writeConfig(`${base()}---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: steal, namespace: kubeflow-bob}
spec:
  hosts: ["*"]
  http:
  - match: [{uri: {prefix: /serving/kubeflow-alice/}}]
    route: [{destination: {host: nb1.kubeflow-bob.svc.cluster.local, subset: v1}}]
`, 'steal');
        const r = await checkConfig(file);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /VirtualService kubeflow-bob\/steal \(.*:\d+\)/);
        assert.match(r.stderr, /VirtualService kubeflow-alice\/mnist \(.*:\d+\)/);
    });

    test('routing or granting to another tenant\'s host is refused', async () => {
        for (const [name, doc, pattern] of [
            ['route', `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: borrow, namespace: kubeflow-bob}
spec:
  hosts: ["*"]
  http:
  - match: [{uri: {prefix: /bob-mnist/}}]
    route: [{destination: {host: mnist.kubeflow-alice.svc.cluster.local, subset: v1}}]
`, /VirtualService kubeflow-bob\/borrow .*routes to .*ServiceEntry kubeflow-alice\/mnist/],
            ['role', `apiVersion: rbac.istio.io/v1alpha1
kind: ServiceRole
metadata: {name: grab, namespace: kubeflow-bob}
spec:
  rules: [{services: [mnist.kubeflow-alice.svc.cluster.local]}]
`, /ServiceRole kubeflow-bob\/grab .*ServiceEntry kubeflow-alice\/mnist/],
            ['policy', `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {name: grab, namespace: kubeflow-bob}
spec:
  rules: [{to: [{operation: {hosts: [mnist.kubeflow-alice.svc.cluster.local]}}]}]
`, /AuthorizationPolicy kubeflow-bob\/grab .*ServiceEntry kubeflow-alice\/mnist/]]) {
            const r = await checkConfig(writeConfig(`${base()}---\n${doc}`, `cross-${name}`));
            assert.notEqual(r.code, 0, name);
            assert.match(r.stderr, pattern);
        }
    });

    test('constraints tenantgate cannot enforce are load errors', async () => {
        const r = await checkConfig(writeConfig(`${base()}---
apiVersion: rbac.istio.io/v1alpha1
kind: ServiceRole
metadata: {name: labels, namespace: kubeflow-alice}
spec:
  rules: [{services: ["*"], constraints: [{key: "destination.labels[version]", values: [v1]}]}]
`, 'constraint'));
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /constraints\[0\]\.key: key "destination\.labels\[version\]" is not one tenantgate can enforce/);
    });
});

describe('rate limits', () => {
    let limited;
    before(async () => {
        const [adminPort, hp, httpPort] = await freePorts(3);
        const spec = '  authorization:\n    rateLimits: {perNamespace: {requestsPerSecond: 1, burst: 3}}\n';
        limited = await startGateway({
            config: (ports) => edgeConfig({ ...ports, certs, services: standardServices(up), spec }),
            ports: { adminPort, httpsPort: hp, httpPort }, name: 'authz-limited' });
    });
    after(async () => {
        await limited?.stop();
    });

    test('a burst over the namespace bucket gets 429 with Retry-After; other tenants pass', async () => {
        const opts = { ca: certs.read('edge-ca.pem'), servername: 'localhost' };
        const session = await h2Connect(limited.origin, opts);
        try {
            const results = await Promise.all(Array.from({ length: 10 },
                () => h2(limited.origin, { ...opts, session, path: '/notebook/kubeflow-alice/nb1/' })));
            const ok = results.filter((r) => r.status === 200).length;
            const limitedOnes = results.filter((r) => r.status === 429);
            assert.ok(ok >= 3 && ok <= 5, `${ok} passed`);
            assert.ok(limitedOnes.length >= 5);
            assert.match(limitedOnes[0].headers['retry-after'], /^[1-9]\d*$/);
            const bob = await h2(limited.origin, { ...opts, session, path: '/notebook/kubeflow-bob/' });
            assert.equal(bob.status, 200);
        } finally {
            session.close();
        }
    });
});
