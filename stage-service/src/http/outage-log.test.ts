import { createLogger } from '../logger';
import { OutageLog } from './outage-log';

describe('OutageLog', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('logs the first failure of an account at once, then one line per interval with the count', () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = new OutageLog(createLogger('debug', (line) => lines.push(JSON.parse(line))), 10_000);
    // 1,100 failed polls of one account over 20 s, and 3 of another in the first second.
    for (let i = 0; i < 1100; i++) {
      log.report('east', { status: 503, error: `failure ${i}` });
      if (i < 3) log.report('west', { status: 503, error: 'west down' });
      jest.advanceTimersByTime(18);
    }
    // 19.8 s: the first lines at once, then one line per account at the 10 s mark.
    expect(lines.map((l) => [l.account, l.suppressed ?? 'first'])).toEqual([['east', 'first'], ['west', 'first'], ['east', 555], ['west', 2]]);
    expect(lines.every((l) => l.level === 'warn')).toBe(true);
    expect(lines[2]).toMatchObject({ error: 'failure 555', intervalMs: 10_000 });
    jest.advanceTimersByTime(200);
    // 20 s: the second interval's count; west's quiet interval closed its window without a line.
    expect(lines.slice(4).map((l) => [l.account, l.suppressed])).toEqual([['east', 544]]);
    expect(1 + 555 + 544).toBe(1100);
    // A quiet interval closes east's window too: its next failure is logged at once, uncounted.
    jest.advanceTimersByTime(10_000);
    expect(lines).toHaveLength(5);
    log.report('east', { status: 503, error: 'again' });
    expect(lines).toHaveLength(6);
    expect(lines[5]).toMatchObject({ account: 'east', error: 'again' });
    expect(lines[5].suppressed).toBeUndefined();
  });
});
