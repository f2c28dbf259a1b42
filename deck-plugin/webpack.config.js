// Builds the Deck plugin: ONE ES-module file, build/dist/index.js, with a named export `plugin`.
// Deck loads it with a native `import()` and hands it its own React, core, lodash, ... on
// window.spinnaker.plugins.sharedLibraries; nothing of those is bundled (checked below).
const path = require('path');
const webpack = require('webpack');

/** Exactly the libraries Deck's sharedLibraries.exposeSharedLibraries() puts on the window. */
const SHARED_LIBRARIES = [
  '@spinnaker/core',
  '@spinnaker/kayenta',
  '@uirouter/core',
  '@uirouter/react',
  '@uirouter/rx',
  'ajv',
  'lodash',
  'prop-types',
  'react',
  'react-dom',
  'react-redux',
  'redux-actions',
  'reselect',
  'rxjs',
  'rxjs/Observable',
];
/** Deck's sanitizeLibraryName: every non-word character becomes "_". */
const sanitize = (name) => name.replace(/[^\w]/g, '_');
const externals = Object.fromEntries(SHARED_LIBRARIES.map((name) => [name, ['spinnaker', 'plugins', 'sharedLibraries', sanitize(name)]]));

/** What may be bundled: this plugin and the shared spec/validator (packages/core). */
const BUNDLE_ALLOWED = [/[\\/]packages[\\/]core[\\/]src[\\/]/, /[\\/]deck-plugin[\\/]src[\\/]/];

/** Fails the build if anything else (a second React, Formik, core, lodash...) would be bundled. */
class OnlyOurCodePlugin {
  apply(compiler) {
    compiler.hooks.afterCompile.tap('OnlyOurCodePlugin', (compilation) => {
      for (const module of compilation.modules) {
        const resource = module.resource;
        if (resource && !BUNDLE_ALLOWED.some((pattern) => pattern.test(resource))) {
          compilation.errors.push(
            new webpack.WebpackError(`${path.relative(__dirname, resource)} would be bundled: import it from a Deck shared library, or add it to SHARED_LIBRARIES`),
          );
        }
      }
    });
  }
}

/**
 * The judge's run-time code (statistics, e-processes, error counts, the evidence gate and the scorer)
 * runs in the service only: the views import its types (`import type`) and never its functions.
 */
const STATISTICS = /[\\/]packages[\\/]core[\\/]src[\\/]analysis[\\/](judge|sequential|errors|evidence|mann-whitney|classify|score|summary|normal|zeroin|precise-math)\.ts$/;

/** Fails the build if a module of the judge's run time ends up in the bundle (also inside a concatenated module). */
class NoStatisticsPlugin {
  apply(compiler) {
    compiler.hooks.afterCompile.tap('NoStatisticsPlugin', (compilation) => {
      const bundled = new Set();
      const visit = (module) => {
        if (module.modules) module.modules.forEach(visit);
        if (module.resource && STATISTICS.test(module.resource)) bundled.add(path.relative(__dirname, module.resource));
      };
      for (const chunk of compilation.chunks) for (const module of compilation.chunkGraph.getChunkModulesIterable(chunk)) visit(module);
      for (const file of bundled) {
        compilation.errors.push(
          new webpack.WebpackError(`${file} would be bundled: the judge runs in the service; import only its types (import type), or move what Deck needs out of that module`),
        );
      }
    });
  }
}

/**
 * Prints the bundle's size (raw and gzip -9, the figure the docs quote) and its largest source
 * modules (also inside concatenated modules), so what is in the bundle is measured on every build.
 */
class BundleSizePlugin {
  apply(compiler) {
    compiler.hooks.afterEmit.tap('BundleSizePlugin', (compilation) => {
      const zlib = require('zlib');
      const file = path.join(compilation.outputOptions.path, 'index.js');
      if (!require('fs').existsSync(file)) return;
      const source = require('fs').readFileSync(file);
      const gzip = zlib.gzipSync(source, { level: 9 }).length;
      const sizes = [];
      const visit = (module) => {
        if (module.modules) module.modules.forEach(visit);
        else if (module.resource) sizes.push([path.relative(path.resolve(__dirname, '..'), module.resource), module.size()]);
      };
      for (const chunk of compilation.chunks) for (const module of compilation.chunkGraph.getChunkModulesIterable(chunk)) visit(module);
      sizes.sort((a, b) => b[1] - a[1]);
      const top = sizes.slice(0, 12).map(([file, size]) => `  ${String(size).padStart(7)} B  ${file}`).join('\n');
      console.log(`deck-plugin bundle: ${source.length} B raw / ${gzip} B gzip (build/dist/index.js)\nlargest modules (source, before minification):\n${top}`);
    });
  }
}

module.exports = (_env, argv = {}) => ({
  mode: argv.mode || 'production',
  context: __dirname,
  entry: './src/index.ts',
  target: ['web', 'es2019'],
  devtool: false,
  experiments: { outputModule: true },
  output: {
    path: path.resolve(__dirname, 'build/dist'),
    filename: 'index.js',
    module: true,
    chunkFormat: 'module',
    library: { type: 'module' },
    clean: true,
  },
  externalsType: 'window',
  externals,
  resolve: {
    extensions: ['.ts', '.tsx', '.js'],
    alias: { '@istio-shift/core': path.resolve(__dirname, '../packages/core/src/index.ts') },
  },
  module: {
    rules: [
      {
        test: /\.tsx?$/,
        loader: 'ts-loader',
        options: {
          transpileOnly: true, // `npm run typecheck` runs tsc on the same sources
          configFile: path.resolve(__dirname, 'tsconfig.json'),
          compilerOptions: { sourceMap: false },
        },
      },
      // The CSS text is bundled as a string and injected by src/styles.ts when Deck imports the module.
      { test: /\.css$/, type: 'asset/source' },
    ],
  },
  optimization: { splitChunks: false, runtimeChunk: false },
  plugins: [new webpack.optimize.LimitChunkCountPlugin({ maxChunks: 1 }), new OnlyOurCodePlugin(), new NoStatisticsPlugin(), new BundleSizePlugin()],
  performance: { hints: false },
});

module.exports.SHARED_LIBRARIES = SHARED_LIBRARIES;
module.exports.STATISTICS = STATISTICS;
