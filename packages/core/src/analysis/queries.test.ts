import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NormalizedMetric } from './normalized';
import { escapeLabelValue, renderQuery, templateVariables } from './queries';

const canary = { namespace: 'shop', workload: 'checkout-canary' };
const metric = (kind: NormalizedMetric['metric'], query?: string): NormalizedMetric => ({
  name: kind, metric: kind, query, group: 'g', direction: 'either', critical: false, nodata: 'fail', judge: { type: 'statistical' }, failAfterSamples: 0,
});

const expected: Array<[NormalizedMetric['metric'], string | undefined]> = [
  ['success-rate', 'sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="shop",destination_workload="checkout-canary",response_code!~"5.."}[30s])) / sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="shop",destination_workload="checkout-canary"}[30s])) * 100'],
  ['latency-p50', 'histogram_quantile(0.5, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload_namespace="shop",destination_workload="checkout-canary"}[30s])))'],
  ['latency-p95', 'histogram_quantile(0.95, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload_namespace="shop",destination_workload="checkout-canary"}[30s])))'],
  ['latency-p99', 'histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload_namespace="shop",destination_workload="checkout-canary"}[30s])))'],
  ['cpu', 'avg(sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="shop",pod=~"checkout-canary-[a-z0-9]+-[a-z0-9]+",container!="",container!="POD"}[30s])))'],
  ['memory', 'avg(sum by (pod) (container_memory_working_set_bytes{namespace="shop",pod=~"checkout-canary-[a-z0-9]+-[a-z0-9]+",container!="",container!="POD"}))'],
  ['restarts', undefined],
  ['readiness', undefined],
  ['oom-killed', undefined],
];

describe('renderQuery', () => {
  for (const [kind, query] of expected) {
    it(`renders ${kind}`, () => expect(renderQuery(metric(kind), canary, 'canary', 30)).toBe(query));
  }

  it('escapes regex metacharacters of the workload in the pod matcher (a dot matches only a dot)', () => {
    expect(renderQuery(metric('memory'), { namespace: 'shop', workload: 'checkout.v2' }, 'canary', 60)).toContain('pod=~"checkout\\\\.v2-[a-z0-9]+-[a-z0-9]+"');
  });

  it('writes the interval as a PromQL duration', () => {
    expect(renderQuery(metric('latency-p99'), canary, 'canary', 90)).toContain('[1m30s]');
  });

  it('fills custom templates, with or without spaces inside the braces', () => {
    const query = 'sum(rate(http_errors_total{namespace="{{namespace}}",app="{{ workload }}",track="{{scope}}"}[{{interval}}]))';
    expect(renderQuery(metric('custom', query), { namespace: 'shop', workload: 'checkout-baseline' }, 'baseline', 60)).toBe(
      'sum(rate(http_errors_total{namespace="shop",app="checkout-baseline",track="baseline"}[1m]))',
    );
    expect(templateVariables(query)).toEqual(['namespace', 'workload', 'scope', 'interval']);
  });

  it('escapes label values', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });

  it('produces PromQL that Prometheus parses (promtool check rules)', () => {
    const exprs = expected.flatMap(([kind]) => renderQuery(metric(kind), { namespace: 'shop', workload: 'checkout.v2' }, 'canary', 30) ?? []);
    exprs.push(renderQuery(metric('custom', 'sum(rate(x_total{ns="{{namespace}}",s="{{scope}}"}[{{interval}}]))'), canary, 'canary', 30)!);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'queries-'));
    const file = path.join(dir, 'rules.yml');
    const rules = exprs.map((expr, i) => `      - record: judge:query_${i}\n        expr: ${JSON.stringify(expr)}`).join('\n');
    fs.writeFileSync(file, `groups:\n  - name: judge\n    rules:\n${rules}\n`);
    try {
      const output = execFileSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      expect(output).toContain(`SUCCESS: ${exprs.length} rules found`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
