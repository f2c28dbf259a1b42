/**
 * core's as-you-type PromQL check (packages/core/src/analysis/promql-check.ts) against the real
 * parser of Debian's Prometheus: every query it flags, Prometheus rejects with a parse error, and
 * the queries the project renders (and good templates, filled in) Prometheus accepts and the check
 * leaves alone. The check is a hint: Prometheus may reject more (a range where none belongs).
 */
import { get } from 'http';
import { checkPromql, renderQuery, renderTemplate, BUILT_IN_METRICS, NormalizedMetric } from '@istio-shift/core';
import { RunningPrometheus, startPrometheus } from './harness';

let prometheus: RunningPrometheus;

beforeAll(async () => {
  prometheus = await startPrometheus();
}, 120_000);

afterAll(async () => {
  await prometheus?.stop();
});

/** Prometheus' instant-query answer: accepted, or its error text. */
function query(promql: string): Promise<{ accepted: boolean; error?: string }> {
  const url = `${prometheus.url}/api/v1/query?query=${encodeURIComponent(promql)}`;
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => {
        const answer = JSON.parse(body) as { status: string; error?: string };
        resolve({ accepted: answer.status === 'success', error: answer.error });
      });
    }).on('error', reject);
  });
}

const scope = { namespace: 'shop', workload: 'checkout-canary' };
const fill = (template: string) => renderTemplate(template, scope, 'canary', '30s');

const FLAGGED = [
  'sum(rate(x[5m])',
  'rate(x[5m)',
  'up{job="a"',
  'rate(x[5m]))',
  'up{job="a}',
  'up{job="a\n"}',
  "up{job='a\\'}",
  'up{job=`a}',
  'sum(rat(x[5m]))',
  'frobnicate(x)',
  'Rate(x[5m])',
  'sum(\n  rate(x[5m]]\n)',
  'sum(rate(http_errors_total{namespace="{{namespace}}"}[{{interval}]))',
];

const ACCEPTED = [
  'sum(rate(http_errors_total{namespace="{{namespace}}",pod=~"{{workload}}-.*"}[{{interval}}]))',
  'up{app="{{ workload }}"}',
  'sum by (le) (rate(x[5m])) / sum(rate(x[5m])) without (pod)',
  'SUM BY (pod) (a) * ON (pod) GROUP_LEFT (b) x',
  'up{path="a\\"(["}',
  "up{a='x)\\'', b=`c\\(`}",
  'rate(x[5m]) # (unbalanced [ in a comment',
  'rate(x[1m30s] offset 5m @ start())',
  'topk(3, count_values("v", x))',
  'x > 1e-3 and x < 0x1f',
  'sum(\n  rate(x[5m])\n)',
];

it('every query the check flags, Prometheus rejects as a parse error', async () => {
  for (const template of FLAGGED) {
    expect(checkPromql(template)).not.toEqual([]);
    const answer = await query(fill(template));
    expect({ template, accepted: answer.accepted }).toEqual({ template, accepted: false });
    expect(answer.error).toMatch(/parse error/);
  }
}, 60_000);

it('the good templates and every query the project renders, Prometheus accepts and the check leaves alone', async () => {
  const metric = (kind: NormalizedMetric['metric']): NormalizedMetric => ({ name: kind, metric: kind, group: 'g', direction: 'either', critical: false, nodata: 'fail', judge: { type: 'statistical' } });
  const rendered = BUILT_IN_METRICS.map((kind) => renderQuery(metric(kind), scope, 'canary', 30)).filter((q): q is string => q !== undefined);
  for (const promql of [...ACCEPTED.map(fill), ...rendered]) {
    expect({ promql, problems: checkPromql(promql) }).toEqual({ promql, problems: [] });
    const answer = await query(promql);
    expect({ promql, ...answer }).toEqual({ promql, accepted: true });
  }
}, 60_000);
