/**
 * Expected failures (a 503 because an account's API server does not answer) logged as one `warn`
 * line per account per interval, not one line with a stack per request: during an outage Orca
 * keeps polling every shift, and the log must still show what else happens.
 *
 * The first failure of an account is logged at once. Further ones within the interval are
 * counted; at the interval's end, if there were any, one line gives their count (`suppressed`)
 * and the last error message, and a new interval starts. An interval with none closes the account's
 * window, so the next failure is logged at once again.
 */
import { Logger } from '../logger';

export const OUTAGE_LOG_INTERVAL_MS = 10_000;

interface Window {
  suppressed: number;
  last: Record<string, unknown>;
  timer: NodeJS.Timeout;
}

export class OutageLog {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = OUTAGE_LOG_INTERVAL_MS,
  ) {}

  /** One expected failure of `account` (fields: method, path, status, code, error: the message; never a stack). */
  report(account: string, fields: Record<string, unknown>): void {
    const open = this.windows.get(account);
    if (open) {
      open.suppressed++;
      open.last = fields;
      return;
    }
    this.logger.warn('request failed: the account\'s API server is unavailable (further failures of this account are counted, one line per interval)', { account, ...fields, intervalMs: this.intervalMs });
    this.windows.set(account, { suppressed: 0, last: fields, timer: this.arm(account) });
  }

  private arm(account: string): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const window = this.windows.get(account);
      if (!window) return;
      if (window.suppressed === 0) {
        this.windows.delete(account);
        return;
      }
      this.summary(account, window);
      window.suppressed = 0;
      window.timer = this.arm(account);
    }, this.intervalMs);
    timer.unref();
    return timer;
  }

  private summary(account: string, window: Window): void {
    this.logger.warn('requests failed: the account\'s API server is still unavailable', { account, ...window.last, suppressed: window.suppressed, intervalMs: this.intervalMs });
  }
}
