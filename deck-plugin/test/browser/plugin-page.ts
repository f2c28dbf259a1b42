/**
 * One page of the harness with the built plugin loaded by the real @spinnaker/core 0.29.1, for the
 * browser tests that drive the editor and the execution views (not the plugin-loading tests, which
 * stage Gate's and Deck's manifests themselves). Collects page errors so each test can assert none.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Browser, Page, chromium } from 'playwright-core';
import { HARNESS_DIR, PLUGIN_BUNDLE, ROOT, ensureHarness, ensurePluginBundle } from './build';
import { HarnessServer } from './server';

export const PLUGIN_ID = 'Istio.TrafficShift';
export const PLUGIN_VERSION: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'deck-plugin/package.json'), 'utf8')).version;
export const STAGE_KEY = 'istioTrafficShift';

/** Debian's chromium, headless, with nothing that reaches out to the network. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface PluginPage {
  server: HarnessServer;
  browser: Browser;
  page: Page;
  /** Page errors and console errors seen so far (favicon and failed loads aside). */
  errors: string[];
  close(): Promise<void>;
}

type Harness = { harness: { registrationsOf(key: string): Array<{ hasComponent: boolean }> } };

/**
 * Serves the harness with the plugin from Deck's own plugin manifest, opens it and waits until the
 * plugin's editor is registered. `timeoutMs` bounds each wait: the first load parses ~17 MB of
 * core (a development build), which takes long on a busy machine; every wait ends once it holds.
 */
export async function openPluginPage(timeoutMs: number): Promise<PluginPage> {
  ensurePluginBundle();
  ensureHarness();
  const server = new HarnessServer(HARNESS_DIR);
  await server.start();
  server.route('GET', '/plugin-manifest.json', { body: [{ id: PLUGIN_ID, version: PLUGIN_VERSION, url: '/plugins/istio-traffic-shift/index.js' }] });
  server.route('GET', '/gate/plugins/deck/plugin-manifest.json', { body: [] });
  server.route('GET', '/plugins/istio-traffic-shift/index.js', { type: 'application/javascript', body: fs.readFileSync(PLUGIN_BUNDLE) });
  server.route('GET', '/gate/webhooks/preconfigured', { body: [] });
  server.route('GET', '/gate/credentials', { body: [] });
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  page.setDefaultNavigationTimeout(timeoutMs);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/favicon|Failed to load resource/.test(message.text())) errors.push(`console: ${message.text()}`);
  });
  await page.goto(`${server.origin}/index.html`);
  await page.waitForFunction((k) => !!(window as unknown as Partial<Harness>).harness?.registrationsOf(k).some((r) => r.hasComponent), STAGE_KEY);
  return {
    server,
    browser,
    page,
    errors,
    close: async () => {
      await browser.close();
      await server.stop();
    },
  };
}
