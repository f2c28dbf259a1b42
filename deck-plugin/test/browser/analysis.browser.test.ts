/**
 * The analysis section and the judgement tables in Debian Chromium, inside the built plugin loaded
 * by the real @spinnaker/core 0.29.1 (the same harness as deck-plugin.browser.test.ts): the
 * reference preset is filled with one click, a bad input gets its message in the form's words,
 * and a shift that failed analysis shows its judgements and why it rolled back.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Browser, Page, chromium } from 'playwright-core';
import { HARNESS_DIR, PLUGIN_BUNDLE, ROOT, ensureHarness, ensurePluginBundle } from './build';
import { HarnessServer } from './server';
import { analysisFailedStage } from '../fixtures/analysis';
import { replaceText } from './page-actions';

const PLUGIN_ID = 'Istio.TrafficShift';
const VERSION: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'deck-plugin/package.json'), 'utf8')).version;
const KEY = 'istioTrafficShift';
const ARTIFACTS = path.join(ROOT, 'test-artifacts/deck-plugin');
const DOC_IMAGES = path.join(ROOT, 'docs/images');

let server: HarnessServer;
let browser: Browser;
let page: Page;
const errors: string[] = [];

type Harness = { harness: { showPipeline(): void; showExecution(stage: object): void; registrationsOf(key: string): Array<{ hasComponent: boolean }> } };

async function screenshot(selector: string, name: string) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  fs.mkdirSync(DOC_IMAGES, { recursive: true });
  const file = path.join(ARTIFACTS, name);
  await page.locator(selector).screenshot({ path: file, animations: 'disabled' });
  fs.copyFileSync(file, path.join(DOC_IMAGES, name));
}

beforeAll(async () => {
  ensurePluginBundle();
  ensureHarness();
  server = new HarnessServer(HARNESS_DIR);
  await server.start();
  server.route('GET', '/plugin-manifest.json', { body: [{ id: PLUGIN_ID, version: VERSION, url: '/plugins/istio-traffic-shift/index.js' }] });
  server.route('GET', '/gate/plugins/deck/plugin-manifest.json', { body: [] });
  server.route('GET', '/plugins/istio-traffic-shift/index.js', { type: 'application/javascript', body: fs.readFileSync(PLUGIN_BUNDLE) });
  server.route('GET', '/gate/webhooks/preconfigured', { body: [] });
  server.route('GET', '/gate/credentials', { body: [] });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/favicon|Failed to load resource/.test(message.text())) errors.push(`console: ${message.text()}`);
  });
  await page.goto(`${server.origin}/index.html`);
  await page.waitForFunction((k) => !!(window as unknown as Partial<Harness>).harness?.registrationsOf(k).some((r) => r.hasComponent), KEY);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

it('fills the reference preset with one click and shows a bad input\'s problem on that input', async () => {
  await page.evaluate(() => (window as unknown as Harness).harness.showPipeline());
  await page.selectOption('#stage-type', KEY);
  await replaceText(page, 'Account', 'prod-k8s');
  await replaceText(page, 'Namespace', 'shop');
  await replaceText(page, 'VirtualService', 'checkout');
  await page.getByRole('button', { name: 'Canary with baseline: 80/10/10 -> 34/33/33 -> 100/0/0' }).click();
  await page.getByRole('button', { name: 'Use the reference preset' }).click();
  await page.getByLabel('Canary workload').waitFor();
  expect(await page.getByLabel('Canary workload').inputValue()).toBe('checkout-canary');
  expect(await page.getByLabel('Baseline workload').inputValue()).toBe('checkout-baseline');
  expect(await page.locator('[data-testid^="analysis-metric-"]').count()).toBe(7);
  const saved = JSON.parse((await page.locator('#stage-json').textContent()) ?? '{}');
  expect(saved.payload.analysis).toMatchObject({ source: 'prometheus', groups: { istio: 60, kubernetes: 40 }, thresholds: { pass: 75, marginal: 50 }, warmup: '1m', onFailure: 'rollback' });
  expect(await page.locator('[data-testid^="analysis-message-"]').count()).toBe(0);
  await screenshot('[data-testid="analysis-section"]', 'deck-analysis-editor.png');

  await replaceText(page, 'Metric 6 threshold max', '50');
  const message = page.getByTestId('analysis-message-analysis.metrics[5].judge.min');
  await message.waitFor();
  expect(await message.textContent()).toContain('Metric 6, threshold min (100) is above Metric 6, threshold max (50): swap them');
  expect(errors).toEqual([]);
}, 90_000);

it('shows a failed judgement: the metrics of each step, the score and why the shift rolled back', async () => {
  await page.evaluate((stage) => (window as unknown as Harness).harness.showExecution(stage), analysisFailedStage() as unknown as object);
  await page.getByTestId('analysis-judgements').waitFor();
  expect(await page.getByTestId('analysis-overall').textContent()).toBe('Fail, score 0');
  expect(await page.getByTestId('analysis-failure').textContent()).toMatch(/step 2 failed analysis: canary 5xx rate 7\.9% vs baseline 0\.2% \(critical\)/);
  expect(await page.locator('[data-testid="judgement-2"] tbody tr').count()).toBe(7);
  expect(await page.locator('[data-testid="judgement-2"] tr.its-judge-row-failed').count()).toBe(2);
  await screenshot('#app', 'deck-analysis-judgement.png');
  expect(errors).toEqual([]);
}, 60_000);
