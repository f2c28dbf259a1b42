/**
 * Ended records are compacted and the annotation is bounded in bytes (issue 8 §4): the compact form
 * passes the schema and answers the same status, message and weights.
 */
import { selectRoute, validateShiftSpec, planShift, NormalizedShiftSpec } from '@istio-shift/core';
import { checkoutVirtualService } from '../kube/seed';
import { VirtualServiceObject } from '../kube/types';
import { specHash } from './engine';
import { STATE_ANNOTATION, STATE_MAX_BYTES, ShiftRecord, emptyState, readState, writeState } from './record';
import { recordProblem } from './record-schema';
import { cancel, startShift } from './transitions';
import { toStatus } from './view';

const NOW = new Date('2026-11-30T12:00:00Z');
const urls = { statusUrl: 'http://svc/s', cancelUrl: 'http://svc/c' };

function objectWith(raw?: string): VirtualServiceObject {
  const object = checkoutVirtualService('shop');
  object.metadata.uid = 'uid-1';
  if (raw !== undefined) object.metadata.annotations = { [STATE_ANNOTATION]: raw };
  return object;
}

function specFor(executionId: string, overrides: Record<string, unknown> = {}): NormalizedShiftSpec {
  const result = validateShiftSpec({
    account: 'a', namespace: 'shop', virtualService: 'checkout', route: { protocol: 'http', name: 'primary' },
    destinations: [{ host: 'checkout', subset: 'release' }, { host: 'checkout', subset: 'baseline' }, { host: 'checkout', subset: 'canary' }],
    steps: [{ weights: [80, 10, 10], pause: '1m' }, { weights: [100, 0, 0] }],
    executionId, stageRef: '2', ...overrides,
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.spec;
}

/** A shift started and then cancelled (weights restored): an ended, full record. */
function endedShift(index: number, overrides: Record<string, unknown> = {}): ShiftRecord {
  const spec = specFor(`exec-${index}`, overrides);
  const object = objectWith();
  const selection = selectRoute(object.spec, spec.route, 'shop/checkout');
  if (!selection.ok) throw new Error('no route');
  const planned = planShift(spec, selection.selected);
  if (!planned.ok) throw new Error('no plan');
  const id = index.toString(16).padStart(20, '0');
  const { record } = startShift(id, spec, specHash(spec), { namespace: 'shop', name: 'checkout', uid: 'uid-1' }, selection.selected, planned.plan, NOW);
  const next = cancel(record, selection, 'shop/checkout', new Date(NOW.getTime() + index * 1000));
  if (next.kind !== 'write') throw new Error('not cancelled');
  return next.record;
}

describe('compacted ended records', () => {
  it('are written without the lists only a running shift needs, and read back with the same status', () => {
    const ended = endedShift(1);
    // Written now (just ended): kept whole; the next write compacts it.
    const first = writeState(emptyState(), [ended]);
    expect(JSON.parse(first).shifts[ended.id].lastWritten).toBeDefined();
    const later = endedShift(2);
    const second = writeState(readState(objectWith(first)).state, [later]);
    const stored = JSON.parse(second).shifts[ended.id];
    expect(stored.original).toBeUndefined();
    expect(stored.lastWritten).toBeUndefined();
    expect(stored.stepTimes).toBeUndefined();
    expect(stored.endedWeights).toEqual(toStatus(ended, urls, NOW).currentWeights);
    expect(recordProblem(ended.id, stored)).toBeUndefined();

    const readBack = readState(objectWith(second)).state.shifts.get(ended.id) as ShiftRecord;
    const full = toStatus(ended, urls, NOW);
    const compact = toStatus(readBack, urls, NOW);
    expect(compact.status).toBe(full.status);
    expect(compact.message).toBe(full.message);
    expect(compact.currentWeights).toEqual(full.currentWeights);
    expect(compact.rollback).toEqual(full.rollback);
    expect(compact.finishedAt).toBe(full.finishedAt);
    // A compacted record is smaller than half the whole one.
    expect(JSON.stringify(stored).length).toBeLessThan(JSON.stringify(ended).length * 0.75);
  });

  it('are refused by the schema when they claim to be running or carry bad weights', () => {
    const ended = endedShift(3);
    const stored = JSON.parse(writeState(readState(objectWith(writeState(emptyState(), [ended]))).state, [endedShift(4)])).shifts[ended.id];
    expect(recordProblem(ended.id, { ...stored, phase: 'RUNNING' })).toMatch(/compacted record \(endedWeights\) must have ended/);
    expect(recordProblem(ended.id, { ...stored, endedWeights: [100, 0] })).toMatch(/endedWeights must hold one weight/);
    expect(recordProblem(ended.id, { ...stored, original: [] })).toMatch(/has no original/);
  });

  it('keep the annotation under its byte bound, dropping the oldest ended records first', () => {
    let state = emptyState();
    let raw = '';
    const long = 'x'.repeat(1500);
    for (let i = 1; i <= 40; i++) {
      raw = writeState(state, [endedShift(i, { stageRef: `stage-${long.slice(0, 40)}-${i}`, executionId: `exec-${i}-${long.slice(0, 100)}` })]);
      expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(STATE_MAX_BYTES);
      state = readState(objectWith(raw)).state;
    }
    const ids = [...state.shifts.keys()];
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.length).toBeLessThanOrEqual(20);
    // The newest survives.
    expect(ids).toContain((40).toString(16).padStart(20, '0'));
  });
});

describe('reading the state', () => {
  it('parses an annotation once for every object of the same identity that carries it, and apart for another object', () => {
    const raw = writeState(emptyState(), [endedShift(5)]);
    // A write's answer and the watch event it causes: two objects, one annotation.
    const answer = readState(objectWith(raw));
    expect(readState(objectWith(raw))).toBe(answer);
    // The same text on another object (a copy under another uid) is judged for that object.
    const copy = objectWith(raw);
    copy.metadata.uid = 'uid-2';
    const copied = readState(copy).state;
    expect(copied).not.toBe(answer.state);
    expect(copied.shifts.size).toBe(0);
    expect([...copied.unusable.values()][0].problem).toMatch(/copied here/);
  });
});
