#!/usr/bin/env node
// What is in the Deck plugin bundle: `node bench/bundle.js [--markdown | --alternatives | --write-docs]`.
//
// Builds deck-plugin exactly as `npm run build -w deck-plugin` does (same webpack config, production
// mode) into a temporary directory, then prints, for every source module webpack put in the bundle
// (also the ones inside a concatenated module), its size after the loader, minified alone with the
// build's terser options, and that minified text gzipped (-9). The per-module columns are an
// approximation of each module's share: a module minified alone keeps its export names, and gzip
// over the whole file finds repeats across modules, so the columns do not add up to the bundle. The
// last line is the real bundle, the figure the build prints and the docs quote.
//
// --alternatives: the bundle's gzip size under the minifier settings and language target that were
// tried instead of the build's (each built unminified, then minified with terser here).
// --write-docs: both tables and the figure into docs/benchmarks.md and docs/deck-plugin.md.
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');

const ROOT = path.resolve(__dirname, '..');
const DECK_PLUGIN = path.join(ROOT, 'deck-plugin');
const webpack = require(require.resolve('webpack', { paths: [DECK_PLUGIN] }));
const { minify } = require(require.resolve('terser', { paths: [DECK_PLUGIN] }));
const makeConfig = require(path.join(DECK_PLUGIN, 'webpack.config.js'));

const { measureBundle } = makeConfig;
const acorn = require(require.resolve('acorn', { paths: [path.dirname(require.resolve('webpack', { paths: [DECK_PLUGIN] }))] }));

const markdown = process.argv.includes('--markdown');
const gzipSize = (text) => zlib.gzipSync(Buffer.from(text), { level: 9 }).length;

/** The spans of the bundle's string and template literals (words, CSS, class names). */
function literalSpans(code) {
  const spans = [];
  const visit = (node) => {
    if (!node || typeof node.type !== 'string') return;
    if ((node.type === 'Literal' && typeof node.value === 'string') || node.type === 'TemplateElement') spans.push([node.start, node.end, node.type === 'Literal']);
    for (const key of Object.keys(node)) {
      const value = node[key];
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value.type === 'string') visit(value);
    }
  };
  visit(acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'module' }));
  return spans.sort((a, b) => a[0] - b[0]);
}

/**
 * How the bundle splits into text and code: the literals' raw bytes, the literals alone gzipped,
 * and the bundle with every literal emptied gzipped (what the code weighs without its words). The
 * two gzip figures do not add up to the bundle's (gzip finds repeats across them), but they say
 * which of the two a smaller bundle has to come from.
 */
function textAndCode(code) {
  const spans = literalSpans(code);
  let text = '';
  let rest = '';
  let at = 0;
  for (const [start, end, quoted] of spans) {
    text += code.slice(start, end) + '\n';
    // A string literal keeps its two quotes; a template's text sits between the template's own backquotes.
    rest += code.slice(at, start) + (quoted ? code[start].repeat(2) : '');
    at = end;
  }
  rest += code.slice(at);
  return { literalBytes: spans.reduce((bytes, [start, end]) => bytes + end - start, 0), textGzip: gzipSize(text), codeGzip: gzipSize(rest) };
}

function build({ minimize = true, target } = {}) {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deck-plugin-bundle-'));
  const config = makeConfig({}, { mode: 'production' });
  config.output = { ...config.output, path: outDir };
  config.optimization = { ...config.optimization, minimize };
  if (target) {
    config.target = ['web', target.toLowerCase()];
    for (const rule of config.module.rules) if (rule.loader === 'ts-loader') rule.options.compilerOptions = { ...rule.options.compilerOptions, target };
  }
  config.infrastructureLogging = { level: 'error' };
  // The build's own size report (and budget) is left out: this prints the same figure, and more.
  config.plugins = config.plugins.filter((plugin) => plugin.constructor.name !== 'BundleSizePlugin');
  return new Promise((resolve, reject) => {
    webpack(config, (error, stats) => {
      if (error) return reject(error);
      if (stats.hasErrors()) return reject(new Error(stats.toString({ all: false, errors: true })));
      resolve({ stats, outDir });
    });
  });
}

