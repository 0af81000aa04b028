// A user's day in a real browser (Debian's Chromium driven by npm
// playwright-core): alice opens her notebook URL, is sent to the dev IdP,
// signs in, lands on her real Jupyter (behind the gateway and an mTLS
// sidecar), creates a notebook, runs a cell through the kernel websocket via
// the gateway and reads its output; bob's notebook gives her the 403 page; a
// logout in another tab closes her kernel websocket; after it the notebook
// URL leads to the IdP again and the back button does not get her back in.
// RCTokens are on: the sidecar lets in only requests with a valid one.
// Screenshots of every step go to tests/artifacts/browser/.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { makeCerts } from './lib/certs.mjs';
import { edgeConfig, startGateway } from './lib/gateway.mjs';
import { startIdp, USERS } from './lib/idp.mjs';
import { startJupyter } from './lib/jupyter.mjs';
import { loginSecrets, loginSpec } from './lib/login.mjs';
import { freePorts } from './lib/net.mjs';
import { artifactsDir } from './lib/procs.mjs';
import { ALICE_NB1, BOB_NB1 } from './lib/stack.mjs';
import { gatewayRcToken, startSidecar } from './lib/workloads.mjs';

const CHROMIUM = '/usr/bin/chromium';
// A stuck browser step fails its test within this time instead of holding the file until ctest's timeout.
const TEST_TIMEOUT_MS = 120000;
const NB = '/notebook/kubeflow-alice/nb1/';
const BOB_NB = '/notebook/kubeflow-bob/nb1/';

/** Each tenant's namespace is its owner's alone (as in config/demo.yaml). */
const ownerPolicy = (user) => `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {name: owner, namespace: kubeflow-${user}}
spec:
  action: ALLOW
  rules:
  - when: [{key: "request.auth.claims[email]", values: [${USERS[user].username}]}]
`;

let certs;
let idp;
let gw;
let jupyter;
let sidecar;
let rctoken;
let browser;
let page;
let origin;
let shot = 0;
/** Kernel websockets of every page of the context: {url, openedAt, closedAt}. */
const kernelSockets = [];

