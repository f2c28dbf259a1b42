/**
 * The built plugin in Debian Chromium, loaded by the real @spinnaker/core 0.29.1: Deck's plugin
 * loader import()s build/dist/index.js, core registers the preconfigured webhook of the same type
 * (in both orders), the editor is filled with keyboard and mouse, the pipeline is saved through
 * core's PipelineConfigService, and the execution details render a recorded Orca stage.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Browser, BrowserContext, Page } from 'playwright-core';
import { PLUGIN_ID, PLUGIN_VERSION as VERSION, STAGE_KEY as KEY, launchChromium } from './plugin-page';
import { HARNESS_DIR, PLUGIN_BUNDLE, ROOT, ensureHarness, ensurePluginBundle } from './build';
import { HarnessServer } from './server';
import { replaceText } from './page-actions';

const ARTIFACTS = path.join(ROOT, 'test-artifacts/deck-plugin');
const DOC_IMAGES = path.join(ROOT, 'docs/images');
/**
 * Limits sized for a slow, busy machine (2 cores shared with other jobs): first page load and
 * render of Deck's core bundle can take well over 15 s there. Waits end as soon as the condition
 * holds, so a fast machine is not slowed down.
 */
const UI_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 300_000;
const BUILD_TIMEOUT_MS = 600_000;
const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(ROOT, 'deck-plugin/test/fixtures', name), 'utf8'));

/** What Orca answers on /webhooks/preconfigured (through Gate): ours, then another team's webhook. */
const PRECONFIGURED_WEBHOOKS = [
  { type: KEY, label: 'Istio Traffic Shift', description: 'Shift traffic between the destinations of an Istio VirtualService route in steps', waitForCompletion: true, noUserConfigurableFields: true, preconfiguredProperties: ['url', 'method', 'customHeaders'], parameters: [] },
  { type: 'notifyChangeBoard', label: 'Notify change board', description: 'Another preconfigured webhook', waitForCompletion: false, noUserConfigurableFields: true, preconfiguredProperties: ['url'], parameters: [] },
];

const CREDENTIALS = [
  { name: 'prod-k8s', type: 'kubernetes', cloudProvider: 'kubernetes', accountType: 'kubernetes', authorized: true, environment: 'prod', namespaces: ['shop', 'payments'], regions: [] },
  { name: 'staging-k8s', type: 'kubernetes', cloudProvider: 'kubernetes', accountType: 'kubernetes', authorized: true, environment: 'staging', namespaces: [], regions: [] },
  { name: 'aws-prod', type: 'aws', cloudProvider: 'aws', accountType: 'aws', authorized: true, environment: 'prod', regions: [] },
];

/** What Clouddriver's ManifestController returns for the live VirtualService. */
const VIRTUAL_SERVICE = {
  account: 'prod-k8s',
  location: 'shop',
  name: 'virtualService.networking.istio.io checkout',
  moniker: { app: 'shop', cluster: 'virtualService checkout' },
  manifest: {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'checkout', namespace: 'shop' },
    spec: {
      hosts: ['checkout'],
      http: [
        { name: 'primary', route: [{ destination: { host: 'checkout', subset: 'release' }, weight: 100 }] },
        { name: 'internal-tools', match: [{ uri: { prefix: '/admin' } }], route: [{ destination: { host: 'checkout-admin' } }] },
      ],
      tcp: [{ match: [{ port: 5432 }], route: [{ destination: { host: 'checkout-db', port: { number: 5432 } } }] }],
    },
  },
  status: {},
  artifacts: [],
  events: [],
};

let server: HarnessServer;
let browser: Browser;
let bundle: Buffer;

interface PageRun {
  context: BrowserContext;
  page: Page;
  errors: string[];
}

async function openPage(): Promise<PageRun> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  page.setDefaultNavigationTimeout(UI_TIMEOUT_MS);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message} ${error.stack?.split('\n').slice(1, 4).join(' | ')}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/favicon|Failed to load resource/.test(message.text())) errors.push(`console: ${message.text()}`);
  });
  await page.goto(`${server.origin}/index.html`, { timeout: UI_TIMEOUT_MS });
  return { context, page, errors };
}

function fakeGate(manifests: { gate: object[]; deck: object[] }) {
  server.reset();
  server.route('GET', '/plugin-manifest.json', { body: manifests.deck });
  server.route('GET', '/gate/plugins/deck/plugin-manifest.json', { body: manifests.gate });
  server.route('GET', `/gate/plugins/deck/${PLUGIN_ID}/${VERSION}/index.js`, { type: 'application/javascript', body: bundle });
  server.route('GET', '/plugins/istio-traffic-shift/index.js', { type: 'application/javascript', body: bundle });
  server.route('GET', '/gate/webhooks/preconfigured', { body: PRECONFIGURED_WEBHOOKS });
  server.route('GET', '/gate/credentials', { body: CREDENTIALS });
  server.route('GET', '/gate/manifests/prod-k8s/shop/virtualService.networking.istio.io checkout', { body: VIRTUAL_SERVICE });
  server.route('POST', '/gate/pipelines', { body: {} });
}

