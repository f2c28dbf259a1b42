/**
 * The HTTP API Orca's webhook stage calls. Thin: parse, authenticate, authorize, hand the spec
 * to the engine, and turn results and errors into JSON with the right status codes.
 */
import express, { NextFunction, Request, Response } from 'express';
import { IncomingMessage, ServerResponse } from 'http';
import { NormalizedShiftSpec, RESTART_TIME_HEADER, restartTimeFromHeader, validateShiftPath, validateShiftSpec } from '@istio-shift/core';
import { AccountRegistry } from '../accounts';
import { Principal, TokenAuthenticator } from '../auth';
import { ShiftEngine, ShiftRef, shiftIdFor } from '../engine/engine';
import { ShiftRecord } from '../engine/record';
import { StepScheduler } from '../engine/scheduler';
import { ProgressLookup } from '../engine/view';
import { Logger } from '../logger';
import { ServiceMetrics } from '../metrics';
import { Playground } from '../playground/routes';
import { openApiDocument } from './openapi';
import { Polls, STATUS_ROUTE } from './poll';
import { readiness } from './readiness';
import { HttpError, REJECTED_CREATE_CANCEL_PATH, Requests } from './requests';
import { TurnTaker } from './turns';

export { REJECTED_CREATE_CANCEL_PATH } from './requests';

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
  /** Name accounts and namespaces in `/metrics` (config `metrics.accountLabels`; default off). */
  metricsAccountLabels?: boolean;
  logger: Logger;
  externalBaseUrl: string;
  bodyLimitBytes: number;
  isReady: () => boolean;
  /** How often an account's expected 503s are logged (default 10 s). */
  outageLogIntervalMs?: number;
  /** The analysis runner's live progress of a step, for status bodies (view.ts). */
  analysisProgress?: ProgressLookup;
  /** Embedded mode's playground (page at `/`, its API authenticated); absent in cluster mode. */
  playground?: Playground;
}

type Handler = (req: Request, res: Response) => Promise<void> | void;

