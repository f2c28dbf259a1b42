/**
 * The multi-environment example (examples/checkout/spin/config.multi-env.json) is rendered into
 * examples/checkout/pipelines-multi-env and checked like the single-environment one: `check` finds
 * the committed files fresh, and the directory holds exactly what it renders.
 */
import { readdirSync } from 'fs';
import * as path from 'path';
import { runPipelines } from './pipelines-cli';

const EXAMPLE = path.resolve(__dirname, '../../examples/checkout');
const args = (command: string) => [command, '--params', `${EXAMPLE}/spin/config.multi-env.json`, '--manifests', `${EXAMPLE}/k8s`, '--out', `${EXAMPLE}/pipelines-multi-env`];

it('examples/checkout/pipelines-multi-env is up to date (re-render with --out and commit when this fails)', async () => {
  const lines: string[] = [];
  const code = await runPipelines(args('check'), (line) => lines.push(line));
  expect(lines.join('\n')).not.toMatch(/stale|differs|missing/i);
  expect(code).toBe(0);
});

it('the multi-environment output directory holds exactly the rendered pipelines', () => {
  expect(readdirSync(`${EXAMPLE}/pipelines-multi-env`).sort()).toEqual([
    'checkout-canary.json',
    'checkout-prod-promote.json',
    'checkout-prod-rollback.json',
    'checkout-staging-promote.json',
    'checkout-staging-rollback.json',
  ]);
});
