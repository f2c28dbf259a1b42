/**
 * Status polls: nearly all of the service's traffic (Orca polls every running stage every few
 * seconds). One function answers every poll, whichever way it arrives:
 *   - the direct path (`direct`): a GET of a status URL exactly as the create returned it, read
 *     straight from Node's request. Express costs about 3x a plain handler per request (measured:
 *     159 vs 41 µs here), so the common case skips it;
 *   - express's status route, for the spellings only express understands (a query string, a
 *     trailing slash, other letter case, HEAD).
 * Both call `answer`: the same authentication, authorization, poll, error bodies, log lines and
 * request counter (requests.ts); they differ only in how the URL's four segments are read.
 */
import { IncomingMessage, ServerResponse } from 'http';
import { validateShiftPath } from '@istio-shift/core';
import { ShiftEngine, ShiftRef, ShiftSnapshot } from '../engine/engine';
import { ShiftRecord } from '../engine/record';
import { StepScheduler } from '../engine/scheduler';
import { ProgressLookup, statusJson } from '../engine/view';
import { Answer, HttpError, Requests } from './requests';

export interface PollDependencies {
  engine: ShiftEngine;
  scheduler: StepScheduler;
  requests: Requests;
  externalBaseUrl: string;
  /** The analysis runner's live progress of a step, for status bodies (view.ts). */
  analysisProgress?: ProgressLookup;
}

/** The request counter's route name for polls (both paths). */
export const STATUS_ROUTE = 'status';

/** A status URL exactly as the create returned it: four segments, no query, no trailing slash. */
const STATUS_URL = /^\/v1\/shifts\/([^/?#]+)\/([^/?#]+)\/([^/?#]+)\/([^/?#]+)$/;

export function shiftPath(ref: ShiftRef): string {
  return `/v1/shifts/${[ref.account, ref.namespace, ref.virtualService, ref.id].map(encodeURIComponent).join('/')}`;
}

export class Polls {
  constructor(private readonly deps: PollDependencies) {}

  urlsFor(ref: ShiftRef): { statusUrl: string; cancelUrl: string } {
    const path = `${this.deps.externalBaseUrl}${shiftPath(ref)}`;
    return { statusUrl: path, cancelUrl: `${path}/cancel` };
  }

  /** A shift's status body, as polls, creates and cancels answer it. */
  statusBody(record: ShiftRecord, attempts?: ShiftRecord[]): string {
    const ref: ShiftRef = { account: record.spec.account, namespace: record.spec.namespace, virtualService: record.spec.virtualService, id: record.id };
    return statusJson(record, this.urlsFor(ref), new Date(), attempts, this.deps.engine.lastPollSeen(ref), this.deps.analysisProgress);
  }

  /**
   * The answer to a poll of the URL segments `segments` (already decoded) by the caller of
   * `authorization`: authenticate, check the path with the create body's rules, authorize, poll.
   * A poll shows the caller follows the shift (renewing its watch lease) and advances it, so
   * progress never depends on this replica's timers. Never throws: errors become their answer.
   */
  async answer(segments: ShiftRef, authorization: string | undefined, path: string): Promise<Answer> {
    const requests = this.deps.requests;
    let account: string | undefined;
    try {
      const principal = requests.authenticate(authorization);
      const ref: ShiftRef = { account: segments.account, namespace: segments.namespace, virtualService: segments.virtualService, id: segments.id };
      const problems = validateShiftPath(ref);
      if (problems.length) {
        throw new HttpError(400, 'invalid_path', `the shift URL is invalid: ${problems.map((p) => p.message).join('; ')}; use the statusUrl or cancelUrl the create returned`, problems);
      }
      requests.authorize(principal, ref.account, ref.namespace);
      account = ref.account;
      const snapshot: ShiftSnapshot | undefined = await this.deps.engine.status(ref, { polled: true });
      if (!snapshot) throw new HttpError(404, 'not_found', `no shift ${ref.id} on VirtualService ${ref.namespace}/${ref.virtualService} in account ${ref.account} (the VirtualService or its shift record is gone)`);
      this.deps.scheduler.track(ref, snapshot.record);
      return { status: 200, body: this.statusBody(snapshot.record, snapshot.attempts) };
    } catch (error) {
      return requests.errorAnswer(error, { method: 'GET', path, account });
    }
  }

  /**
   * Serves `req` if it is a GET of an exact status URL; false leaves it to express (other
   * methods and paths, and segments that are not valid percent-encoding, which express rejects
   * with its own 400).
   */
  direct(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'GET') return false;
    const url = req.url ?? '';
    const match = STATUS_URL.exec(url);
    if (!match) return false;
    let segments: ShiftRef;
    try {
      segments = { account: decodeURIComponent(match[1]), namespace: decodeURIComponent(match[2]), virtualService: decodeURIComponent(match[3]), id: decodeURIComponent(match[4]) };
    } catch {
      return false;
    }
    void this.answer(segments, req.headers.authorization, url)
      .then((answer) => this.deps.requests.send(res, STATUS_ROUTE, answer))
      .catch(() => res.destroy());
    return true;
  }
}
