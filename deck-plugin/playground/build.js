#!/usr/bin/env node
/**
 * Builds the playground page for `npm start` when its inputs changed, and says how long it took.
 * Inputs are hashed (not compared by time, which a fresh clone or a checkout resets): the page, the
 * plugin's sources, the shared core package, the harness config it extends and the lock file (core's
 * version). A hit costs a hash of ~1 MB of sources; a miss runs webpack (with its filesystem cache).
 * With TRAFFIC_SHIFT_CONFIG set the service runs without the playground, so nothing is built.
 */
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const DECK_PLUGIN = path.resolve(__dirname, '..');
const ROOT = path.resolve(DECK_PLUGIN, '..');
const OUTPUT = path.join(DECK_PLUGIN, 'build/playground');
const STAMP = path.join(OUTPUT, 'inputs.sha256');
const INPUTS = [__dirname, path.join(DECK_PLUGIN, 'src'), path.join(ROOT, 'packages/core/src'), path.join(DECK_PLUGIN, 'test/browser/harness/webpack.config.js'), path.join(DECK_PLUGIN, 'tsconfig.json'), path.join(ROOT, 'package-lock.json')];

/** Source files only: tests do not change the page. */
const counts = (file) => !/\.test\.tsx?$/.test(file);

function inputsHash() {
  const hash = crypto.createHash('sha256');
  const visit = (entry) => {
    const stat = fs.statSync(entry);
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(entry).sort()) visit(path.join(entry, name));
    } else if (counts(entry)) {
      hash.update(path.relative(ROOT, entry)).update('\0').update(fs.readFileSync(entry)).update('\0');
    }
  };
  INPUTS.forEach(visit);
  return hash.digest('hex');
}

function main() {
  if (process.env.TRAFFIC_SHIFT_CONFIG) {
    console.log('playground: not built (TRAFFIC_SHIFT_CONFIG is set: the playground is served in embedded mode only)');
    return;
  }
  const started = Date.now();
  const hash = inputsHash();
  const built = fs.existsSync(STAMP) && fs.readFileSync(STAMP, 'utf8') === hash && fs.existsSync(path.join(OUTPUT, 'page.js'));
  if (built) {
    console.log(`playground: page up to date (inputs unchanged, checked in ${Date.now() - started} ms)`);
    return;
  }
  console.log('playground: building the page (webpack, development mode; about a minute on a fresh clone)...');
  const cli = require.resolve('webpack-cli/bin/cli.js', { paths: [ROOT] });
  const result = spawnSync(process.execPath, [cli, '--config', path.join(__dirname, 'webpack.config.js')], { cwd: DECK_PLUGIN, stdio: 'inherit' });
  if (result.status !== 0) {
    // The API works without the page: start anyway, and `/` says the page is missing.
    console.error('playground: the page build failed (above); the service starts without the playground page');
    return;
  }
  fs.writeFileSync(STAMP, hash);
  console.log(`playground: page built in ${((Date.now() - started) / 1000).toFixed(1)} s (${path.relative(ROOT, OUTPUT)})`);
}

main();