type Registration = { label: string; alias?: string; hasComponent: boolean; templateUrl?: string };

const registrations = (page: Page, key: string) =>
  page.evaluate((k) => (window as unknown as { harness: { registrationsOf(key: string): Registration[] } }).harness.registrationsOf(k), key);

const labels = (page: Page) => page.evaluate(() => (window as unknown as { harness: { stageTypeLabels(): string[] } }).harness.stageTypeLabels());

/** Core has processed /webhooks/preconfigured: the entry after ours is registered. */
const coreWebhooksProcessed = (page: Page) =>
  page.waitForFunction(() => (window as unknown as { harness?: { registrationsOf(key: string): unknown[] } }).harness?.registrationsOf('notifyChangeBoard').length === 1);

/** The plugin module ran and Deck called its initialize(). */
const pluginRegistered = (page: Page) =>
  page.waitForFunction(
    (k) => !!(window as unknown as { harness?: { registrationsOf(key: string): Registration[] } }).harness?.registrationsOf(k).some((r) => r.hasComponent),
    KEY,
  );

async function screenshot(page: Page, selector: string, name: string, docName?: string) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name);
  await page.locator(selector).screenshot({ path: file, animations: 'disabled' });
  if (docName) {
    fs.mkdirSync(DOC_IMAGES, { recursive: true });
    fs.copyFileSync(file, path.join(DOC_IMAGES, docName));
  }
}

async function showExecution(page: Page, stage: object, extra: object = {}) {
  await page.evaluate(
    ([s, e]) => (window as unknown as { harness: { showExecution(stage: object, extra: object): void } }).harness.showExecution(s, e),
    [stage, extra] as const,
  );
}

