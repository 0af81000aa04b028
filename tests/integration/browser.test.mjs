// A user's day in a real browser (Debian's Chromium driven by npm
// playwright-core): alice opens her notebook URL, is sent to the dev IdP,
// signs in, lands on her real Jupyter (behind the gateway and an mTLS
// sidecar), creates a notebook, runs a cell through the kernel websocket via
// the gateway and reads its output; after logout the notebook URL leads to
// the IdP again and the back button does not get her back in. Screenshots of
// every step go to tests/artifacts/browser/.
import assert from 'node:assert/strict';
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
import { ALICE_NB1 } from './lib/stack.mjs';
import { gatewayRcToken, startSidecar } from './lib/workloads.mjs';

const CHROMIUM = '/usr/bin/chromium';
const NB = '/notebook/kubeflow-alice/nb1/';

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

async function screenshot(what) {
    shot += 1;
    await page.screenshot({ path: join(artifactsDir(), `${String(shot).padStart(2, '0')}-${what}.png`) });
}

before(async () => {
    certs = await makeCerts();
    const [httpsPort, adminPort, httpPort, sidecarPort] = await freePorts(4);
    origin = `https://localhost:${httpsPort}`;
    const secrets = loginSecrets();
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
            spec: loginSpec({ idp, externalUrl: origin, secrets }),
            services: [{ name: 'nb1', namespace: 'kubeflow-alice', host: ALICE_NB1, port: sidecarPort, prefix: NB }],
        }),
        ports: { httpsPort, adminPort, httpPort },
    });
    // The sidecar checks RCTokens as soon as the gateway publishes their keys.
    rctoken = await gatewayRcToken({ origin: gw.origin, externalUrl: origin, ca: certs.path('edge-ca.pem'),
                                     audience: ALICE_NB1 });
    sidecar = await startSidecar({ certs, cert: 'nb1-alice', target: `http://127.0.0.1:${jupyter.port}`,
                                   rctoken, port: sidecarPort });
    // --no-sandbox: CI runs as root; small /dev/shm in containers: use /tmp.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
                                      args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.setDefaultTimeout(20000);
});

after(async () => {
    await browser?.close();
    await jupyter?.stop();
});

test('alice signs in through the IdP and lands on her notebook', async () => {
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

test('she creates a notebook and runs a cell through the kernel websocket via the gateway', async () => {
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
    if (rctoken) assert.ok(upgrades.every((l) => l.rctoken?.sub === USERS.alice.username));
});

test('after logout her notebook URL leads to the IdP again and the back button does not get her back in', async (t) => {
    await page.goto(`${origin}/authservice/logout`);
    await screenshot('logout-confirm');
    await Promise.all([page.waitForURL(`${origin}/**`, { waitUntil: 'load' }), page.click('form button[type=submit]')]);
    await page.waitForLoadState('networkidle').catch(() => {});
    await screenshot('logged-out');
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
