/**
 * Builds what the browser test loads when it is missing or older than its sources, so the test
 * also works on its own (`npx jest --selectProjects browser`) on a clean clone. `npm test` has
 * already run `npm run build -w deck-plugin`, so there the plugin bundle is fresh and only the
 * harness page is built (once; later runs reuse it while its inputs are unchanged).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const DECK_PLUGIN = path.resolve(__dirname, '../..');
export const ROOT = path.resolve(DECK_PLUGIN, '..');
export const PLUGIN_BUNDLE = path.join(DECK_PLUGIN, 'build/dist/index.js');
export const HARNESS_DIR = path.join(DECK_PLUGIN, 'build/harness');

function newestMtime(entries: string[]): number {
  let newest = 0;
  const visit = (entry: string) => {
    if (!fs.existsSync(entry)) return;
    const stat = fs.statSync(entry);
    if (stat.isDirectory()) fs.readdirSync(entry).forEach((name) => visit(path.join(entry, name)));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  entries.forEach(visit);
  return newest;
}

function stale(output: string, inputs: string[]): boolean {
  return !fs.existsSync(output) || fs.statSync(output).mtimeMs < newestMtime(inputs);
}

function webpack(config: string, mode: string): void {
  const cli = require.resolve('webpack-cli/bin/cli.js', { paths: [ROOT] });
  const result = spawnSync(process.execPath, [cli, '--config', config, '--mode', mode], { cwd: DECK_PLUGIN, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`webpack ${config} failed:\n${result.stdout}\n${result.stderr}`);
}

export function ensurePluginBundle(): 'built' | 'fresh' {
  const inputs = [path.join(DECK_PLUGIN, 'src'), path.join(ROOT, 'packages/core/src'), path.join(DECK_PLUGIN, 'webpack.config.js'), path.join(DECK_PLUGIN, 'tsconfig.json')];
  if (!stale(PLUGIN_BUNDLE, inputs)) return 'fresh';
  webpack(path.join(DECK_PLUGIN, 'webpack.config.js'), 'production');
  return 'built';
}

export function ensureHarness(): 'built' | 'fresh' {
  const harnessSources = path.join(DECK_PLUGIN, 'test/browser/harness');
  const inputs = [harnessSources, path.join(ROOT, 'node_modules/@spinnaker/core/package.json'), path.join(ROOT, 'package-lock.json')];
  if (!stale(path.join(HARNESS_DIR, 'harness.js'), inputs) && !stale(path.join(HARNESS_DIR, 'index.html'), inputs)) return 'fresh';
  webpack(path.join(harnessSources, 'webpack.config.js'), 'development');
  return 'built';
}
