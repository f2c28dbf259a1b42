/**
 * statusJson keeps the parts of a poll's answer that cannot change for the same record object: it
 * must answer exactly what JSON.stringify(toStatus(...)) answers, at any time, for every phase.
 */
import { NormalizedShiftSpec, StepProgress, planShift, selectRoute, validateShiftSpec } from '@istio-shift/core';
import { checkoutVirtualService } from '../kube/seed';
import { specHash } from './engine';
import { ShiftRecord } from './record';
import { advance, cancel, startShift } from './transitions';
import { ProgressLookup, statusJson, toStatus } from './view';

const START = new Date('2026-11-30T12:00:00Z');
const urls = { statusUrl: 'http://svc/v1/shifts/a/shop/checkout/1', cancelUrl: 'http://svc/v1/shifts/a/shop/checkout/1/cancel' };
const at = (seconds: number) => new Date(START.getTime() + seconds * 1000);

function spec(overrides: Record<string, unknown> = {}): NormalizedShiftSpec {
  const result = validateShiftSpec({
    account: 'a', namespace: 'shop', virtualService: 'checkout', route: { protocol: 'http', name: 'primary' },
    destinations: ['release', 'baseline', 'canary'].map((subset) => ({ host: 'checkout', subset })),
    steps: [{ weights: [80, 10, 10], pause: '1m' }, { weights: [34, 33, 33], pause: '2m' }, { weights: [100, 0, 0] }],
    executionId: 'exec-1', stageRef: '2', ...overrides,
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.spec;
}

function records(): Array<{ name: string; record: ShiftRecord }> {
  const s = spec();
  const object = checkoutVirtualService('shop');
  const selection = selectRoute(object.spec, s.route, 'shop/checkout');
  if (!selection.ok) throw new Error('no route');
  const planned = planShift(s, selection.selected);
  if (!planned.ok) throw new Error('no plan');
  // The route as the API server holds it after each write.
  const written = (target: unknown) => {
    (object.spec as { http: Array<{ route: unknown }> }).http[1].route = target; // "primary"

    return selectRoute(object.spec, s.route, 'shop/checkout');
  };
  const started = startShift('1'.padStart(20, '0'), s, specHash(s), { namespace: 'shop', name: 'checkout', uid: 'u' }, selection.selected, planned.plan, START);
  const running = started.record;
  const stepped = advance(running, written(started.target), 'shop/checkout', at(61), { polledNow: true });
  if (stepped.kind !== 'write' || stepped.record.phase !== 'RUNNING') throw new Error('did not step');
  const cancelled = cancel(stepped.record, written(stepped.target), 'shop/checkout', at(90));
  if (cancelled.kind !== 'write') throw new Error('not cancelled');
  return [
    { name: 'running, first step', record: running },
    { name: 'running, second step', record: stepped.record },
    { name: 'cancelled', record: cancelled.record },
  ];
}

describe('statusJson', () => {
  it.each(records())('answers exactly JSON.stringify(toStatus(...)) for a $name record, at every poll time', ({ record }) => {
    for (const seconds of [0, 1, 30.5, 59.999, 61, 100, 179, 400, 3600]) {
      for (const lastPollSeen of [undefined, at(seconds).getTime()]) {
        // The first call fills the memo, the later ones use it: both must match.
        expect(statusJson(record, urls, at(seconds), [record], lastPollSeen)).toBe(JSON.stringify(toStatus(record, urls, at(seconds), [record], lastPollSeen)));
      }
    }
  });

  it('does not reuse a memo made for other URLs, and builds several attempts whole', () => {
    const [first, second] = records();
    const otherUrls = { statusUrl: 'http://other/s', cancelUrl: 'http://other/c' };
    expect(statusJson(first.record, urls, START)).toBe(JSON.stringify(toStatus(first.record, urls, START)));
    expect(statusJson(first.record, otherUrls, START)).toBe(JSON.stringify(toStatus(first.record, otherUrls, START)));
    const attempts = [first.record, second.record];
    expect(statusJson(second.record, urls, at(70), attempts)).toBe(JSON.stringify(toStatus(second.record, urls, at(70), attempts)));
  });
});

describe('live analysis progress (steps[i].progress)', () => {
  const look = (looks: number): StepProgress => ({
    at: at(looks * 10).toISOString(),
    looks,
    metrics: [{ name: 'latency-p99', eValue: 37, maxEValue: 41, threshold: 900, crossed: false, intervals: looks }],
    evidence: { requests: { canary: 1830, baseline: 1822 }, errors: { canary: 3, baseline: 2 } },
  });

  it('is shown on the running step the lookup names, and follows each new look through the memo', () => {
    const [first, second] = records();
    let progress = look(1);
    const lookup: ProgressLookup = () => ({ stepIndex: 1, progress });
    const steps = (json: string) => (JSON.parse(json) as { steps: Array<{ progress?: StepProgress }> }).steps.map((s) => s.progress);
    expect(steps(statusJson(second.record, urls, at(70), [second.record], undefined, lookup))).toEqual([undefined, look(1), undefined]);
    progress = look(2);
    const json = statusJson(second.record, urls, at(80), [second.record], undefined, lookup);
    expect(json).toBe(JSON.stringify(toStatus(second.record, urls, at(80), [second.record], undefined, lookup)));
    expect(steps(json)[1]).toEqual(look(2));
    // Another replica (no progress): the memo made with progress is not reused.
    expect(steps(statusJson(second.record, urls, at(80)))).toEqual([undefined, undefined, undefined]);
    // Progress of a step that is not the current one (a lookup that is behind) is not shown.
    expect(steps(statusJson(first.record, urls, at(10), [first.record], undefined, lookup))).toEqual([undefined, undefined, undefined]);
  });

  it('is not shown once the shift ended or the step is judged', () => {
    const [, , cancelled] = records();
    const lookup: ProgressLookup = () => ({ stepIndex: 1, progress: look(3) });
    expect(toStatus(cancelled.record, urls, at(100), [cancelled.record], undefined, lookup).steps.map((s) => s.progress)).toEqual([undefined, undefined, undefined]);
    const [, second] = records();
    const judgement = { score: 100, result: 'Pass', passed: true, final: true, thresholds: { pass: 75, marginal: 50 }, groups: [], metrics: [] };
    const judged = { ...second.record, judgements: [undefined, { at: at(70).toISOString(), judgement }] } as unknown as ShiftRecord;
    expect(toStatus(judged, urls, at(100), [judged], undefined, lookup).steps[1].progress).toBeUndefined();
  });
});
