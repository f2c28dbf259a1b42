/**
 * A quick check of a custom PromQL query template while it is typed: balanced (), [] and {},
 * closed strings, and function names Prometheus knows. It is not a parser: the service's create
 * check (Prometheus itself) stays the authority, this only catches the usual slips early.
 *
 * The rules follow Prometheus' lexer and function table (prometheus/prometheus at
 * d15adb9ad7e5d9fbde3a9a8f30200593a5a14d86):
 * - promql/parser/lex.go `lexStatements`: `#` starts a comment to the end of the line; "..." and
 *   '...' strings take backslash escapes and end at a newline ("unterminated quoted string"),
 *   `...` raw strings take no escapes and may span lines; ( and [ must be closed
 *   ("unclosed left parenthesis"), a closer needs its opener ("unexpected right parenthesis").
 * - promql/parser/lex.go `key`: the aggregators (sum ... limit_ratio) and the keywords that may
 *   stand before a "(" (by, without, on, ignoring, group_left, fill, bool, ...), matched in any case.
 * - promql/parser/functions.go `Functions`: the function names (case-sensitive in the parser);
 *   experimental ones (info, sort_by_label, ...) are listed too, since a server may enable them.
 * `{{variable}}` template variables (queries.ts) are values, skipped like one.
 */

/** promql/parser/functions.go `Functions` (90 names at the commit above). */
const FUNCTIONS = new Set(
  ('abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes clamp clamp_max clamp_min cos cosh ' +
    'count_over_time days_in_month day_of_month day_of_week day_of_year deg end delta deriv exp first_over_time floor histogram_avg ' +
    'histogram_count histogram_sum histogram_stddev histogram_stdvar histogram_fraction histogram_quantile histogram_quantiles ' +
    'double_exponential_smoothing hour idelta increase info irate label_replace label_join max_of last_over_time min_of ln log10 log2 ' +
    'mad_over_time max_over_time min_over_time ts_of_first_over_time ts_of_max_over_time ts_of_min_over_time ts_of_last_over_time minute ' +
    'month pi predict_linear present_over_time quantile_over_time rad range rate resets round scalar sgn sin sinh sort sort_desc ' +
    'sort_by_label sort_by_label_desc sqrt start start_timestamp step stddev_over_time stdvar_over_time sum_over_time tan tanh time ' +
    'timestamp vector year').split(' '),
);

/** promql/parser/lex.go `key`: operators, aggregators and keywords a "(" may follow (any case). */
const KEYWORDS = new Set(
  ('and or unless atan2 sum avg count min max group stddev stdvar topk bottomk count_values quantile limitk limit_ratio ' +
    'offset smoothed anchored by without on ignoring group_left group_right fill fill_left fill_right bool start end step range max_of min_of').split(' '),
);

export interface PromqlProblem {
  /** 1-based, in the template as typed. */
  line: number;
  column: number;
  message: string;
}

const CLOSER: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
const OPENER: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
const TEMPLATE_VARIABLE = /\{\{[^{}]*\}\}/y;
const IDENTIFIER = /[A-Za-z_:][A-Za-z0-9_:]*/y;
const NUMBER_OR_DURATION = /[0-9.][0-9A-Za-z_.]*/y;

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length];
}

/** The known function or aggregator closest to a misspelt name, when one is close (a name it begins wins a tie: rat -> rate, not rad). */
function suggestion(name: string): string | undefined {
  const typed = name.toLowerCase();
  let best: string | undefined;
  let bestScore = name.length > 4 ? 3 : 2;
  for (const known of [...FUNCTIONS, ...KEYWORDS]) {
    const score = editDistance(typed, known) - (known.startsWith(typed) ? 0.5 : 0);
    if (score < bestScore) [best, bestScore] = [known, score];
  }
  return best;
}

/** The problems of a query template, in the order they occur (at most one about brackets or strings: the rest would follow from it). */
export function checkPromql(template: string): PromqlProblem[] {
  const problems: PromqlProblem[] = [];
  const at = (offset: number) => {
    const before = template.slice(0, offset).split('\n');
    return { line: before.length, column: before[before.length - 1].length + 1 };
  };
  const add = (offset: number, message: string) => problems.push({ ...at(offset), message });
  const where = (offset: number) => {
    const { line, column } = at(offset);
    return line === 1 ? `column ${column}` : `line ${line}, column ${column}`;
  };
  const open: Array<{ bracket: string; offset: number }> = [];
  const match = (pattern: RegExp, offset: number) => {
    pattern.lastIndex = offset;
    return pattern.exec(template)?.[0];
  };
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    const variable = c === '{' ? match(TEMPLATE_VARIABLE, i) : undefined;
    if (variable) {
      i += variable.length;
    } else if (c === '#') {
      const end = template.indexOf('\n', i);
      i = end < 0 ? template.length : end;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < template.length && template[j] !== c && (c === '`' || template[j] !== '\n')) j += c !== '`' && template[j] === '\\' ? 2 : 1;
      if (j >= template.length || template[j] !== c) {
        add(i, `the string that starts here is never closed: end it with ${c}`);
        return problems;
      }
      i = j + 1;
    } else if (CLOSER[c]) {
      open.push({ bracket: c, offset: i });
      i++;
    } else if (OPENER[c]) {
      const last = open.pop();
      if (!last) {
        add(i, `this ${c} has no ${OPENER[c]} before it: remove it or add the ${OPENER[c]}`);
        return problems;
      }
      if (last.bracket !== OPENER[c]) {
        add(i, `this ${c} comes before the ${last.bracket} at ${where(last.offset)} is closed: close that ${last.bracket} with ${CLOSER[last.bracket]} first`);
        return problems;
      }
      i++;
    } else if (/[0-9.]/.test(c)) {
      i += match(NUMBER_OR_DURATION, i)!.length;
    } else if (/[A-Za-z_:]/.test(c)) {
      const name = match(IDENTIFIER, i)!;
      const called = /^\s*\(/.test(template.slice(i + name.length));
      const inBraces = open.length > 0 && open[open.length - 1].bracket === '{';
      if (called && !inBraces && !FUNCTIONS.has(name) && !KEYWORDS.has(name.toLowerCase())) {
        const near = suggestion(name);
        add(i, `${name} is not a PromQL function or aggregation${near ? ` (did you mean ${near}?)` : ''}`);
      }
      i += name.length;
    } else {
      i++;
    }
  }
  const unclosed = open.pop();
  if (unclosed) add(unclosed.offset, `the ${unclosed.bracket} opened here is never closed: add a ${CLOSER[unclosed.bracket]}`);
  return problems;
}
