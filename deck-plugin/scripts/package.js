#!/usr/bin/env node
// `npm run package -w deck-plugin`: builds the bundle and writes build/distributions/:
//   istio-traffic-shift-<version>.zip   the plugin bundle Gate downloads: deck.zip inside, index.js
//                                       at the root of deck.zip (the layout spinnaker-gradle-project's
//                                       bundler produces; kork's PluginBundleExtractor expands deck.zip)
//   plugins.json                        the repository's plugin list (id, releases with sha512sum, url)
//   repositories.json                   a repository list pointing at that plugins.json
// The zips are deterministic (fixed entry dates and modes, fixed order), so the same index.js gives
// the same sha512sum on every machine.
//
// Environment:
//   PLUGIN_RELEASE_BASE_URL  where the zip and plugins.json will be served (default: a placeholder)
//   SOURCE_DATE_EPOCH        release date written to plugins.json (seconds; default: now)
const { spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const archiver = require('archiver');

const DECK_PLUGIN = path.resolve(__dirname, '..');
const { version, description } = require('../package.json');
const { measureBundle } = require('../webpack.config.js');

/** The plugin id Gate and plugins.json use (Namespace.Name). */
const PLUGIN_ID = 'Istio.TrafficShift';
const PROVIDER = 'https://github.com/istio-traffic-shift';
const BASE_URL = (process.env.PLUGIN_RELEASE_BASE_URL || 'https://plugins.example.com/istio-traffic-shift').replace(/\/+$/, '');
/** Every zip entry gets this date, so the archive bytes depend only on the content. */
const FIXED_DATE = new Date('2000-01-01T00:00:00Z');
const OUT = path.join(DECK_PLUGIN, 'build/distributions');
const BUNDLE_NAME = `istio-traffic-shift-${version}.zip`;

function zip(entries, { store }) {
  return new Promise((resolve, reject) => {
    const archive = archiver('zip', { zlib: { level: 9 }, store });
    const chunks = [];
    archive.on('data', (chunk) => chunks.push(chunk));
    archive.on('warning', reject);
    archive.on('error', reject);
    archive.on('end', () => resolve(Buffer.concat(chunks)));
    for (const { name, content } of entries) archive.append(content, { name, date: FIXED_DATE, mode: 0o644 });
    archive.finalize();
  });
}

/** The plugin bundle for an index.js: a zip holding deck.zip, which holds index.js. */
async function makeBundle(indexJs) {
  const deckZip = await zip([{ name: 'index.js', content: indexJs }], { store: false });
  return zip([{ name: 'deck.zip', content: deckZip }], { store: true });
}

async function main() {
  const build = spawnSync(process.execPath, [require.resolve('webpack-cli/bin/cli.js'), '--mode', 'production'], { cwd: DECK_PLUGIN, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status || 1);
  const indexJs = fs.readFileSync(path.join(DECK_PLUGIN, 'build/dist/index.js'));

  const bundle = await makeBundle(indexJs);
  const sha512sum = crypto.createHash('sha512').update(bundle).digest('hex');

  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, BUNDLE_NAME), bundle);

  const date = process.env.SOURCE_DATE_EPOCH ? new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000) : new Date();
  const plugins = [
    {
      id: PLUGIN_ID,
      description,
      provider: PROVIDER,
      releases: [
        {
          version,
          date: date.toISOString(),
          requires: 'deck>=0.0.0',
          sha512sum,
          state: 'RELEASE',
          url: `${BASE_URL}/${BUNDLE_NAME}`,
        },
      ],
    },
  ];
  fs.writeFileSync(path.join(OUT, 'plugins.json'), `${JSON.stringify(plugins, null, 2)}\n`);
  fs.writeFileSync(path.join(OUT, 'repositories.json'), `${JSON.stringify([{ id: 'istio-traffic-shift', url: `${BASE_URL}/plugins.json` }], null, 2)}\n`);

  console.log(`${measureBundle(indexJs).line}; ${BUNDLE_NAME} ${bundle.length} B`);
  console.log(`sha512sum ${sha512sum}`);
  console.log(`wrote ${path.relative(process.cwd(), OUT)}/{${BUNDLE_NAME},plugins.json,repositories.json}`);
}

module.exports = { PLUGIN_ID, FIXED_DATE, makeBundle };

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