/** The service's request handler: express, with a direct path for well-formed status polls (poll.ts). */
export function createApp(deps: AppDependencies): (req: IncomingMessage, res: ServerResponse) => void {
  const app = express();
  // Creates and cancels of a burst take turns with probes and polls (see turns.ts).
  const turns = new TurnTaker();
  app.disable('x-powered-by');
  app.set('etag', false);

  // Authentication, authorization, error answers and the request counter: one module for every path.
  const requests = new Requests(deps);
  const polls = new Polls({ engine: deps.engine, scheduler: deps.scheduler, requests, externalBaseUrl: deps.externalBaseUrl, analysisProgress: deps.analysisProgress });

  const refOf = (record: ShiftRecord): ShiftRef => ({ account: record.spec.account, namespace: record.spec.namespace, virtualService: record.spec.virtualService, id: record.id });
  const sendStatus = (res: Response, code: number, record: ShiftRecord, attempts?: ShiftRecord[]) => {
    res.status(code).type('application/json').send(polls.statusBody(record, attempts));
  };

  /** Wraps a handler: counts the request and sends errors through the error middleware. */
  const route = (name: string, handler: Handler) => async (req: Request, res: Response, next: NextFunction) => {
    res.on('finish', () => requests.count(name, res.statusCode));
    try {
      await handler(req, res);
    } catch (error) {
      next(error);
    }
  };

  const principalOf = (res: Response) => res.locals.principal as Principal;
  /** Authorizes, and remembers the account for the error's log line. */
  const authorize = (res: Response, account: string, namespace: string) => {
    requests.authorize(principalOf(res), account, namespace);
    res.locals.account = account;
  };

  // Health probes are the only unauthenticated endpoints.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const answer = await readiness(deps.isReady, deps.accounts);
    res.status(answer.code).json(answer.body);
  });

  // Status polls the direct path left to express (a query string, a trailing slash, other letter
  // case, HEAD) get the same answer, authentication included (poll.ts).
  app.get('/v1/shifts/:account/:namespace/:virtualService/:id', (req, res) => {
    const segments = { account: String(req.params.account), namespace: String(req.params.namespace), virtualService: String(req.params.virtualService), id: String(req.params.id) };
    void polls.answer(segments, req.get('authorization'), req.originalUrl).then((answer) => requests.send(res, STATUS_ROUTE, answer)).catch(() => res.destroy());
  });

  // The playground's static page (embedded mode only) needs no token; every call it makes does.
  if (deps.playground) app.use(deps.playground.page);

  app.use((req, res, next) => {
    res.locals.principal = requests.authenticate(req.get('authorization'));
    next();
  });

  // Orca sends application/json (set in customHeaders), but a preconfigured string payload
  // arrives as text/plain: read any body as text and parse it ourselves for clear errors.
  // GETs carry no body, so they skip the reader's work.
  const readBody = express.text({ type: () => true, limit: deps.bodyLimitBytes });
  app.use((req, res, next) => (req.method === 'GET' || req.method === 'HEAD' ? next() : readBody(req, res, next)));

  if (deps.playground) {
    app.use(deps.playground.api({ principalAccounts: (res) => principalOf(res).accounts, authorize, route }));
  }

  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument(deps.externalBaseUrl));
  });

  app.get('/metrics', route('metrics', async (_req, res) => {
    deps.metrics.scheduled.set(deps.scheduler.size);
    deps.metrics.setWatches(deps.accounts.watches(), deps.metricsAccountLabels ?? false);
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
    // The attempt: the restart time Orca evaluated for this create (core's RESTART_TIME_HEADER),
    // else the payload's restartedAt (fixed at the stage's first start in a real Orca).
    const restart = restartTimeFromHeader(req.get(RESTART_TIME_HEADER));
    if (!restart.ok) throw new HttpError(400, 'invalid_restart_header', restart.problem);
    const spec = restart.restartedAt === undefined ? result.spec : { ...result.spec, restartedAt: restart.restartedAt };
    // Rejected from here on, the answer names this stage's first attempt's cancelUrl: Orca keeps the
    // value it evaluates from this answer, and after a "Restart stage" a cancel of the new attempt
    // goes there (engine.cancel sends it on to the running attempt). Never another stage's shift.
    if (spec.executionId && spec.stageRef) {
      res.locals.rejectedCancelUrl = polls.urlsFor({ account: spec.account, namespace: spec.namespace, virtualService: spec.virtualService, id: shiftIdFor({ ...spec, restartedAt: 0 }) }).cancelUrl;
    }
    authorize(res, spec.account, spec.namespace);
    if (deps.preflight) await deps.preflight(spec);
    const { record, attempts, created } = await deps.engine.create(spec);
    const ref = refOf(record);
    deps.scheduler.track(ref, record);
    if (created) {
      deps.metrics.shiftsStarted.inc();
      deps.logger.info('shift started', { shift: record.id, account: spec.account, virtualService: `${spec.namespace}/${spec.virtualService}`, executionId: spec.executionId, stageRef: spec.stageRef, principal: principalOf(res).name });
    }
    res.location(polls.urlsFor(ref).statusUrl);
    sendStatus(res, created ? 202 : 200, record, attempts);
  }));

  /** The shift a URL names, checked with the create body's rules before anything else happens. */
  const refFromPath = (req: Request, res: Response): ShiftRef => {
    const ref = { account: String(req.params.account), namespace: String(req.params.namespace), virtualService: String(req.params.virtualService), id: String(req.params.id) };
    const problems = validateShiftPath(ref);
    if (problems.length) {
      throw new HttpError(400, 'invalid_path', `the shift URL is invalid: ${problems.map((p) => p.message).join('; ')}; use the statusUrl or cancelUrl the create returned`, problems);
    }
    authorize(res, ref.account, ref.namespace);
    return ref;
  };

  // Orca calls `${webhook.body.cancelUrl}` after every TERMINAL stage, a rejected create included.
  // A rejected create's body names this endpoint, so the expression always resolves (no "Illegal
  // character in path" exception in the stage) and the call provably does nothing.
  app.post(REJECTED_CREATE_CANCEL_PATH, route('cancel', async (_req, res) => {
    res.status(200).json({ status: 'NOT_FOUND', message: 'the create was rejected, so no shift started: nothing to cancel' });
  }));

  app.post('/v1/shifts/:account/:namespace/:virtualService/:id/cancel', route('cancel', async (req, res) => {
    await turns.turn();
    const ref = refFromPath(req, res);
    // May be a later attempt of the same stage than the one named (engine.cancel).
    const record = await deps.engine.cancel(ref);
    if (!record) {
      // Orca calls cancel after any TERMINAL outcome, even a rejected create: nothing to do is fine.
      res.status(200).json({ id: ref.id, status: 'NOT_FOUND', message: 'no such shift: nothing to cancel' });
      return;
    }
    deps.scheduler.track(refOf(record), record);
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
    const answer = requests.errorAnswer(error, { method: req.method, path: req.path, account: res.locals.account as string | undefined, rejectedCreate, rejectedCancelUrl: res.locals.rejectedCancelUrl as string | undefined });
    res.status(answer.status).set(answer.headers ?? {}).type('application/json').send(answer.body);
  });

  return (req: IncomingMessage, res: ServerResponse) => {
    if (!polls.direct(req, res)) app(req, res);
  };
}

function parseJsonBody(req: Request): unknown {
  const text = typeof req.body === 'string' ? req.body : '';
  if (text.trim() === '') throw new HttpError(400, 'empty_body', 'the request body is empty: send the shift spec as JSON with Content-Type: application/json');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'invalid_json', `the request body is not valid JSON (${(error as Error).message}): send the shift spec as a JSON object`);
  }
}
