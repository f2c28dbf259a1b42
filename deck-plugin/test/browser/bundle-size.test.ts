/**
 * The bundle's size (node only, no browser): the figure the build prints is the one every doc
 * quotes, the build fails above its gzip budget without writing the file, and the stylesheet is
 * bundled minified. Building takes a while on a busy machine; ensurePluginBundle reuses a fresh one.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DECK_PLUGIN, PLUGIN_BUNDLE, ROOT, ensurePluginBundle } from './build';

interface BundleSize {
  raw: number;
  gzip: number;
  line: string;
}
type WebpackPluginInstance = { constructor: { name: string } };
interface WebpackConfig {
  output: Record<string, unknown>;
  plugins: WebpackPluginInstance[];
}
const config = require(path.join(DECK_PLUGIN, 'webpack.config.js')) as ((env: object, argv: object) => WebpackConfig) & {
  measureBundle(source: Buffer): BundleSize;
  BundleSizePlugin: new (budgetBytes?: number) => WebpackPluginInstance;
  GZIP_BUDGET_BYTES: number;
};
const { minifyCss } = require(path.join(DECK_PLUGIN, 'scripts/minify-css.js')) as { minifyCss(css: string, file?: string): string };

/** Every doc that may quote the bundle's size. */
function docs(): Array<{ file: string; text: string }> {
  const files = [path.join(ROOT, 'README.md'), ...fs.readdirSync(path.join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => path.join(ROOT, 'docs', name))];
  return files.map((file) => ({ file: path.relative(ROOT, file), text: fs.readFileSync(file, 'utf8') }));
}

const SIZE_LINE = /deck-plugin bundle: \d+ B raw \/ \d+ B gzip/g;

describe('the bundle size', () => {
  let size: BundleSize;
  beforeAll(() => {
    ensurePluginBundle();
    size = config.measureBundle(fs.readFileSync(PLUGIN_BUNDLE));
  }, 600_000);

  it('is quoted in the docs exactly as the build prints it, and nowhere differently', () => {
    const printed = size.line.replace(/ \(build\/dist\/index\.js\)$/, '');
    const quoted = docs().flatMap(({ file, text }) => [...text.matchAll(SIZE_LINE)].map((match) => ({ file, figure: match[0] })));
    const files = new Set(quoted.map((q) => q.file));
    expect(files.has('docs/deck-plugin.md') && files.has('docs/benchmarks.md')).toBe(true);
    const stale = quoted.filter((q) => q.figure !== printed);
    // The fix after a change to the plugin or packages/core: `node bench/bundle.js --write-docs`.
    expect(stale.map((q) => `${q.file}: "${q.figure}", the build prints "${printed}": run node bench/bundle.js --write-docs`)).toEqual([]);
    // The module table's last row carries the same two numbers.
    expect(fs.readFileSync(path.join(ROOT, 'docs/benchmarks.md'), 'utf8')).toContain(`| **the bundle** (\`build/dist/index.js\`) | | **${size.raw}** | **${size.gzip}** |`);
  });

  it('is within the build\'s gzip budget', () => {
    expect(size.gzip).toBeLessThanOrEqual(config.GZIP_BUDGET_BYTES);
  });

  it('fails the build above the budget, and then writes no bundle', async () => {
    const webpack = require(require.resolve('webpack', { paths: [DECK_PLUGIN] }));
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'deck-plugin-budget-'));
    try {
      const options = config({}, { mode: 'production' });
      options.output = { ...options.output, path: out };
      options.plugins = options.plugins.map((plugin) => (plugin.constructor.name === 'BundleSizePlugin' ? new config.BundleSizePlugin(1000) : plugin));
      const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
      const errors: string[] = await new Promise((resolve, reject) =>
        webpack(options, (error: Error | null, stats: { toJson(o: object): { errors: Array<{ message: string }> } }) =>
          error ? reject(error) : resolve(stats.toJson({ all: false, errors: true }).errors.map((e) => e.message)),
        ),
      );
      log.mockRestore();
      expect(errors).toEqual([expect.stringMatching(/^build\/dist\/index\.js is \d+ B gzip, over the budget of 1000 B \(GZIP_BUDGET_BYTES in deck-plugin\/webpack\.config\.js\)/)]);
      expect(fs.existsSync(path.join(out, 'index.js'))).toBe(false);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 600_000);

  it('holds the stylesheet minified: no comments, no layout whitespace', () => {
    const bundle = fs.readFileSync(PLUGIN_BUNDLE, 'utf8');
    const css = fs.readFileSync(path.join(DECK_PLUGIN, 'src/styles.css'), 'utf8');
    expect(bundle).toContain(minifyCss(css));
    expect(bundle).not.toContain('Injected into <head> once');
    expect(bundle).not.toMatch(/\.istio-traffic-shift-stage \.its-presets \{/);
  });
});

describe('the stylesheet minifier (scripts/minify-css.js)', () => {
  it('drops comments and layout whitespace and keeps every selector and declaration', () => {
    const css = '/* a comment with a quote\'s */\n.a .b,\n.c > .d {\n  margin: 12px 0;\n  color: var(--x, #fff);\n}\n.e:hover { font-weight: 600 }\n';
    expect(minifyCss(css)).toBe('.a .b,.c>.d{margin:12px 0;color:var(--x,#fff)}.e:hover{font-weight:600}');
  });

  it('stops on what it does not handle, naming the file and line', () => {
    expect(() => minifyCss('.a { b: c }\n@media print {\n  .a { b: c }\n}\n', 'styles.css')).toThrow(/^styles\.css:2: "@" is not handled/);
    expect(() => minifyCss('.a { b: c }\n.b { content: "x" }\n', 'styles.css')).toThrow(/^styles\.css:2: """ is not handled/);
    expect(() => minifyCss('.a { b: c }\n\n.b { c: d\n', 'styles.css')).toThrow(/^styles\.css:3: unbalanced braces/);
  });

  it('minifies the plugin\'s stylesheet without error', () => {
    const css = fs.readFileSync(path.join(DECK_PLUGIN, 'src/styles.css'), 'utf8');
    const minified = minifyCss(css);
    const rules = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').match(/\{/g)?.length;
    expect(rules(minified)).toBe(rules(css));
    expect(minified.length).toBeLessThan(css.length);
  });
});
