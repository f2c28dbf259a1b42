/**
 * The HTTP API Orca's webhook stage calls. Thin: parse, authenticate, authorize, hand the spec
 * to the engine, and turn results and errors into JSON with the right status codes.
 */
import express, { NextFunction, Request, Response } from 'express';
import { IncomingMessage, ServerResponse } from 'http';
import { NormalizedShiftSpec, validateShiftPath, validateShiftSpec } from '@istio-shift/core';
import { AccountRegistry } from '../accounts';
import { Principal, TokenAuthenticator, mayUseAccount } from '../auth';
import { ShiftEngine, ShiftRef, ShiftSnapshot } from '../engine/engine';
import { ShiftError, ShiftErrorKind } from '../engine/errors';
import { ShiftRecord } from '../engine/record';
import { StepScheduler } from '../engine/scheduler';
import { ProgressLookup, statusJson } from '../engine/view';
import { KubernetesApiError, NotFoundError } from '../kube/types';
import { Logger } from '../logger';
import { ServiceMetrics } from '../metrics';
import { openApiDocument } from './openapi';
import { readiness } from './readiness';
import { TurnTaker } from './turns';

export interface AppDependencies {
  engine: ShiftEngine;
  scheduler: StepScheduler;
  /** Create-time checks of a spec's analysis (source, account, queries); throws ShiftError. */
  preflight?: (spec: NormalizedShiftSpec) => Promise<void>;
  /** Metrics source names a token's accounts may use (for the editor's help and operators). */
  metricsSources?: (accounts: string[]) => Array<{ name: string; type: string; accounts: string[] }>;
  accounts: AccountRegistry;
  authenticator: TokenAuthenticator;
  metrics: ServiceMetrics;
  logger: Logger;
  externalBaseUrl: string;
  bodyLimitBytes: number;
  isReady: () => boolean;
  /** This replica's live analysis progress of a shift's running step, for steps[i].progress. */
  analysisProgress?: ProgressLookup;
}

/** The no-op cancel endpoint named in a rejected create's answer (see the error handler). */
export const REJECTED_CREATE_CANCEL_PATH = '/v1/shifts/rejected/cancel';

const STATUS_BY_KIND: Record<ShiftErrorKind, number> = { invalid: 422, 'not-found': 404, conflict: 409, forbidden: 403, unavailable: 503 };

