/**
 * The analysis section's layout as Chromium draws it inside the real @spinnaker/core 0.29.1
 * (issue 16, item 5): the custom PromQL query is a full-width input, the reference preset's seven
 * metrics are one compact line each, "On failure" is not cut off, and a PromQL slip is reported
 * under the query as it is typed. It measures the rendered boxes, prints them, and writes the
 * section's screenshot to docs/images/deck-analysis-editor.png.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Page } from 'playwright-core';
import { ROOT } from './build';
import { PluginPage, STAGE_KEY as KEY, openPluginPage } from './plugin-page';
import { addCheckoutStageWithReferencePreset } from './page-actions';

const ARTIFACTS = path.join(ROOT, 'test-artifacts/deck-plugin');
const DOC_IMAGES = path.join(ROOT, 'docs/images');

let pluginPage: PluginPage;
let page: Page;
let errors: string[] = [];


beforeAll(async () => {
  pluginPage = await openPluginPage(120_000);
  ({ page, errors } = pluginPage);
}, 240_000);

afterAll(() => pluginPage?.close());

const SECTION = '[data-testid="analysis-section"]';

it('lays the analysis section out as Deck\'s stage editors: a full-width query, one line per metric, nothing cut off', async () => {
  await addCheckoutStageWithReferencePreset(page, KEY);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.locator(SECTION).screenshot({ path: path.join(ARTIFACTS, 'deck-analysis-editor-preset.png'), animations: 'disabled' });

  // The reference preset's seven metrics: one line each (the old table stacked up to six bound inputs per row, ~1,000 px).
  const table = await page.locator('table.its-analysis-metrics').evaluate((element) => {
    const rows = Array.from(element.querySelectorAll('tbody tr[data-testid^="analysis-metric-"]')).map((row) => row.getBoundingClientRect().height);
    const section = element.closest('[data-testid="analysis-section"]')!;
    return { height: element.getBoundingClientRect().height, width: element.scrollWidth, sectionWidth: section.clientWidth, rows };
  });
  console.log(`metrics table (reference preset, 7 metrics): ${Math.round(table.height)} px tall, rows ${table.rows.map(Math.round).join('/')} px; ${table.width} px wide in a ${table.sectionWidth} px section`);
  expect(table.rows).toHaveLength(7);
  expect(table.height).toBeLessThan(450);
  expect(Math.max(...table.rows)).toBeLessThan(60);
  expect(table.width).toBeLessThanOrEqual(table.sectionWidth);

  // Narrow as the table is, every value of the preset is drawn whole: an input's text does not
  // scroll, and a select's chosen option (measured in the select's own font) fits left of its arrow.
  const cut = await page.locator('table.its-analysis-metrics tbody').evaluate((body) => {
    const context = document.createElement('canvas').getContext('2d')!;
    const clipped: string[] = [];
    for (const input of Array.from(body.querySelectorAll<HTMLInputElement>('input.form-control'))) {
      if (input.value && input.scrollWidth > input.clientWidth) clipped.push(`${input.getAttribute('aria-label')}: "${input.value}" ${input.scrollWidth}/${input.clientWidth} px`);
    }
    for (const select of Array.from(body.querySelectorAll<HTMLSelectElement>('select.form-control'))) {
      const style = getComputedStyle(select);
      context.font = style.font;
      const text = select.selectedOptions[0]?.text ?? '';
      const needed = context.measureText(text).width + parseFloat(style.paddingLeft) + 16; // 16 px: Chromium's arrow
      if (needed > select.clientWidth) clipped.push(`${select.getAttribute('aria-label')}: "${text}" ${Math.ceil(needed)}/${select.clientWidth} px`);
    }
    return clipped;
  });
  expect(cut).toEqual([]);

  // "On failure": each option's whole text is drawn, inside its row.
  const onFailure = await page.getByRole('radiogroup', { name: 'On failure' }).evaluate((group) => {
    const row = group.closest('.form-group')!.getBoundingClientRect();
    return Array.from(group.querySelectorAll('label')).map((label) => {
      const box = label.getBoundingClientRect();
      return { text: label.textContent!.trim(), scrollWidth: label.scrollWidth, clientWidth: label.clientWidth, inside: box.left >= row.left && box.right <= row.right };
    });
  });
  console.log(`On failure options: ${onFailure.map((o) => `"${o.text}" ${o.scrollWidth}/${o.clientWidth} px`).join(', ')}`);
  expect(onFailure.map((o) => o.text)).toEqual(['Roll back to the weights before the shift', 'Hold the current weights']);
  for (const option of onFailure) {
    expect(option.scrollWidth).toBeLessThanOrEqual(option.clientWidth);
    expect(option.inside).toBe(true);
  }

  // Every field row has its label and help on the left, as StageConfigField draws them.
  const rows = await page.locator(`${SECTION} .form-horizontal > .form-group`).evaluateAll((groups) =>
    groups.map((group) => ({ label: group.querySelector('.sm-label-right .label-text')?.textContent?.trim(), help: !!group.querySelector('.sm-label-right .help-field') })),
  );
  expect(rows.length).toBeGreaterThanOrEqual(12);
  expect(rows.filter((row) => !row.label || !row.help)).toEqual([]);

  // A custom metric: its query spans the table, in a monospace font, and a slip is reported while typing.
  await page.getByRole('button', { name: 'Add metric' }).click();
  await page.getByLabel('Metric 8 metric').selectOption('custom');
  const query = page.getByLabel('PromQL query of metric 8');
  await query.click();
  await page.keyboard.type('sum(rat(http_errors_total{namespace="{{namespace}}",pod=~"{{workload}}-.*"}[{{interval}}]))');
  const check = page.getByTestId('analysis-query-check-7');
  await check.waitFor();
  expect((await check.textContent())!.trim()).toBe('Metric 8, query, column 5: rat is not a PromQL function or aggregation (did you mean rate?)');
  const box = await query.evaluate((element) => {
    const section = element.closest('[data-testid="analysis-section"]')!;
    return { width: element.getBoundingClientRect().width, sectionWidth: section.getBoundingClientRect().width, font: getComputedStyle(element).fontFamily };
  });
  console.log(`custom query input: ${Math.round(box.width)} px of a ${Math.round(box.sectionWidth)} px section (${Math.round((100 * box.width) / box.sectionWidth)} %), font ${box.font}`);
  expect(box.width).toBeGreaterThanOrEqual(0.8 * box.sectionWidth);
  expect(box.font).toMatch(/monospace/);

  // Each metric has its "Fails on" direction.
  expect(await page.locator(`${SECTION} select[aria-label$=" fails on"]`).count()).toBe(8);
  expect(await page.getByLabel('Metric 8 fails on').inputValue()).toBe('either');

  fs.mkdirSync(DOC_IMAGES, { recursive: true });
  const file = path.join(ARTIFACTS, 'deck-analysis-editor.png');
  await page.locator(SECTION).screenshot({ path: file, animations: 'disabled' });
  fs.copyFileSync(file, path.join(DOC_IMAGES, 'deck-analysis-editor.png'));

  // Corrected ("rat" -> "rate"), the message goes.
  await query.click();
  await page.keyboard.press('Control+Home');
  for (let i = 0; i < 'sum(rat'.length; i++) await page.keyboard.press('ArrowRight');
  await page.keyboard.type('e');
  await check.waitFor({ state: 'detached' });
  expect(errors).toEqual([]);
}, 120_000);

it('keeps a statistical metric that fails either way on one line at a 1070 px wide window', async () => {
  await page.setViewportSize({ width: 1070, height: 900 });
  try {
    await page.getByLabel('Metric 2 fails on').selectOption('either');
    await page.getByLabel('Metric 2 statistical allowed decrease').waitFor();
    const row = await page.getByTestId('analysis-metric-1').evaluate((element) => {
      const tops = Array.from(element.querySelectorAll('.its-bounds input')).map((input) => Math.round(input.getBoundingClientRect().top));
      const table = element.closest('table')!;
      const section = table.closest('[data-testid="analysis-section"]')!;
      return { height: element.getBoundingClientRect().height, tops, reference: element.previousElementSibling!.getBoundingClientRect().height, width: table.scrollWidth, sectionWidth: section.clientWidth };
    });
    console.log(`metric 2 (direction either) at 1070 px: ${Math.round(row.height)} px tall (metric 1: ${Math.round(row.reference)} px), bound inputs at ${row.tops.join('/')} px, table ${row.width} px in a ${row.sectionWidth} px section`);
    expect(row.width).toBeLessThanOrEqual(row.sectionWidth);
    expect(row.tops).toHaveLength(2);
    expect(row.tops[1]).toBe(row.tops[0]);
    expect(row.height).toBeLessThan(60);
  } finally {
    await page.setViewportSize({ width: 1280, height: 900 });
  }
  expect(errors).toEqual([]);
}, 120_000);
