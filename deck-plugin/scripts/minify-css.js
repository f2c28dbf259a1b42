// A webpack loader that minifies the plugin's own stylesheet (src/styles.css) before it is bundled
// as text: comments and layout whitespace are dropped, nothing else changes. It knows only the
// plain rule lists that stylesheet is written in (selectors, then declarations), and stops the
// build on anything else (at-rules, strings, url(), nested blocks) rather than guess at it:
// css-loader and friends cannot be used here (see docs/deck-plugin.md, "Styles").

/** The minified text of a stylesheet of plain rules; throws naming the line of anything it does not handle. */
function minifyCss(css, file = 'styles.css') {
  // Comments become spaces (newlines kept), so an offset in `text` is one in `css` and errors name the line.
  const text = css.replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, ' '));
  const lineAt = (offset) => css.slice(0, offset).split('\n').length;
  const unsupported = /@|"|'|url\(|\\/.exec(text);
  if (unsupported) {
    throw new Error(`${file}:${lineAt(unsupported.index)}: "${unsupported[0]}" is not handled by scripts/minify-css.js (plain rules only): extend the minifier and its test, or write the rule without it`);
  }
  const rules = [];
  const rule = /([^{}]*)\{([^{}]*)\}/g;
  let end = 0;
  for (let match; (match = rule.exec(text)); end = rule.lastIndex) {
    if (text.slice(end, match.index).trim() !== '') break;
    const selector = match[1].trim().replace(/\s+/g, ' ').replace(/\s*,\s*/g, ',').replace(/\s*>\s*/g, '>');
    const declarations = match[2]
      .split(';')
      .map((declaration) => declaration.trim())
      .filter(Boolean)
      .map((declaration) => {
        const colon = declaration.indexOf(':');
        return `${declaration.slice(0, colon).trim()}:${declaration.slice(colon + 1).trim().replace(/\s+/g, ' ').replace(/\s*,\s*/g, ',')}`;
      });
    rules.push(`${selector}{${declarations.join(';')}}`);
  }
  if (text.slice(end).trim() !== '') {
    const stray = end + text.slice(end).search(/\S/);
    throw new Error(`${file}:${lineAt(stray)}: unbalanced braces or text outside a rule: scripts/minify-css.js handles plain rules only`);
  }
  return rules.join('');
}

module.exports = function minifyCssLoader(source) {
  return minifyCss(String(source), this.resourcePath);
};
module.exports.minifyCss = minifyCss;