beforeAll(async () => {
  ensurePluginBundle();
  ensureHarness();
  bundle = fs.readFileSync(PLUGIN_BUNDLE);
  server = new HarnessServer(HARNESS_DIR);
  await server.start();
  browser = await launchChromium();
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('core registers the preconfigured webhook first; the plugin comes from Gate', () => {
  let run: PageRun;
  beforeAll(async () => {
    fakeGate({ gate: [{ id: PLUGIN_ID, version: VERSION }], deck: [] });
    const releaseGate = server.hold('/gate/plugins/deck/plugin-manifest.json');
    const releaseDeck = server.hold('/plugin-manifest.json');
    run = await openPage();
    await coreWebhooksProcessed(run.page);
    expect(await registrations(run.page, KEY)).toEqual([expect.objectContaining({ hasComponent: false, templateUrl: expect.stringContaining('webhookStage.html') })]);
    releaseDeck();
    releaseGate();
    await pluginRegistered(run.page);
  }, TEST_TIMEOUT_MS);
  afterAll(() => run?.context.close());

  it('loads the module Gate serves, through Deck\'s plugin loader and shared libraries', async () => {
    const urls = server.requests.map((r) => r.url);
    expect(urls).toContain(`/gate/plugins/deck/${PLUGIN_ID}/${VERSION}/index.js`);
    const shared = await run.page.evaluate(() => (window as unknown as { harness: { sharedLibraryNames(): string[] } }).harness.sharedLibraryNames());
    expect(shared).toEqual(expect.arrayContaining(['_spinnaker_core', 'react', 'react_dom', 'lodash', 'rxjs', 'prop_types']));
    expect(await run.page.evaluate(() => !!document.getElementById('istio-traffic-shift-styles'))).toBe(true);
  }, TEST_TIMEOUT_MS);

  it('lists "Istio Traffic Shift" once, with the plugin\'s editor', async () => {
    expect((await labels(run.page)).filter((label) => label === 'Istio Traffic Shift')).toHaveLength(1);
    expect(await registrations(run.page, KEY)).toEqual([{ label: 'Istio Traffic Shift', alias: 'preconfiguredWebhook', hasComponent: true }]);
    expect(await registrations(run.page, 'notifyChangeBoard')).toHaveLength(1);
  }, TEST_TIMEOUT_MS);

  it('fills the editor with keyboard and mouse and saves exactly the stage JSON Orca needs', async () => {
    const { page } = run;
    await page.evaluate(() => (window as unknown as { harness: { showPipeline(): void } }).harness.showPipeline());
    await page.selectOption('#stage-type', KEY);
    await page.getByLabel('VirtualService', { exact: true }).waitFor();
    await replaceText(page, 'Stage Name', 'Shift checkout');

    // Account: a dropdown of the Kubernetes accounts Gate lists (the AWS account is not offered).
    const account = page.locator('select[aria-label="Account"]');
    await account.waitFor();
    expect(await account.locator('option').allTextContents()).toEqual(['Select an account…', 'prod-k8s', 'staging-k8s', 'Other (type a name or SpEL)…']);
    await account.selectOption('prod-k8s');
    await page.getByLabel('Namespace', { exact: true }).click();
    await page.keyboard.type('shop');
    await page.getByLabel('VirtualService', { exact: true }).click();
    await page.keyboard.type('checkout');

    // The live VirtualService fills the route picker.
    const liveRoutes = page.getByLabel('Route in the live VirtualService');
    await liveRoutes.waitFor();
    expect(await liveRoutes.locator('option').allTextContents()).toEqual([
      'Pick one of 3 routes…',
      'HTTP route "primary": checkout/release 100',
      'HTTP route "internal-tools": checkout-admin 100',
      'TCP route #0 (port 5432): checkout-db:5432 100',
    ]);
    await liveRoutes.selectOption({ label: 'HTTP route "primary": checkout/release 100' });
    expect(await page.getByLabel('Route name').inputValue()).toBe('primary');

    await page.getByRole('button', { name: 'Canary with baseline: 80/10/10 -> 34/33/33 -> 100/0/0' }).click();
    await replaceText(page, 'Weight of release in step 1', '90');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('5');
    expect(await page.getByTestId('sum-0').textContent()).toBe('= 105 (remove 5)');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('5');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('30m');
    await replaceText(page, 'Pause after step 2', '1h');

    // A fourth destination adds a weight column to every step; removing it takes it away again.
    await page.getByRole('button', { name: 'Add destination' }).click();
    expect(await page.locator('[aria-label^="Weight of "]').count()).toBe(12);
    await page.getByRole('button', { name: 'Remove destination 4' }).click();
    expect(await page.locator('[aria-label^="Weight of "]').count()).toBe(9);

    for (const i of [0, 1, 2]) expect(await page.getByTestId(`sum-${i}`).textContent()).toBe('= 100 ✓');
    await page.getByTestId('live-check').filter({ hasText: 'Matches HTTP route "primary"' }).waitFor();
    expect(await page.getByTestId('live-check').textContent()).toContain('weights now 100/0/0; the first step adds baseline, canary');
    expect(await page.getByTestId('stage-timeout').textContent()).toContain('1h48m');
    expect(await page.locator('.istio-traffic-shift-stage .ValidationMessage').count()).toBe(0);
    await screenshot(page, '#app', 'editor.png', 'deck-plugin-editor.png');

    await page.getByRole('button', { name: 'Save Changes' }).click();
    await page.locator('#save-result', { hasText: 'saved' }).waitFor();
    const posts = server.requests.filter((r) => r.method === 'POST' && r.url.startsWith('/gate/pipelines'));
    expect(posts).toHaveLength(1);
    expect(posts[0].url).toBe('/gate/pipelines?staleCheck=true');
    const saved = JSON.parse(posts[0].body);
    const stage = saved.stages.find((s: { refId: string }) => s.refId === '2');
    expect(stage).toEqual(fixture('saved-stage.json'));
    expect(JSON.stringify(stage)).not.toMatch(/url|header|token|authorization|bearer/i);
    expect(run.errors).toEqual([]);
  }, TEST_TIMEOUT_MS);

  it('renders the execution details from a recorded Orca stage context', async () => {
    const { page } = run;
    await page.evaluate((stage) => (window as unknown as { harness: { showExecution(stage: object): void } }).harness.showExecution(stage), fixture('orca-stage-context.json'));
    await page.getByTestId('progress-message').waitFor();
    expect((await page.locator('.nav-pills a').allTextContents()).map((tab) => tab.trim())).toEqual(['Istio Traffic Shift', 'Task Status']);
    expect(await page.getByTestId('progress-message').textContent()).toBe('step 2 of 3: release 34, baseline 33, canary 33 (41m59s left)');
    expect(await page.locator('[role="meter"]').evaluateAll((bars) => bars.map((bar) => bar.getAttribute('aria-valuenow')))).toEqual(['34', '33', '33']);
    expect(await page.locator('[data-testid^="timeline-"]').evaluateAll((rows) => rows.map((row) => row.className))).toEqual(['its-step-done', 'its-step-current', 'its-step-pending']);
    expect(await page.getByTestId('timeline-1').textContent()).toContain('2026-11-26 10:00:03 UTC');
    await screenshot(page, '#app', 'execution-details.png', 'deck-plugin-execution-details.png');

    await page.evaluate((stage) => (window as unknown as { harness: { showExecution(stage: object): void } }).harness.showExecution(stage), fixture('orca-stage-context-terminal.json'));
    await page.getByTestId('failure-reasons').waitFor();
    expect(await page.getByTestId('failure-reasons').textContent()).toContain('another writer changed HTTP route "primary" of checkout during the shift');
    await screenshot(page, '#app', 'execution-details-terminal.png');
    expect(run.errors).toEqual([]);
  }, TEST_TIMEOUT_MS);

  it('a cancelled stage shows Orca\'s status and what the service does, not the last RUNNING weights as current', async () => {
    const { page } = run;
    await showExecution(page, fixture('orca-stage-context-canceled.json'), { canceled: true, canceledBy: 'alice@example.com', cancellationReason: 'bad canary metrics' });
    await page.getByTestId('outcome').waitFor();
    expect(await page.getByTestId('shift-status').textContent()).toBe('CANCELED');
    expect(await page.getByTestId('outcome').textContent()).toContain(
      'Orca stopped this stage (CANCELED); the service restores the weights from before the shift (release 100, baseline 0, canary 0) when it receives the cancel call, or at the latest 2m after the last status poll',
    );
    expect(await page.getByTestId('outcome').textContent()).toContain('Cancelled by alice@example.com: bad canary metrics');
    expect(await page.getByTestId('weights-heading').textContent()).toBe('Weights the service last reported (not current)');
    expect(await page.locator('[data-testid^="timeline-"]').evaluateAll((rows) => rows.map((row) => row.className))).toEqual(['its-step-done', 'its-step-last-reported', 'its-step-pending']);
    const text = await page.locator('.istio-traffic-shift-details').innerText();
    expect(text).not.toMatch(/\(now\)|Weights now/);
    expect(await page.locator('.istio-traffic-shift-details [role="progressbar"]').count()).toBe(0);
    await screenshot(page, '#app', 'execution-details-canceled.png', 'deck-plugin-execution-canceled.png');
    expect(run.errors).toEqual([]);
  }, TEST_TIMEOUT_MS);

  it('a rejected create shows the service\'s answer once, without "not reported yet"', async () => {
    const { page } = run;
    await showExecution(page, fixture('orca-stage-context-rejected.json'));
    await page.getByTestId('failure-reasons').waitFor();
    const text = await page.locator('.istio-traffic-shift-details').innerText();
    expect(text).not.toContain('has not reported a status');
    expect(await page.getByTestId('outcome').textContent()).toBe(
      'The service refused to start the shift (HTTP 422 invalid_spec): it changed no traffic. Fix the stage and run the pipeline again.',
    );
    expect(await page.getByTestId('failure-reasons').locator('li').allTextContents()).toEqual(['Step 2 weights sum to 99; they must sum to 100 (add 1)']);
    expect(text.split('sum to 99')).toHaveLength(2); // said once
    expect(text).not.toContain('status code 422');
    await screenshot(page, '#app', 'execution-details-rejected.png', 'deck-plugin-execution-rejected.png');
    expect(run.errors).toEqual([]);
  }, TEST_TIMEOUT_MS);
});

describe('the plugin registers first (local plugin-manifest.json); core\'s webhook answer comes late', () => {
  let run: PageRun;
  beforeAll(async () => {
    fakeGate({ gate: [], deck: [{ id: PLUGIN_ID, version: VERSION, url: '/plugins/istio-traffic-shift/index.js' }] });
    const releaseWebhooks = server.hold('/gate/webhooks/preconfigured');
    run = await openPage();
    await pluginRegistered(run.page);
    releaseWebhooks();
    await coreWebhooksProcessed(run.page);
  }, TEST_TIMEOUT_MS);
  afterAll(() => run?.context.close());

  it('still lists one entry, the plugin\'s, and opens the plugin\'s editor', async () => {
    const { page } = run;
    expect(server.requests.map((r) => r.url)).toContain('/plugins/istio-traffic-shift/index.js');
    expect((await labels(page)).filter((label) => label === 'Istio Traffic Shift')).toHaveLength(1);
    expect(await registrations(page, KEY)).toEqual([{ label: 'Istio Traffic Shift', alias: 'preconfiguredWebhook', hasComponent: true }]);
    await page.evaluate(() => (window as unknown as { harness: { showPipeline(): void } }).harness.showPipeline());
    await page.selectOption('#stage-type', KEY);
    await page.getByLabel('VirtualService', { exact: true }).waitFor();
    const json = JSON.parse((await page.locator('#stage-json').textContent()) ?? '{}');
    expect(json).toMatchObject({ type: KEY, alias: 'preconfiguredWebhook', payload: { executionId: '${execution.id}', stageRef: '2' }, stageTimeoutMs: 3600000 });
    expect(run.errors).toEqual([]);
  }, TEST_TIMEOUT_MS);
});
