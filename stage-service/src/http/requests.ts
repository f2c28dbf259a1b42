/**
 * What every API request shares, whichever path serves it (express, or the direct path of status
 * polls in poll.ts): authentication, account and namespace authorization, error answers (body,
 * status, headers, and how the failure is logged) and the request counter.
 */
import { ServerResponse } from 'http';
import { AccountRegistry } from '../accounts';
import { Principal, TokenAuthenticator, mayUseAccount } from '../auth';
import { ShiftError, ShiftErrorKind } from '../engine/errors';
import { KubernetesApiError, NotFoundError } from '../kube/types';
import { Logger } from '../logger';
import { ServiceMetrics } from '../metrics';
import { OutageLog } from './outage-log';

/** The no-op cancel endpoint named in a rejected create's answer (see errorAnswer). */
export const REJECTED_CREATE_CANCEL_PATH = '/v1/shifts/rejected/cancel';

const STATUS_BY_KIND: Record<ShiftErrorKind, number> = { invalid: 422, 'not-found': 404, conflict: 409, forbidden: 403, unavailable: 503 };

/** A client-facing error: status, a stable code and a message that says what to do. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems: Array<{ field: string; message: string }> = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** An answer to send: status, JSON body and extra headers. */
export interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/** Where an error happened, for its log line. */
export interface ErrorContext {
  method: string;
  path: string;
  /** The account the request named, once known: expected failures are logged per account. */
  account?: string;
  /** A rejected create's answer names the no-op cancel URL (Orca calls cancelUrl after any TERMINAL stage). */
  rejectedCreate?: boolean;
  /** The cancelUrl a rejected create names instead of the no-op: its own stage's first attempt's. */
  rejectedCancelUrl?: string;
}

export interface RequestDependencies {
  authenticator: TokenAuthenticator;
  accounts: AccountRegistry;
  metrics: ServiceMetrics;
  logger: Logger;
  externalBaseUrl: string;
  /** How often an account's expected 503s are logged (default 10 s, see outage-log.ts). */
  outageLogIntervalMs?: number;
}

const JSON_TYPE = 'application/json; charset=utf-8';

export class Requests {
  private readonly outages: OutageLog;

  constructor(private readonly deps: RequestDependencies) {
    this.outages = new OutageLog(deps.logger, deps.outageLogIntervalMs);
  }

  /** The caller of an `Authorization` header, or a 401 (with its WWW-Authenticate header). */
  authenticate(authorization: string | undefined): Principal {
    const principal = this.deps.authenticator.authenticate(authorization);
    if (!principal) {
      throw new HttpError(401, 'unauthenticated', 'missing or invalid bearer token: send "Authorization: Bearer <token>"', [], { 'WWW-Authenticate': 'Bearer realm="istio-traffic-shift"' });
    }
    return principal;
  }

  /** Account and namespace checks shared by every shift endpoint, before any cluster call. */
  authorize(principal: Principal, account: string, namespace: string): void {
    if (!mayUseAccount(principal, account)) {
      throw new HttpError(403, 'forbidden', `token "${principal.name}" may not use account "${account}"`);
    }
    this.deps.accounts.checkNamespace(account, namespace);
  }

  /** Counts one answered request. */
  count(route: string, status: number): void {
    this.deps.metrics.requests.inc({ route, code: String(status) });
  }

  /** Writes an answer and counts it: the direct path's whole output, and express's status route's. */
  send(res: ServerResponse, route: string, answer: Answer): void {
    res.writeHead(answer.status, { ...answer.headers, 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(answer.body) }).end(answer.body);
    this.count(route, answer.status);
  }

  /**
   * An error as JSON with a message for people. Logged: an expected 503 (an API server or metrics
   * source that does not answer) as one warn line per account per interval, without a stack;
   * anything else 5xx at `error` with its stack (our own log only, never the answer).
   */
  errorAnswer(error: unknown, context: ErrorContext): Answer {
    const http = toHttpError(error);
    if (http.status === 503) {
      this.outages.report(context.account ?? '-', { method: context.method, path: context.path, status: http.status, code: http.code, error: http.message });
    } else if (http.status >= 500) {
      this.deps.logger.error('request failed', { method: context.method, path: context.path, status: http.status, error: (error as Error)?.stack ?? String(error) });
    }
    const body = JSON.stringify({
      error: { status: http.status, code: http.code, message: http.message, ...(http.problems.length ? { problems: http.problems } : {}) },
      ...(context.rejectedCreate && http.status < 500 ? { cancelUrl: context.rejectedCancelUrl ?? `${this.deps.externalBaseUrl}${REJECTED_CREATE_CANCEL_PATH}` } : {}),
    });
    return { status: http.status, body, ...(Object.keys(http.headers).length ? { headers: http.headers } : {}) };
  }
}

export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof ShiftError) return new HttpError(STATUS_BY_KIND[error.kind], error.kind.replace('-', '_'), error.message, error.problems);
  if (error instanceof KubernetesApiError) {
    // Missing RBAC will not fix itself: a 4xx ends Orca's stage at once instead of retrying.
    // (A restarting API server's brief 403s never get here: the transport retries them and
    // reports `starting`, which is a 503 below.)
    if ((error.status === 403 || error.status === 401) && error.failure === undefined) {
      return new HttpError(403, 'kubernetes_forbidden', `${error.message} (the service's own Kubernetes credentials lack permission: see docs/deploy.md for the Role it needs)`);
    }
    return new HttpError(503, 'kubernetes_unavailable', `${error.message}; retry shortly`);
  }
  if (error instanceof NotFoundError) return new HttpError(404, 'not_found', error.message);
  const typed = error as { type?: string; status?: number; message?: string };
  if (typed?.type === 'entity.too.large') return new HttpError(413, 'body_too_large', 'the request body is too large: a shift spec is a few kilobytes at most');
  if (typed?.type === 'encoding.unsupported' || typed?.type === 'charset.unsupported') return new HttpError(415, 'unsupported_encoding', 'send the body as UTF-8 JSON');
  if (typeof typed?.status === 'number' && typed.status >= 400 && typed.status < 500) return new HttpError(typed.status, 'bad_request', 'the request could not be read: send the shift spec as JSON');
  return new HttpError(500, 'internal_error', 'internal error: the details are in the service log');
}
