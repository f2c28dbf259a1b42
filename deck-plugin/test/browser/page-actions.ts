/** What a person does in the harness page, shared by the browser tests. */
import type { Page } from 'playwright-core';

/** Replaces the text of the input with this accessible label, by typing as a person would. */
export async function replaceText(page: Page, label: string, text: string): Promise<void> {
  await page.getByLabel(label, { exact: true }).click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type(text);
}