/** A client-facing error: status, a stable code and a message that says what to do. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems: Array<{ field: string; message: string }> = [],
  ) {
    super(message);
  }
}

type Handler = (req: Request, res: Response) => Promise<void> | void;

/** The service's request handler: express, with a direct path for well-formed status polls. */
export function createApp(deps: AppDependencies): (req: IncomingMessage, res: ServerResponse) => void {
  const app = express();
  // Creates and cancels of a burst take turns with probes and polls (see turns.ts).
  const turns = new TurnTaker();
  app.disable('x-powered-by');
  app.set('etag', false);

  const shiftPath = (ref: ShiftRef) =>
    `/v1/shifts/${[ref.account, ref.namespace, ref.virtualService, ref.id].map(encodeURIComponent).join('/')}`;
  const urlsFor = (ref: ShiftRef) => ({
    statusUrl: `${deps.externalBaseUrl}${shiftPath(ref)}`,
    cancelUrl: `${deps.externalBaseUrl}${shiftPath(ref)}/cancel`,
  });
  const refOf = (record: ShiftRecord): ShiftRef => ({ account: record.spec.account, namespace: record.spec.namespace, virtualService: record.spec.virtualService, id: record.id });
  const statusBodyOf = (record: ShiftRecord, attempts?: ShiftRecord[]) => {
    const ref = refOf(record);
    return statusJson(record, urlsFor(ref), new Date(), attempts, deps.engine.lastPollSeen(ref), deps.analysisProgress);
  };
  const sendStatus = (res: Response, code: number, record: ShiftRecord, attempts?: ShiftRecord[]) => {
    res.status(code).type('application/json').send(statusBodyOf(record, attempts));
  };

  /** Wraps a handler: counts the request and sends errors through the error middleware. */
  const route = (name: string, handler: Handler) => async (req: Request, res: Response, next: NextFunction) => {
    res.on('finish', () => deps.metrics.requests.inc({ route: name, code: String(res.statusCode) }));
    try {
      await handler(req, res);
    } catch (error) {
      next(error);
    }
  };

  const principalOf = (res: Response) => res.locals.principal as Principal;

  /** Account and namespace checks shared by every shift endpoint, before any cluster call. */
  const authorize = (principal: Principal, account: string, namespace: string) => {
    if (!mayUseAccount(principal, account)) {
      throw new HttpError(403, 'forbidden', `token "${principal.name}" may not use account "${account}"`);
    }
    deps.accounts.checkNamespace(account, namespace);
  };

  // Health probes are the only unauthenticated endpoints.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const answer = await readiness(deps.isReady, deps.accounts);
    res.status(answer.code).json(answer.body);
  });

  app.use((req, res, next) => {
    const principal = deps.authenticator.authenticate(req.get('authorization'));
    if (!principal) {
      res.set('WWW-Authenticate', 'Bearer realm="istio-traffic-shift"');
      next(new HttpError(401, 'unauthenticated', 'missing or invalid bearer token: send "Authorization: Bearer <token>"'));
      return;
    }
    res.locals.principal = principal;
    next();
  });

  // Orca sends application/json (set in customHeaders), but a preconfigured string payload
  // arrives as text/plain: read any body as text and parse it ourselves for clear errors.
  // GETs (status polls: nearly all traffic) carry no body, so they skip the reader's work.
  const readBody = express.text({ type: () => true, limit: deps.bodyLimitBytes });
  app.use((req, res, next) => (req.method === 'GET' || req.method === 'HEAD' ? next() : readBody(req, res, next)));

  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument(deps.externalBaseUrl));
  });

  app.get('/metrics', route('metrics', async (_req, res) => {
    deps.metrics.scheduled.set(deps.scheduler.size);
    for (const watch of deps.accounts.watches()) deps.metrics.watchSynced.set({ account: watch.account, namespace: watch.namespace }, watch.synced ? 1 : 0);
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  }));

  app.get('/v1/metrics-sources', route('metrics-sources', async (_req, res) => {
    res.json({ sources: deps.metricsSources?.(principalOf(res).accounts) ?? [] });
  }));

  app.post('/v1/shifts', route('create', async (req, res) => {
    await turns.turn();
    const body = parseJsonBody(req);
    const result = validateShiftSpec(body);
    if (!result.ok) {
      throw new HttpError(422, 'invalid_spec', `the shift spec has ${result.problems.length} problem(s): ${result.problems.map((p) => p.message).join('; ')}`, result.problems);
    }
    const spec = result.spec;
    authorize(principalOf(res), spec.account, spec.namespace);
    if (deps.preflight) await deps.preflight(spec);
    const { record, attempts, created } = await deps.engine.create(spec);
    const ref = refOf(record);
    deps.scheduler.track(ref, record);
    if (created) {
      deps.metrics.shiftsStarted.inc();
      deps.logger.info('shift started', { shift: record.id, account: spec.account, virtualService: `${spec.namespace}/${spec.virtualService}`, executionId: spec.executionId, stageRef: spec.stageRef, principal: principalOf(res).name });
    }
    res.location(urlsFor(ref).statusUrl);
    sendStatus(res, created ? 202 : 200, record, attempts);
  }));

  /** The shift a URL names, checked with the create body's rules before anything else happens. */
  const refFromPath = (req: Request, res: Response): ShiftRef => {
    const ref = { account: String(req.params.account), namespace: String(req.params.namespace), virtualService: String(req.params.virtualService), id: String(req.params.id) };
    const problems = validateShiftPath(ref);
    if (problems.length) {
      throw new HttpError(400, 'invalid_path', `the shift URL is invalid: ${problems.map((p) => p.message).join('; ')}; use the statusUrl or cancelUrl the create returned`, problems);
    }
    authorize(principalOf(res), ref.account, ref.namespace);
    return ref;
  };

  /**
   * A status poll of a valid, authorized ref: the body to send (200), or a thrown error. A poll
   * shows the caller follows the shift (renewing its watch lease) and advances it, so progress
   * never depends on this replica's timers.
   */
  const poll = async (ref: ShiftRef): Promise<string> => {
    const snapshot: ShiftSnapshot | undefined = await deps.engine.status(ref, { polled: true });
    if (!snapshot) throw new HttpError(404, 'not_found', `no shift ${ref.id} on VirtualService ${ref.namespace}/${ref.virtualService} in account ${ref.account} (the VirtualService or its shift record is gone)`);
    deps.scheduler.track(ref, snapshot.record);
    return statusBodyOf(snapshot.record, snapshot.attempts);
  };

  app.get('/v1/shifts/:account/:namespace/:virtualService/:id', route('status', async (req, res) => {
    const body = await poll(refFromPath(req, res));
    res.status(200).type('application/json').send(body);
  }));

  // Orca calls `${webhook.body.cancelUrl}` after every TERMINAL stage, a rejected create included.
  // A rejected create's body names this endpoint, so the expression always resolves (no "Illegal
  // character in path" exception in the stage) and the call provably does nothing.
  app.post(REJECTED_CREATE_CANCEL_PATH, route('cancel', async (_req, res) => {
    res.status(200).json({ status: 'NOT_FOUND', message: 'the create was rejected, so no shift started: nothing to cancel' });
  }));

  app.post('/v1/shifts/:account/:namespace/:virtualService/:id/cancel', route('cancel', async (req, res) => {
    await turns.turn();
    const ref = refFromPath(req, res);
    const record = await deps.engine.cancel(ref);
    if (!record) {
      // Orca calls cancel after any TERMINAL outcome, even a rejected create: nothing to do is fine.
      res.status(200).json({ id: ref.id, status: 'NOT_FOUND', message: 'no such shift: nothing to cancel' });
      return;
    }
    deps.scheduler.track(ref, record);
    if (record.phase === 'CANCELED') deps.logger.info('shift cancelled', { shift: record.id, rollback: record.rollback?.result });
    sendStatus(res, 200, record);
  }));

  app.use((_req, _res, next) => {
    next(new HttpError(404, 'not_found', 'no such endpoint: see /openapi.json'));
  });

  // Errors become JSON with a message for people; stack traces only go to our own log.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    void _next;
    // Only a rejected create gets a cancelUrl, and only the no-op one: never another shift's.
    const rejectedCreate = req.method === 'POST' && req.path === '/v1/shifts';
    const { status, body } = errorAnswer(error, req.method, req.path, rejectedCreate);
    res.status(status).type('application/json').send(body);
  });

  /** An error as JSON with a message for people; stack traces only go to our own log. */
  const errorAnswer = (error: unknown, method: string, path: string, rejectedCreate = false) => {
    const http = toHttpError(error);
    if (http.status >= 500) deps.logger.error('request failed', { method, path, status: http.status, error: (error as Error)?.stack ?? String(error) });
    const body = JSON.stringify({
      error: { status: http.status, code: http.code, message: http.message, ...(http.problems.length ? { problems: http.problems } : {}) },
      ...(rejectedCreate && http.status < 500 ? { cancelUrl: `${deps.externalBaseUrl}${REJECTED_CREATE_CANCEL_PATH}` } : {}),
    });
    return { status: http.status, body };
  };

  /**
   * Status polls are nearly all the traffic, and express costs about 3x a plain handler per
   * request (measured: 159 vs 41 µs here). A well-formed, authenticated, authorized poll is
   * answered directly, with the same poll, headers and error bodies as the express route; anything
   * else (a bad token, path or account, a query string, a trailing slash, other letter case) goes
   * to express, whose answers and errors stay the reference.
   */
  const fastPoll = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'GET') return false;
    const match = STATUS_URL.exec(req.url ?? '');
    if (!match) return false;
    const principal = deps.authenticator.authenticate(req.headers.authorization);
    if (!principal) return false;
    let ref: ShiftRef;
    try {
      ref = { account: decodeURIComponent(match[1]), namespace: decodeURIComponent(match[2]), virtualService: decodeURIComponent(match[3]), id: decodeURIComponent(match[4]) };
      if (validateShiftPath(ref).length > 0) return false;
      authorize(principal, ref.account, ref.namespace);
    } catch {
      return false;
    }
    const answer = (status: number, body: string) => {
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }).end(body);
      deps.metrics.requests.inc({ route: 'status', code: String(status) });
    };
    poll(ref).then(
      (body) => answer(200, body),
      (error: unknown) => {
        const { status, body } = errorAnswer(error, 'GET', req.url ?? '');
        answer(status, body);
      },
    );
    return true;
  };

  return (req: IncomingMessage, res: ServerResponse) => {
    if (!fastPoll(req, res)) app(req, res);
  };
}

/** A status URL exactly as the create returned it: four segments, no query, no trailing slash. */
const STATUS_URL = /^\/v1\/shifts\/([^/?#]+)\/([^/?#]+)\/([^/?#]+)\/([^/?#]+)$/;

function parseJsonBody(req: Request): unknown {
  const text = typeof req.body === 'string' ? req.body : '';
  if (text.trim() === '') throw new HttpError(400, 'empty_body', 'the request body is empty: send the shift spec as JSON with Content-Type: application/json');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'invalid_json', `the request body is not valid JSON (${(error as Error).message}): send the shift spec as a JSON object`);
  }
}

function toHttpError(error: unknown): HttpError {
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
