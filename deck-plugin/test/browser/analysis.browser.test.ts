/**
 * The analysis section and the judgement tables in Debian Chromium, inside the built plugin loaded
 * by the real @spinnaker/core 0.29.1 (the same harness as deck-plugin.browser.test.ts): the
 * reference preset is filled with one click, a bad input gets its message in the form's words,
 * a shift that failed analysis shows its judgements and why it rolled back, and the states of a
 * judgement (running with live progress, passed, stopped early by the sequential tests, no data,
 * not enough data) each have their own display, screenshotted into docs/images.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Page } from 'playwright-core';
import { ROOT } from './build';
import { PluginPage, STAGE_KEY as KEY, openPluginPage } from './plugin-page';
import { analysisFailedStage, analysisPassedStage, analysisRunningStage, insufficientDataStage, noDataStage, stoppedEarlyStage } from '../fixtures/analysis';
import { addCheckoutStageWithReferencePreset, replaceText } from './page-actions';

const ARTIFACTS = path.join(ROOT, 'test-artifacts/deck-plugin');
const DOC_IMAGES = path.join(ROOT, 'docs/images');
/**
 * Limits for a slow, busy machine (as in deck-plugin.browser.test.ts): the first load of Deck's core
 * bundle can take far longer than 15 s there. Every wait ends as soon as its condition holds.
 */
const UI_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 300_000;

let pluginPage: PluginPage;
let page: Page;
let errors: string[] = [];

type Harness = { harness: { showPipeline(): void; showExecution(stage: object): void; registrationsOf(key: string): Array<{ hasComponent: boolean }> } };

async function screenshot(selector: string, name: string) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  fs.mkdirSync(DOC_IMAGES, { recursive: true });
  const file = path.join(ARTIFACTS, name);
  await page.locator(selector).screenshot({ path: file, animations: 'disabled' });
  fs.copyFileSync(file, path.join(DOC_IMAGES, name));
}

beforeAll(async () => {
  pluginPage = await openPluginPage(UI_TIMEOUT_MS);
  ({ page, errors } = pluginPage);
}, 600_000);

afterAll(() => pluginPage?.close());

it('fills the reference preset with one click and shows a bad input\'s problem on that input', async () => {
  await addCheckoutStageWithReferencePreset(page, KEY);
  expect(await page.getByLabel('Canary workload').inputValue()).toBe('checkout-canary');
  expect(await page.getByLabel('Baseline workload').inputValue()).toBe('checkout-baseline');
  expect(await page.locator('[data-testid^="analysis-metric-"]').count()).toBe(7);
  const saved = JSON.parse((await page.locator('#stage-json').textContent()) ?? '{}');
  expect(saved.payload.analysis).toMatchObject({ source: 'prometheus', groups: { istio: 60, kubernetes: 40 }, thresholds: { pass: 75, marginal: 50 }, warmup: '1m', onFailure: 'rollback' });
  expect(await page.locator('[data-testid^="analysis-message-"]').count()).toBe(0);
  // (The section's screenshot, deck-analysis-editor.png, is editor-layout.browser.test.ts's.)
  await page.getByLabel('Metric 6 add a threshold bound').selectOption('min');
  await page.getByLabel('Metric 6 add a threshold bound').selectOption('max');
  await replaceText(page, 'Metric 6 threshold min', '5');
  await replaceText(page, 'Metric 6 threshold max', '1');
  const message = page.getByTestId('analysis-message-analysis.metrics[5].judge.min');
  await message.waitFor();
  expect(await message.textContent()).toContain('Metric 6, threshold min (5) is above Metric 6, threshold max (1): swap them');
  expect(errors).toEqual([]);
}, TEST_TIMEOUT_MS);

it('shows a failed judgement: the metrics of each step, the score and why the shift rolled back', async () => {
  await page.evaluate((stage) => (window as unknown as Harness).harness.showExecution(stage), analysisFailedStage() as unknown as object);
  await page.getByTestId('analysis-judgements').waitFor();
  expect(await page.getByTestId('analysis-overall').textContent()).toBe('Fail, score 0');
  expect(await page.getByTestId('analysis-failure').textContent()).toMatch(/step 2 failed analysis: canary 5xx .*\(critical\)/);
  expect(await page.locator('[data-testid="judgement-2"] .its-judgement-table tbody tr').count()).toBe(7);
  expect(await page.locator('[data-testid="judgement-2"] .its-judgement-table tr.its-judge-row-failed').count()).toBe(2);
  await screenshot('#app', 'deck-analysis-judgement.png');
  expect(errors).toEqual([]);
}, TEST_TIMEOUT_MS);

