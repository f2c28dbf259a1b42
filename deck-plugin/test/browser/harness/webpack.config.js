// Builds the browser-test page: the real @spinnaker/core 0.29.1 and React 16.14, bundled the way
// Deck bundles them (development mode: ~4x faster to build than production). Output goes to
// deck-plugin/build/harness (git-ignored). The plugin itself is NOT in here: the page import()s
// the separately built deck-plugin/build/dist/index.js, as Deck does.
const path = require('path');
const webpack = require('webpack');

const root = path.resolve(__dirname, '../../../..');

/** Emits index.html next to the bundle (no html plugin needed). */
class EmitIndexHtml {
  apply(compiler) {
    compiler.hooks.thisCompilation.tap('EmitIndexHtml', (compilation) => {
      compilation.hooks.processAssets.tap({ name: 'EmitIndexHtml', stage: webpack.Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL }, () => {
        const file = path.join(__dirname, 'index.html');
        compilation.fileDependencies.add(file);
        compilation.emitAsset('index.html', new webpack.sources.RawSource(require('fs').readFileSync(file, 'utf8')));
      });
    });
  }
}

module.exports = {
  mode: 'development',
  context: __dirname,
  devtool: false,
  entry: { harness: './harness.tsx' },
  output: { path: path.resolve(__dirname, '../../../build/harness'), filename: '[name].js', publicPath: '', clean: true },
  // webpack's built-in CSS support: core imports 14 stylesheets (bootstrap, fonts, ...).
  experiments: { css: true },
  cache: { type: 'filesystem', cacheDirectory: path.resolve(__dirname, '../../../build/.cache/harness') },
  resolve: {
    extensions: ['.tsx', '.ts', '.js'],
    fallback: { buffer: false },
    alias: {
      'root/version.json': path.resolve(__dirname, '../../jest/version.json'),
      // Deck's sharedLibraries requires these; Deck has them, core's npm package does not depend on them.
      '@spinnaker/kayenta': false,
      'react-redux': false,
      'redux-actions': false,
      reselect: false,
      // Its ES build has an import cycle that throws (TDZ) without production module concatenation.
      'react-virtualized$': path.join(root, 'node_modules/react-virtualized/dist/commonjs/index.js'),
    },
    modules: [path.join(root, 'node_modules'), 'node_modules'],
  },
  module: {
    rules: [
      {
        test: /\.tsx?$/,
        exclude: /node_modules/,
        loader: 'ts-loader',
        options: { transpileOnly: true, configFile: path.resolve(__dirname, '../../../tsconfig.json') },
      },
      { test: /\.(woff2?|ttf|eot|otf|svg|png|gif|jpe?g)$/, type: 'asset/resource' },
    ],
  },
  plugins: [
    new webpack.ProvidePlugin({ $: 'jquery', jQuery: 'jquery', 'window.jQuery': 'jquery' }),
    new webpack.DefinePlugin({ 'process.env.NODE_ENV': JSON.stringify('development') }),
    new EmitIndexHtml(),
  ],
  performance: { hints: false },
  stats: 'errors-warnings',
};
