import { BUILT_IN_METRICS, NormalizedMetric } from './normalized';
import { checkPromql } from './promql-check';
import { referenceAnalysis } from './preset';
import { renderQuery, renderRequestCountQuery } from './queries';
import { validateAnalysis } from './validate';

const ok = (query: string) => expect(checkPromql(query)).toEqual([]);
const first = (query: string) => checkPromql(query)[0];

describe('checkPromql: what it accepts', () => {
  it.each([
    ['a selector with a template', 'sum(rate(http_errors_total{namespace="{{namespace}}",pod=~"{{workload}}-.*"}[{{interval}}]))'],
    ['spaces inside a template variable', 'up{app="{{ workload }}"}[{{ interval }}]'],
    ['aggregation with by before and after', 'sum by (le) (rate(x[5m])) / sum(rate(x[5m])) without (pod)'],
    ['aggregators and keywords in any case', 'SUM BY (pod) (a) AND ON (pod) GROUP_LEFT (b) x'],
    ['escaped quotes and brackets inside strings', 'up{path="a\\"(["}'],
    ['single-quoted and raw strings', "up{a='x)\\'', b=`c\\(`}"],
    ['a raw string over two lines', 'up{a=`x\ny`}'],
    ['a comment with brackets in it', 'rate(x[5m]) # (unbalanced [ in a comment'],
    ['durations, offsets and @ modifiers', 'rate(x[1m30s] offset 5m @ start())'],
    ['experimental functions from the table', 'sort_by_label(info(up), "job")'],
    ['topk with a parameter, count_values', 'topk(3, count_values("v", x))'],
    ['label names that are also function names', 'up{rate="1", sum="2"}'],
    ['numbers with exponents and hex', 'x > 1e-3 and x < 0x1f'],
    ['a query over several lines', 'sum(\n  rate(x[5m])\n)'],
  ])('%s', (_, query) => ok(query));
});

describe('checkPromql: what it reports, with the column where it is', () => {
  it.each([
    ['an unclosed (', 'sum(rate(x[5m])', { line: 1, column: 4, message: 'the ( opened here is never closed: add a )' }],
    ['an unclosed [', 'rate(x[5m)', { line: 1, column: 10, message: 'this ) comes before the [ at column 7 is closed: close that [ with ] first' }],
    ['an unclosed {', 'up{job="a"', { line: 1, column: 3, message: 'the { opened here is never closed: add a }' }],
    ['a stray )', 'rate(x[5m]))', { line: 1, column: 12, message: 'this ) has no ( before it: remove it or add the (' }],
    ['an unclosed double-quoted string', 'up{job="a}', { line: 1, column: 8, message: 'the string that starts here is never closed: end it with "' }],
    ['a double-quoted string cut by a newline', 'up{job="a\n"}', { line: 1, column: 8, message: 'the string that starts here is never closed: end it with "' }],
    ['an escaped closing quote', "up{job='a\\'}", { line: 1, column: 8, message: "the string that starts here is never closed: end it with '" }],
    ['an unclosed raw string', 'up{job=`a}', { line: 1, column: 8, message: 'the string that starts here is never closed: end it with `' }],
    ['a misspelt function', 'sum(rat(x[5m]))', { line: 1, column: 5, message: 'rat is not a PromQL function or aggregation (did you mean rate?)' }],
    ['an unknown function', 'frobnicate(x)', { line: 1, column: 1, message: 'frobnicate is not a PromQL function or aggregation' }],
    ['a function in the wrong case (the parser matches function names exactly)', 'Rate(x[5m])', { line: 1, column: 1, message: 'Rate is not a PromQL function or aggregation (did you mean rate?)' }],
    ['a problem on the second line', 'sum(\n  rate(x[5m]]\n)', { line: 2, column: 13, message: 'this ] comes before the ( at line 2, column 7 is closed: close that ( with ) first' }],
    ['a broken template variable', 'rate(x[{{interval}])', { line: 1, column: 19, message: 'this ] comes before the { at column 8 is closed: close that { with } first' }],
  ])('%s', (_, query, problem) => expect(first(query)).toEqual(problem));

  it('reports every unknown function, but only the first bracket problem', () => {
    expect(checkPromql('foo(bar(x)').map((p) => p.column)).toEqual([1, 5, 4]);
  });

  it('says nothing about an empty query (the validator says it is required)', () => ok(''));
});

describe('checkPromql: every query the project renders passes', () => {
  const scopes = [
    { namespace: 'shop', workload: 'checkout-canary' },
    { namespace: 'a-b', workload: 'x.y-z' },
  ];
  const metric = (kind: NormalizedMetric['metric']): NormalizedMetric => ({ name: kind, metric: kind, group: 'g', direction: 'either', critical: false, nodata: 'fail', judge: { type: 'statistical' } });

  it.each(BUILT_IN_METRICS.map((kind) => [kind]))('%s, at several intervals and scopes', (kind) => {
    for (const scope of scopes) {
      for (const seconds of [15, 30, 90, 3600]) {
        const query = renderQuery(metric(kind), scope, 'canary', seconds);
        if (query !== undefined) ok(query);
      }
    }
  });

  it('the request and 5xx counts of the evidence gate and the errors judge', () => {
    for (const scope of scopes) for (const errorsOnly of [true, false]) ok(renderRequestCountQuery(scope, 30, errorsOnly));
  });

  it('the reference preset, as validated and rendered for both scopes', () => {
    const spec = referenceAnalysis({ canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } });
    const { analysis, problems } = validateAnalysis(spec, { namespace: 'shop', steps: [{ pause: '10m' }] });
    expect(problems).toEqual([]);
    const rendered = analysis!.metrics.flatMap((m) => [renderQuery(m, analysis!.scopes.canary, 'canary', 30), renderQuery(m, analysis!.scopes.baseline, 'baseline', 30)]);
    expect(rendered.filter(Boolean).length).toBe(8);
    rendered.forEach((query) => query !== undefined && ok(query));
  });

  it('the example query the validator and the editor suggest, as a template and filled in', () => {
    const template = 'sum(rate(http_errors_total{namespace="{{namespace}}",pod=~"{{workload}}-.*"}[{{interval}}]))';
    ok(template);
    ok(renderQuery({ ...metric('custom'), query: template }, scopes[0], 'canary', 30)!);
  });
});