async function showStage(stage: object) {
  await page.evaluate((s) => (window as unknown as Harness).harness.showExecution(s), stage);
  await page.getByTestId('analysis-judgements').waitFor();
}
const textOf = async (testId: string) => (await page.getByTestId(testId).textContent()) ?? '';

it('passed: the evidence gate, e-value bars and a canary pod event above each table', async () => {
  await showStage(analysisPassedStage() as unknown as object);
  expect(await textOf('analysis-overall')).toBe('Pass, score 100');
  expect(await textOf('evidence-2')).toMatch(/^Evidence: enough to judge/);
  expect(await page.locator('[data-testid^="sequential-2-"]').count()).toBe(4);
  expect(await textOf('pod-events-2')).toContain('checkout-canary-7d9f8-x2kq');
  // The bars are drawn: a visible box per sequential test.
  const bar = await page.getByRole('meter', { name: 'Step 2 success-rate e-value' }).boundingBox();
  expect(bar?.width).toBe(120);
  await screenshot('#app', 'deck-analysis-pass.png');
  expect(errors).toEqual([]);
}, TEST_TIMEOUT_MS);

it('stopped early: the sequential tests that crossed, when, and the metrics never judged', async () => {
  await showStage(stoppedEarlyStage() as unknown as object);
  expect(await page.getByTestId('judgement-2').getAttribute('data-state')).toBe('stopped-early');
  expect(await textOf('sequential-2-latency-p99')).toMatch(/crossed at interval 1\d of 14/);
  expect(await page.locator('[data-testid="judgement-2"] tr[data-state="not-judged"]').count()).toBe(5);
  const fill = await page.locator('[data-testid="sequential-2-latency-p99"] .its-evalue-fill').evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(fill).toBe('rgb(198, 40, 40)');
  await screenshot('#app', 'deck-analysis-stopped-early.png');
  expect(errors).toEqual([]);
}, TEST_TIMEOUT_MS);

it('no data: the metrics without series read "No data (fails)"', async () => {
  await showStage(noDataStage() as unknown as object);
  expect(await page.locator('[data-testid="judgement-1"] tr[data-state="no-data"]').count()).toBe(3);
  expect(await page.locator('[data-testid="judgement-1-cpu"] td').nth(4).textContent()).toBe('No data (fails)');
  await screenshot('#app', 'deck-analysis-no-data.png');
  expect(errors).toEqual([]);
}, TEST_TIMEOUT_MS);

it('not enough data: no verdict, the gate\'s problems and the short metrics', async () => {
  await showStage(insufficientDataStage() as unknown as object);
  expect(await page.getByTestId('judgement-1').getAttribute('data-state')).toBe('insufficient');
  expect(await page.locator('[data-testid="evidence-problems-1"] li').count()).toBe(5);
  expect(await textOf('rollback')).toMatch(/^With too little evidence to judge: weights restored/);
  await screenshot('#app', 'deck-analysis-insufficient-data.png');
  expect(errors).toEqual([]);
}, TEST_TIMEOUT_MS);

it('running: Orca still polls, step 1 passed, step 2 shows the live e-values and requests of the last look', async () => {
  await showStage(analysisRunningStage() as unknown as object);
  expect(await textOf('progress-message')).toBe('step 2 of 3: release 34, baseline 33, canary 33 (12m59s left)');
  expect(await page.getByTestId('judgement-1').getAttribute('data-state')).toBe('judged');
  expect(await page.getByTestId('judgement-2').getAttribute('data-state')).toBe('not-judged');
  expect(await textOf('live-summary-2')).toBe('live: latency-p99 e-value 23 / 900 after 6 intervals, canary 1,794 requests');
  expect(await textOf('live-2')).toContain('look 6 of this step');
  expect(await page.locator('[data-testid^="sequential-2-"]').count()).toBe(4);
  const bar = await page.getByRole('meter', { name: 'Step 2 latency-p99 e-value' }).boundingBox();
  expect(bar?.width).toBe(120);
  expect(await page.locator('.istio-traffic-shift-details [role="progressbar"]').count()).toBe(1);
  await screenshot('#app', 'deck-analysis-running.png');
  expect(errors).toEqual([]);
}, TEST_TIMEOUT_MS);