// Closes a page or the browser without letting a stuck Chromium hang the file: closing is
// cleanup, not what these tests check. Resolves whether it closed within timeoutMs.
async function closeWithin(target, timeoutMs) {
    let timer;
    const closed = await Promise.race([
        target.close().then(() => true, () => true),
        new Promise((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return closed;
}

async function screenshot(what, of = page) {
    shot += 1;
    await of.screenshot({ path: join(artifactsDir(), `${String(shot).padStart(2, '0')}-${what}.png`) });
}

before(async () => {
    certs = await makeCerts();
    // bobPort: bob's notebook endpoint; nothing listens there, alice never gets that far
    const [httpsPort, adminPort, httpPort, sidecarPort, bobPort] = await freePorts(5);
    origin = `https://localhost:${httpsPort}`;
    const secrets = loginSecrets();
    const rctokenKey = join(secrets.dir, 'rctoken.key');
    writeFileSync(rctokenKey, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
        .export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    [idp, jupyter] = await Promise.all([
        startIdp({
            clientSecret: secrets.clientSecret,
            redirectUris: [`${origin}/authservice/callback`],
            postLogoutRedirectUris: [`${origin}/`],
        }),
        startJupyter({ namespace: 'kubeflow-alice' }),
    ]);
    gw = await startGateway({
        config: (ports) => edgeConfig({
            ...ports, certs,
            spec: `${loginSpec({ idp, externalUrl: origin, secrets, apiPrefixes: ['/api/'] })}  rctoken:\n    signingKeyFile: ${rctokenKey}\n`,
            services: [{ name: 'nb1', namespace: 'kubeflow-alice', host: ALICE_NB1, port: sidecarPort, prefix: NB },
                       { name: 'nb1', namespace: 'kubeflow-bob', host: BOB_NB1, port: bobPort, prefix: BOB_NB }],
            extraDocs: [ownerPolicy('alice'), ownerPolicy('bob')],
        }),
        ports: { httpsPort, adminPort, httpPort },
    });
    // The sidecar checks RCTokens against the keys the gateway publishes.
    rctoken = await gatewayRcToken({ origin: gw.origin, externalUrl: origin, ca: certs.path('edge-ca.pem'),
                                     audience: ALICE_NB1 });
    assert.ok(rctoken, 'the gateway publishes no RCToken keys');
    sidecar = await startSidecar({ certs, cert: 'nb1-alice', target: `http://127.0.0.1:${jupyter.port}`,
                                   rctoken, port: sidecarPort });
    // --no-sandbox: CI runs as root; small /dev/shm in containers: use /tmp.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
                                      args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
    context.on('page', (p) => p.on('websocket', (ws) => {
        if (!/\/api\/kernels\/[^/]+\/channels/.test(ws.url())) return;
        const socket = { url: ws.url(), openedAt: Date.now(), closedAt: null, frames: 0 };
        kernelSockets.push(socket);
        ws.on('framereceived', () => {
            socket.frames += 1;
        });
        const closed = () => {
            socket.closedAt ??= Date.now();
        };
        ws.on('close', closed);
        ws.on('socketerror', closed);
    }));
    page = await context.newPage();
    page.setDefaultTimeout(20000);
});

after(async () => {
    if (browser && !(await closeWithin(browser, 10000))) browser.process()?.kill('SIGKILL');
    await jupyter?.stop();
});

test('alice signs in through the IdP and lands on her notebook', { timeout: TEST_TIMEOUT_MS }, async () => {
    await page.goto(`${origin}${NB}`);
    assert.ok(page.url().startsWith(`${idp.issuer}/interaction/`), `not at the IdP: ${page.url()}`);
    await page.waitForSelector('#login-form');
    await screenshot('idp-login');
    await page.fill('input[name=username]', USERS.alice.username);
    await page.fill('input[name=password]', USERS.alice.password);
    await Promise.all([page.waitForURL(`${origin}${NB}**`), page.click('#login')]);
    await page.waitForSelector('#notebook_list');
    await screenshot('notebook-tree');
    assert.match(page.url(), new RegExp(`^${origin}${NB}tree`));
    assert.ok(sidecar.log().some((l) => l.path.startsWith(`${NB}tree`) && l.status === 200),
              'the tree page came through the sidecar');
});

test('bob\'s notebook gives her the 403 page, which says who she is and offers to sign out', { timeout: TEST_TIMEOUT_MS }, async () => {
    const other = await page.context().newPage();
    try {
        const res = await other.goto(`${origin}${BOB_NB}tree`);
        assert.equal(res.status(), 403);
        assert.equal(other.url(), `${origin}${BOB_NB}tree`);
        await screenshot('bob-notebook-403', other);
        assert.equal(await other.textContent('#user'), USERS.alice.username);
        assert.match(await other.textContent('h1'), /403\s+Forbidden/);
        assert.equal(await other.getAttribute('#logout', 'href'), '/authservice/logout');
        assert.match(await other.textContent('#logout'), /Sign in as someone else/);
    } finally {
        await closeWithin(other, 5000);
    }
});

test('she creates a notebook and runs a cell through the kernel websocket via the gateway', { timeout: TEST_TIMEOUT_MS }, async () => {
    const [nb] = await Promise.all([
        page.context().waitForEvent('page'),
        (async () => {
            await page.click('#new-dropdown-button');
            await page.click('#kernel-python3 a');
        })(),
    ]);
    page = nb;
    page.setDefaultTimeout(30000);
    await page.waitForURL(`${origin}${NB}notebooks/**`);
    await page.waitForSelector('#kernel_indicator_icon.kernel_idle_icon');
    const cell = page.locator('.code_cell .CodeMirror').first();
    await cell.click();
    await page.keyboard.type('print(6*7)');
    await page.keyboard.press('Shift+Enter');
    const output = page.locator('.output_area .output_text pre').first();
    await output.waitFor();
    assert.equal((await output.innerText()).trim(), '42');
    await screenshot('cell-output');
    const upgrades = sidecar.log().filter(
        (l) => l.status === 'upgrade' && /\/api\/kernels\/[^/]+\/channels$/.test(l.path));
    assert.ok(upgrades.length >= 1, 'no kernel websocket went through the gateway and the sidecar');
    assert.ok(upgrades.every((l) => l.rctoken?.valid && l.rctoken.sub === USERS.alice.username),
              JSON.stringify(upgrades.map((l) => l.rctoken)));
    assert.ok(sidecar.log().every((l) => l.rctoken?.valid), 'a request without a valid RCToken reached the sidecar');
    assert.ok(kernelSockets.some((k) => k.closedAt === null && k.frames > 0), 'no kernel websocket is open in the page');
});

test('a logout in another tab closes her kernel websocket', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const open = kernelSockets.filter((k) => k.closedAt === null);
    assert.ok(open.length >= 1);
    const other = await page.context().newPage();
    await other.goto(`${origin}/authservice/logout`);
    assert.equal(await other.textContent('main strong'), USERS.alice.username);
    await screenshot('logout-confirm', other);
    const loggedOutAt = Date.now();
    await Promise.all([other.waitForURL(`${origin}/**`, { waitUntil: 'load' }),
                       other.click('form button[type=submit]')]);
    await screenshot('logged-out', other);
    await closeWithin(other, 5000);
    for (let i = 0; i < 100 && open.some((k) => k.closedAt === null); i += 1) await page.waitForTimeout(50);
    assert.ok(open.every((k) => k.closedAt !== null), 'the kernel websocket is still open after logout');
    for (const k of open) {
        assert.ok(k.closedAt >= loggedOutAt, 'closed before the logout');
        assert.ok(k.closedAt - loggedOutAt < 5000, `closed ${k.closedAt - loggedOutAt} ms after the logout`);
    }
    t.diagnostic(`kernel websocket(s) closed ${open.map((k) => k.closedAt - loggedOutAt).join(', ')} ms after the click`);
    await page.waitForTimeout(1000); // Jupyter tries to reconnect: the kernel must stay out of reach
    await screenshot('kernel-disconnected');
    const again = kernelSockets.filter((k) => k.openedAt >= loggedOutAt && k.frames > 0);
    assert.equal(again.length, 0, 'a kernel websocket got through again after logout');
});

test('after logout her notebook URL leads to the IdP again and the back button does not get her back in', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    // signed out in the other tab: the logout URL now only sends her to sign in
    await page.goto(`${origin}/authservice/logout`);
    assert.ok(page.url().startsWith(`${idp.issuer}/interaction/`), `not at the IdP: ${page.url()}`);
    // The back button, all the way back: the browser asks for her notebook
    // again and is sent to the IdP (a page restored from the back-forward
    // cache without asking would still find the notebook API closed).
    const answers = [];
    page.on('response', (r) => {
        if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) {
            answers.push(`${r.status()} ${r.url().split('?')[0]}`);
        }
    });
    for (let i = 0; i < 8; i += 1) {
        if (page.url().startsWith(`${origin}${NB}`)) {
            assert.notEqual(await notebookApiStatus(), 200, 'the notebook API still answers after logout');
        }
        if (!(await page.goBack({ waitUntil: 'load' }))) break;
    }
    await screenshot('back');
    t.diagnostic(`pages the back button asked for: ${answers.join(' | ')}`);
    const notebook = answers.filter((a) => a.includes(`${origin}${NB}`));
    assert.ok(notebook.length > 0, `the back button never asked for her notebook:\n${answers.join('\n')}`);
    assert.ok(notebook.every((a) => a.startsWith('302 ')),
              `her notebook answered after logout:\n${answers.join('\n')}`);
    assert.ok(page.url().startsWith(`${idp.issuer}/interaction/`), `back at ${page.url()}`);
    await page.goto(`${origin}${NB}tree`);
    assert.ok(page.url().startsWith(`${idp.issuer}/interaction/`), `not at the IdP: ${page.url()}`);
    await page.waitForSelector('#login-form');
    await screenshot('login-again');
});

// What the notebook's own API says from inside the page (its session is gone: not 200).
function notebookApiStatus() {
    return page.evaluate(async (nb) => (await fetch(`${nb}api/contents`, { redirect: 'manual' })).status, NB);
}
