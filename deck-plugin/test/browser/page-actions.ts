/** What a person does in the harness page, shared by the browser tests. */
import type { Page } from 'playwright-core';

/** Replaces the text of the input with this accessible label, by typing as a person would. */
export async function replaceText(page: Page, label: string, text: string): Promise<void> {
  await page.getByLabel(label, { exact: true }).click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type(text);
}

/**
 * Opens a new pipeline, adds the stage for checkout (prod-k8s/shop), picks the canary-with-baseline
 * steps and fills the reference analysis preset: where the analysis tests start.
 */
export async function addCheckoutStageWithReferencePreset(page: Page, stageKey: string): Promise<void> {
  await page.evaluate(() => (window as unknown as { harness: { showPipeline(): void } }).harness.showPipeline());
  await page.selectOption('#stage-type', stageKey);
  await replaceText(page, 'Account', 'prod-k8s');
  await replaceText(page, 'Namespace', 'shop');
  await replaceText(page, 'VirtualService', 'checkout');
  await page.getByRole('button', { name: 'Canary with baseline: 80/10/10 -> 34/33/33 -> 100/0/0' }).click();
  await page.getByRole('button', { name: 'Use the reference preset' }).click();
  await page.getByLabel('Canary workload').waitFor();
}
