// Builds the playground page (deck-plugin/playground/page.tsx) into deck-plugin/build/playground
// (git-ignored), served by the stage service at / in embedded mode. The same approach as the
// browser test harness (test/browser/harness/webpack.config.js): the real @spinnaker/core 0.29.1
// and React 16.14, development mode (several times faster to build than production). Unlike the
// harness, the plugin's own modules (deck-plugin/src) are bundled in: no plugin loader is needed.
const path = require('path');
const webpack = require('webpack');
const harness = require('../test/browser/harness/webpack.config.js');

const deckPlugin = path.resolve(__dirname, '..');

module.exports = {
  ...harness,
  context: __dirname,
  entry: { page: './page.tsx' },
  output: { path: path.join(deckPlugin, 'build/playground'), filename: '[name].js', publicPath: '/playground/assets/', clean: true },
  cache: { type: 'filesystem', cacheDirectory: path.join(deckPlugin, 'build/.cache/playground'), buildDependencies: { config: [__filename, require.resolve('../test/browser/harness/webpack.config.js')] } },
  resolve: { ...harness.resolve, alias: { ...harness.resolve.alias, '@istio-shift/core': path.resolve(deckPlugin, '../packages/core/src/index.ts') } },
  module: {
    rules: [
      ...harness.module.rules,
      // The plugin's CSS is a string that src/styles.ts injects, as in the plugin's own bundle.
      { test: /\.css$/, include: path.join(deckPlugin, 'src'), type: 'asset/source' },
    ],
  },
  plugins: [
    new webpack.ProvidePlugin({ $: 'jquery', jQuery: 'jquery', 'window.jQuery': 'jquery' }),
    new webpack.DefinePlugin({ 'process.env.NODE_ENV': JSON.stringify('development') }),
    new EmitFile('index.html'),
  ],
};

/** Emits a file of this directory next to the bundle (no html plugin needed). */
function EmitFile(name) {
  this.apply = (compiler) => {
    compiler.hooks.thisCompilation.tap('EmitFile', (compilation) => {
      compilation.hooks.processAssets.tap({ name: 'EmitFile', stage: webpack.Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL }, () => {
        const file = path.join(__dirname, name);
        compilation.fileDependencies.add(file);
        compilation.emitAsset(name, new webpack.sources.RawSource(require('fs').readFileSync(file, 'utf8')));
      });
    });
  };
}