/** Every source module of the bundle, with the JavaScript the loader made of it. */
function bundledModules(compilation) {
  const modules = [];
  const visit = (module) => {
    if (module.modules) return module.modules.forEach(visit);
    if (!module.resource) return;
    const source = module.originalSource();
    modules.push({ file: path.relative(ROOT, module.resource), code: source ? String(source.source()) : '' });
  };
  for (const chunk of compilation.chunks) for (const module of compilation.chunkGraph.getChunkModulesIterable(chunk)) visit(module);
  return modules;
}

/** What each module is for, to say what the bundle's bytes pay for (first match wins). */
const ROLES = [
  ['validation: the shared validators and the form\'s wording of their problems', /packages\/core\/src\/(validate|checker|problem-text|analysis\/validate|analysis\/promql-check)\.ts$|deck-plugin\/src\/(formLanguage|crossField|validate)\.ts$/],
  ['editor: the form, its model and the live VirtualService check', /deck-plugin\/src\/(editor\/|analysis-model|model|live|stage|dedupe)/],
  ['execution details', /deck-plugin\/src\/execution\//],
  ['styles', /deck-plugin\/src\/styles\./],
  ['other shared code (packages/core: routes, plan, stage JSON, defaults, formats)', /packages\/core\/src\//],
  ['entry', /deck-plugin\/src\/index\.ts$/],
];

/** The build's terser options (webpack.config.js), so a module is minified as in the bundle. */
const terserOptions = () => ({ ...makeConfig.TERSER_OPTIONS, compress: { ...makeConfig.TERSER_OPTIONS.compress } });

/** The settings tried instead of the build's: each row is a target and terser options. */
const ALTERNATIVES = [
  ['the build (ES2019, passes 2)', 'ES2019', {}],
  ['passes 3, unsafe arrows/methods/comparisons, pure getters', 'ES2019', { compress: { passes: 3, unsafe_arrows: true, unsafe_methods: true, unsafe_comps: true, pure_getters: true } }],
  ['toplevel, passes 3, pure getters', 'ES2019', { toplevel: true, compress: { passes: 3, pure_getters: true } }],
  ['target ES2020 (keeps ?. and ??), passes 2', 'ES2020', { ecma: 2020 }],
];

/** The bundle's gzip under each of ALTERNATIVES, as a markdown table. */
async function alternativesTable() {
  const unminified = {};
  for (const [, target] of ALTERNATIVES) {
    if (unminified[target]) continue;
    const { outDir } = await build({ minimize: false, target });
    unminified[target] = fs.readFileSync(path.join(outDir, 'index.js'), 'utf8');
    fs.rmSync(outDir, { recursive: true, force: true });
  }
  const lines = ['| settings | raw (B) | gzip (B) |', '|---|--:|--:|'];
  for (const [name, target, options] of ALTERNATIVES) {
    const base = terserOptions();
    const code = (await minify(unminified[target], { ...base, ...options, compress: { ...base.compress, ...options.compress } })).code;
    const size = measureBundle(code);
    lines.push(`| ${name} | ${size.raw} | ${size.gzip} |`);
  }
  return lines.join('\n');
}

/** Builds the bundle and measures every module, the roles and the whole. */
async function analyse() {
  const { stats, outDir } = await build();
  const bundle = fs.readFileSync(path.join(outDir, 'index.js'));
  fs.rmSync(outDir, { recursive: true, force: true });

  const rows = [];
  for (const { file, code } of bundledModules(stats.compilation)) {
    // A .css module is text (asset/source): its gzip is the text's own.
    const minified = file.endsWith('.css') ? code : (await minify(code, terserOptions())).code || '';
    rows.push({ file, source: Buffer.byteLength(code), minified: Buffer.byteLength(minified), gzip: gzipSize(minified) });
  }
  rows.sort((a, b) => b.gzip - a.gzip || a.file.localeCompare(b.file));
  const sum = (key) => rows.reduce((total, row) => total + row[key], 0);
  const total = measureBundle(bundle);
  const split = textAndCode(bundle.toString('utf8'));
  const literalLine =
    `string and template literals: ${split.literalBytes} of the ${total.raw} raw bytes (${Math.round((100 * split.literalBytes) / total.raw)} %); ` +
    `gzipped alone, the literals ${split.textGzip} B and the code without them ${split.codeGzip} B`;

  const roles = ROLES.map(([role]) => ({ role, gzip: 0, modules: 0 }));
  for (const row of rows) {
    const index = ROLES.findIndex(([, pattern]) => pattern.test(row.file));
    if (index < 0) throw new Error(`${row.file} has no role in bench/bundle.js ROLES: add it`);
    roles[index].gzip += row.gzip;
    roles[index].modules += 1;
  }
  const share = (gzip) => `${Math.round((100 * gzip) / sum('gzip'))} %`;
  return { rows, sum, total, literalLine, roles, share };
}

function markdownOf({ rows, sum, total, literalLine, roles, share }) {
  const lines = ['| module | after loader (B) | minified alone (B) | gzip alone (B) |', '|---|--:|--:|--:|'];
  for (const row of rows) lines.push(`| \`${row.file}\` | ${row.source} | ${row.minified} | ${row.gzip} |`);
  lines.push(`| sum of the ${rows.length} modules alone | ${sum('source')} | ${sum('minified')} | ${sum('gzip')} |`);
  lines.push(`| **the bundle** (\`build/dist/index.js\`) | | **${total.raw}** | **${total.gzip}** |`);
  lines.push('', `${literalLine}.`, '', '| role | modules | gzip alone (B) | share |', '|---|--:|--:|--:|');
  for (const r of roles) lines.push(`| ${r.role} | ${r.modules} | ${r.gzip} | ${share(r.gzip)} |`);
  return lines.join('\n');
}

function textOf({ rows, sum, total, literalLine, roles, share }) {
  const pad = (value, width) => String(value).padStart(width);
  const lines = [`${pad('loader', 8)} ${pad('min', 8)} ${pad('gzip', 7)}  module (minified and gzipped alone)`];
  for (const row of rows) lines.push(`${pad(row.source, 8)} ${pad(row.minified, 8)} ${pad(row.gzip, 7)}  ${row.file}`);
  lines.push(`${pad(sum('source'), 8)} ${pad(sum('minified'), 8)} ${pad(sum('gzip'), 7)}  sum of the ${rows.length} modules alone`);
  for (const r of roles) lines.push(`${pad(r.gzip, 17)} ${share(r.gzip).padStart(5)}  ${r.role} (${r.modules} modules)`);
  lines.push(literalLine, total.line);
  return lines.join('\n');
}

const START = '<!-- generated by `node bench/bundle.js --write-docs`: start -->';
const END = '<!-- generated by `node bench/bundle.js --write-docs`: end -->';

/**
 * Puts this build's figures into the docs: the tables between the markers in docs/benchmarks.md,
 * and the size line wherever docs/deck-plugin.md quotes it (test/browser/bundle-size.test.ts checks both).
 */
function writeDocs(analysis, alternatives) {
  const figure = analysis.total.line.replace(/ \(build\/dist\/index\.js\)$/, '');
  const benchmarks = path.join(ROOT, 'docs/benchmarks.md');
  const text = fs.readFileSync(benchmarks, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/benchmarks.md: the markers ${START} and ${END} are missing; put them around the bundle tables`);
  const generated = [START, '', `The build prints \`${figure}\`.`, '', markdownOf(analysis), '', 'The settings tried instead (`node bench/bundle.js --alternatives`; each built unminified, then minified by terser):', '', alternatives, '', END].join('\n');
  fs.writeFileSync(benchmarks, text.slice(0, start) + generated + text.slice(end + END.length));
  const deckPlugin = path.join(ROOT, 'docs/deck-plugin.md');
  const quoted = fs.readFileSync(deckPlugin, 'utf8');
  if (!/deck-plugin bundle: \d+ B raw \/ \d+ B gzip/.test(quoted)) throw new Error('docs/deck-plugin.md quotes no "deck-plugin bundle: N B raw / M B gzip" line to update');
  fs.writeFileSync(deckPlugin, quoted.replace(/deck-plugin bundle: \d+ B raw \/ \d+ B gzip/g, figure));
  console.log(`wrote ${figure} into docs/benchmarks.md and docs/deck-plugin.md`);
}

async function main() {
  if (process.argv.includes('--alternatives')) return console.log(await alternativesTable());
  const analysis = await analyse();
  if (process.argv.includes('--write-docs')) return writeDocs(analysis, await alternativesTable());
  console.log(markdown ? markdownOf(analysis) : textOf(analysis));
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
