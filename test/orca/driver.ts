/**
 * A test driver that runs a preconfigured webhook stage the way Orca does, so the stage service can
 * be tested exactly as Orca calls it (Orca itself cannot run here).
 *
 * Ground truth: ../shared/research/spinnaker-plugins.md (relative to the repository root, outside
 * it) §4 and "Orca webhook behaviours that a called service must survive" (orca @2fdb327),
 * cross-checked against Orca's PreconfiguredWebhookStage, WebhookService, CreateWebhookTask +
 * WebhookResponseProcessor, WebhookStatusCheckUrlRetriever and MonitorWebhookTask. What it does:
 *
 * 1. Plan (StartStageHandler.plan): evaluate the whole stage context and KEEP the evaluated values
 *    (ExpressionAware.withMergedContext assigns them to the context, which is then stored), then
 *    merge the preconfigured entry into it as text (PreconfiguredWebhookStage.taskGraph: every
 *    non-null preconfigured field wins; null ones keep the stage's value). So an expression in the
 *    stage's own payload is evaluated once, here, and never again; the preconfigured fields are
 *    evaluated afresh by each task. `refId`/`requisiteStageRefIds` are not context keys.
 * 2. Before every task run (RunTaskHandler: `task.execute(stage.withMergedContext())`) and when a
 *    task has ended (CompleteTaskHandler) the whole context is evaluated again and the evaluated
 *    values are kept (stored with the task's result).
 * 3. createWebhook: send the request, then retry (the same request) every `createRetryBackoffMs`
 *    on 5xx/429 until `createRetryTimeoutMs`; fail-fast codes, other 4xx, and connection errors
 *    on a non-GET fail at once. Resolve the status URL.
 * 4. monitorWebhook: GET the status URL with the same headers, every `pollIntervalMs(elapsed)`,
 *    until a status maps to SUCCEEDED / CANCELED / TERMINAL or the monitor times out.
 * 5. Cancel: best-effort request to `cancelEndpoint` AS STORED (no evaluation: MonitorWebhookTask
 *    .onCancel and WebhookStage.onFailureStages map the stored context) on a user cancel during
 *    monitoring, on a CANCELED status, and whenever the stage ends TERMINAL.
 * 6. Restart (RestartStageHandler): the stored context, `exception` moved into `restartDetails`
 *    with `restartedBy` and `restartTime`; then planned again (1.) and the tasks run anew.
 *
 * Real timers are used between attempts and polls: that is how Orca schedules them (queue delays).
 */
import { ExpressionError, evaluateValue } from './spel';
import { ParsedJson, JsonPathSyntaxError, parseJson, pathKey, readJsonPath } from './json';
import {
  JavaException,
  TransportOptions,
  UrlRestrictions,
  WireResponse,
  checkDefaultUrlRestrictions,
  decodeJavaString,
  encodeJavaString,
  headerValue,
  isJsonCompatible,
  parseMediaType,
  reasonPhrase,
  sendWire,
  singleValueMap,
  statusName,
  validateUri,
} from './http';

export { UnsupportedExpressionError } from './spel';
export { checkDefaultUrlRestrictions } from './http';

// ---------------------------------------------------------------------------------------------
// Inputs

/** One `webhook.preconfigured[]` entry, as parsed from YAML (after Spring placeholder resolution). */
export interface PreconfiguredWebhook {
  type: string;
  label?: string;
  description?: string;
  enabled?: boolean;
  parameters?: unknown[];
  url?: string | null;
  customHeaders?: Record<string, string | string[]> | null;
  /** Newer Orca (spinnaker/spinnaker#7421): sent with every request, never stored in the context. */
  sensitiveHeaders?: Record<string, string | string[]> | null;
  parameterValues?: Record<string, string> | null;
  parameterData?: Record<string, Record<string, string>> | null;
  method?: string | null;
  /** A String in Orca's PreconfiguredWebhook (a YAML map here would stop Orca from starting). */
  payload?: string | null;
  failFastStatusCodes?: number[] | null;
  waitForCompletion?: boolean | null;
  statusUrlResolution?: 'getMethod' | 'locationHeader' | 'webhookResponse' | null;
  statusUrlJsonPath?: string | null;
  statusJsonPath?: string | null;
  progressJsonPath?: string | null;
  successStatuses?: string | null;
  canceledStatuses?: string | null;
  terminalStatuses?: string | null;
  permissions?: Record<string, string[]> | null;
  signalCancellation?: boolean | null;
  cancelEndpoint?: string | null;
  cancelMethod?: string | null;
  cancelPayload?: string | null;
  [unknownKey: string]: unknown;
}

/** The stage JSON as Deck saves it in the pipeline. */
export interface StageJson {
  type: string;
  alias?: string;
  refId?: string;
  name?: string;
  requisiteStageRefIds?: string[];
  stageTimeoutMs?: number;
  payload?: unknown;
  [key: string]: unknown;
}

export interface ExecutionInfo {
  id: string;
  application: string;
  trigger?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface DriverOptions {
  /** Orca: 10 s (CreateWebhookTask backoff). */
  createRetryBackoffMs?: number;
  /** Orca: 5 min (CreateWebhookTask timeout). */
  createRetryTimeoutMs?: number;
  /** Orca: 1 s while the monitor task has run for up to 1 min, then 15 s. */
  pollIntervalMs?: (elapsedMs: number) => number;
  /** Orca: 1 h, replaced by the stage's `stageTimeoutMs`. Setting this option overrides both. */
  monitorTimeoutMs?: number;
  /** Socket timeouts (research: Orca 5 s connect, 120 s read unless `webhook.*TimeoutMs` are set). */
  connectTimeoutMs?: number;
  readTimeoutMs?: number;
  /** Orca's `webhook.defaultRetryStatusCodes` (default [429]). */
  defaultRetryStatusCodes?: number[];
  /** Apply Orca's default user-configured-url-restrictions host rules (off: tests use 127.0.0.1). */
  urlRestrictions?: UrlRestrictions | false;
  tls?: TransportOptions['tls'];
  /** Called after each create attempt has been processed (awaited before the next step). */
  onCreateAttempt?: (event: CreateAttemptEvent, stage: RunningStage) => void | Promise<void>;
  /** Called after each poll has been processed (awaited before the next step). */
  onPoll?: (event: PollEvent, stage: RunningStage) => void | Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Outputs

export type TaskStatus = 'RUNNING' | 'SUCCEEDED' | 'TERMINAL' | 'CANCELED';
export type StageStatus = 'SUCCEEDED' | 'TERMINAL' | 'CANCELED';

export interface WebhookMonitorContext {
  statusCode?: string;
  statusCodeValue?: number;
  body?: unknown;
  headers?: Record<string, string>;
  progressMessage?: string;
  percentComplete?: number;
  resolvedValue?: unknown;
  error?: string;
  pastStatusCodes?: number[];
}

export interface WebhookContext {
  statusCode?: string;
  statusCodeValue?: number;
  headers?: Record<string, string>;
  body?: unknown;
  statusEndpoint?: string;
  error?: string;
  monitor?: WebhookMonitorContext;
}

/** The stage context (merged stage + preconfigured fields, plus what the tasks wrote). */
export interface StageContext {
  statusEndpoint?: string;
  webhook?: WebhookContext;
  exception?: { exceptionType: string; operation: string; shouldRetry: boolean; details: { error: string; errors: string[] } };
  expressionEvaluationSummary?: Record<string, Array<{ description: string; level: 'ERROR' }>>;
  [key: string]: unknown;
}

export interface HttpExchange {
  phase: 'create' | 'monitor' | 'cancel';
  method: string;
  url: string;
  /** False when Orca would not have sent it (URL rejected before the request). */
  sent: boolean;
  /** Header lines sent; the Authorization value is replaced by `<scheme> <redacted>`. */
  requestHeaders: Array<[string, string]>;
  requestBody?: string;
  status?: number;
  responseHeaders?: Record<string, string>;
  responseBody?: string;
  error?: string;
  startedAtMs: number;
  durationMs: number;
}

export interface CancelRecord {
  reason: 'user' | 'canceledStatus' | 'terminal';
  method: string;
  /** The endpoint after SpEL evaluation (may still contain `${...}` if it could not be resolved). */
  url: string;
  sent: boolean;
  status?: number;
  error?: string;
}

export interface CreateAttemptEvent {
  attempt: number;
  taskStatus: TaskStatus;
  statusCode?: number;
  webhook?: WebhookContext;
}

export interface PollEvent {
  poll: number;
  /** Time since the monitor task started. */
  elapsedMs: number;
  taskStatus: TaskStatus;
  statusCode?: number;
  body?: unknown;
  monitor?: WebhookMonitorContext;
  context: StageContext;
}

export interface StageResult {
  status: StageStatus;
  context: StageContext;
  exchanges: HttpExchange[];
  /** Create requests actually sent. */
  createRequests: number;
  /** Status GETs actually sent. */
  polls: number;
  cancelRequests: CancelRecord[];
  expressionErrors: ExpressionError[];
  durationMs: number;
}

export interface RunningStage {
  /** Like pressing "Cancel execution" in Deck. No-op once the stage has ended. */
  cancel(): void;
  readonly phase: 'create' | 'monitor' | 'done';
  readonly context: StageContext;
  readonly exchanges: readonly HttpExchange[];
  readonly result: Promise<StageResult>;
}

// ---------------------------------------------------------------------------------------------
// Planning: the preconfigured merge

/** PreconfiguredWebhook fields that PreconfiguredWebhookStage merges into the context. */
export const MERGED_FIELDS = [
  'url',
  'customHeaders',
  'parameterValues',
  'parameterData',
  'method',
  'payload',
  'failFastStatusCodes',
  'waitForCompletion',
  'statusUrlResolution',
  'statusUrlJsonPath',
  'statusJsonPath',
  'progressJsonPath',
  'successStatuses',
  'canceledStatuses',
  'terminalStatuses',
  'permissions',
  'signalCancellation',
  'cancelEndpoint',
  'cancelMethod',
  'cancelPayload',
] as const;

export class PreconfiguredConfigError extends Error {}

const STRING_FIELDS = [
  'url', 'payload', 'statusUrlJsonPath', 'statusJsonPath', 'progressJsonPath', 'successStatuses',
  'canceledStatuses', 'terminalStatuses', 'cancelEndpoint', 'cancelPayload',
] as const;
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'];

function bindHeaders(field: string, v: unknown): Record<string, string[]> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new PreconfiguredConfigError(`${field} must be a map`);
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(v)) {
    // Spring binds a scalar to List<String> by splitting on commas.
    if (Array.isArray(value)) out[name] = value.map(String);
    else if (value !== null && typeof value === 'object') throw new PreconfiguredConfigError(`${field}.${name} must be a list of strings`);
    else out[name] = String(value).split(',').map((s) => s.trim());
  }
  return out;
}

/**
 * Binds a YAML-parsed entry the way Spring binds WebhookProperties.PreconfiguredWebhook: scalars
 * become Strings, enums are matched leniently, a YAML map where a String is expected is an error.
 */
export function bindPreconfigured(entry: PreconfiguredWebhook): PreconfiguredWebhook {
  const out: PreconfiguredWebhook = { ...entry };
  for (const f of STRING_FIELDS) {
    const v = entry[f];
    if (v === undefined || v === null) continue;
    if (typeof v === 'object') throw new PreconfiguredConfigError(`${f} must be a string in webhook.preconfigured (Spring cannot bind a YAML map/list to String)`);
    out[f] = String(v);
  }
  for (const f of ['method', 'cancelMethod'] as const) {
    const v = entry[f];
    if (v === undefined || v === null) continue;
    const m = String(v).toUpperCase();
    if (!HTTP_METHODS.includes(m)) throw new PreconfiguredConfigError(`${f}: unknown HTTP method ${String(v)}`);
    out[f] = m;
  }
  if (entry.statusUrlResolution != null) {
    const norm = String(entry.statusUrlResolution).replace(/[-_]/g, '').toLowerCase();
    const match = (['getMethod', 'locationHeader', 'webhookResponse'] as const).find((r) => r.toLowerCase() === norm);
    if (!match) throw new PreconfiguredConfigError(`statusUrlResolution: unknown value ${String(entry.statusUrlResolution)}`);
    out.statusUrlResolution = match;
  }
  if (entry.customHeaders != null) out.customHeaders = bindHeaders('customHeaders', entry.customHeaders);
  if (entry.sensitiveHeaders != null) out.sensitiveHeaders = bindHeaders('sensitiveHeaders', entry.sensitiveHeaders);
  if (entry.waitForCompletion != null) out.waitForCompletion = String(entry.waitForCompletion).toLowerCase() === 'true';
  if (entry.failFastStatusCodes != null) out.failFastStatusCodes = entry.failFastStatusCodes.map(Number);
  return out;
}

/** The stage's context before planning: the stage JSON without refId and requisiteStageRefIds. */
function stageContextOf(stage: StageJson): StageContext {
  const copy = JSON.parse(JSON.stringify(stage)) as StageJson;
  delete copy.refId;
  delete copy.requisiteStageRefIds;
  return copy;
}

/** The stage context Orca plans: stage JSON (minus refId etc.) with the preconfigured fields merged. */
export function mergePreconfigured(entry: PreconfiguredWebhook, stage: StageJson): StageContext {
  return mergeInto(stageContextOf(stage), entry);
}

/** PreconfiguredWebhookStage.overrideIfNotSetInContextAndOverrideDefault: mutates and returns `context`. */
function mergeInto(context: StageContext, entry: PreconfiguredWebhook): StageContext {
  const pre = bindPreconfigured(entry);
  for (const f of MERGED_FIELDS) {
    const value = pre[f];
    if (context[f] === undefined || context[f] === null || (value !== undefined && value !== null)) {
      context[f] = value === undefined ? null : JSON.parse(JSON.stringify(value));
    }
  }
  return context;
}

// ---------------------------------------------------------------------------------------------
// The run

const DEFAULTS: Required<Pick<DriverOptions, 'createRetryBackoffMs' | 'createRetryTimeoutMs' | 'pollIntervalMs' | 'monitorTimeoutMs' | 'connectTimeoutMs' | 'readTimeoutMs' | 'defaultRetryStatusCodes'>> = {
  createRetryBackoffMs: 10_000,
  createRetryTimeoutMs: 300_000,
  pollIntervalMs: (elapsedMs: number) => (elapsedMs > 60_000 ? 15_000 : 1_000),
  monitorTimeoutMs: 3_600_000,
  connectTimeoutMs: 5_000,
  readTimeoutMs: 120_000,
  defaultRetryStatusCodes: [429],
};

const HEADER_DENY_LIST = ['X-SPINNAKER-USER', 'X-SPINNAKER-ACCOUNT', 'X-SPINNAKER-USER-ORIGIN', 'X-SPINNAKER-REQUEST-ID', 'X-SPINNAKER-EXECUTION-ID'];

// Orca's own record of failed expressions: the driver writes it at the end and never evaluates it.
const SUMMARY_KEY = 'expressionEvaluationSummary';

type Body = { kind: 'none' } | { kind: 'value'; value: unknown; parsed?: ParsedJson };

interface TaskOutcome {
  status: TaskStatus;
  /** Top-level keys to put into the context (Orca's TaskResult.context). */
  context?: Partial<StageContext>;
  statusCode?: number;
  body?: unknown;
}

class TaskException extends Error {
  constructor(
    readonly javaClass: string,
    message: string,
  ) {
    super(message);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Jackson with NON_NULL inclusion: null map entries are not written. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = dropNulls(x);
    return out;
  }
  return v;
}

/** Keeps the Authorization scheme (e.g. `Bearer`) and drops the credential. */
const redact = (headers: Array<[string, string]>): Array<[string, string]> =>
  headers.map(([n, v]) => {
    if (n.toLowerCase() !== 'authorization') return [n, v];
    const space = v.trim().indexOf(' ');
    return [n, space > 0 ? `${v.trim().slice(0, space)} <redacted>` : '<redacted>'];
  });

const sleep = (ms: number, wake: Promise<void>): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, Math.max(0, ms));
    void wake.then(() => {
      clearTimeout(t);
      resolve();
    });
  });

class StageRun implements RunningStage {
  phase: 'create' | 'monitor' | 'done' = 'create';
  readonly context: StageContext;
  readonly exchanges: HttpExchange[] = [];
  readonly result: Promise<StageResult>;
  private readonly cancelRecords: CancelRecord[] = [];
  private readonly expressionErrors = new Map<string, ExpressionError>();
  private readonly opts: typeof DEFAULTS & DriverOptions;
  private readonly started = Date.now();
  private canceled = false;
  private wakeUp!: () => void;
  private readonly woken: Promise<void>;
  private readonly sensitiveHeaders: Record<string, string[]>;
  private readonly explicitMonitorTimeoutMs: number | undefined;
  private readonly preconfigured: PreconfiguredWebhook;

  constructor(
    preconfigured: PreconfiguredWebhook,
    stage: StageJson,
    private readonly execution: ExecutionInfo,
    options: DriverOptions,
    restartOf?: StageRestart,
  ) {
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as DriverOptions;
    this.opts = { ...DEFAULTS, ...given };
    this.explicitMonitorTimeoutMs = options.monitorTimeoutMs;
    this.preconfigured = preconfigured;
    this.context = restartOf ? restartedContext(restartOf) : stageContextOf(stage);
    this.sensitiveHeaders = (bindPreconfigured(preconfigured).sensitiveHeaders as Record<string, string[]> | undefined) ?? {};
    this.woken = new Promise((resolve) => (this.wakeUp = resolve));
    this.result = this.run();
  }

  cancel(): void {
    if (this.phase === 'done' || this.canceled) return;
    this.canceled = true;
    this.wakeUp();
  }

  // --- orchestration ------------------------------------------------------------------------

  private async run(): Promise<StageResult> {
    this.plan();
    const status = await this.runTasks();
    this.phase = 'done';
    const exprSummary: StageContext['expressionEvaluationSummary'] = {};
    for (const e of this.expressionErrors.values()) exprSummary[e.expression] = [{ description: e.description, level: 'ERROR' }];
    // Orca drops an entry once its expression evaluates (withMergedContext's clean-up).
    if (this.expressionErrors.size > 0) this.context.expressionEvaluationSummary = exprSummary;
    else delete this.context.expressionEvaluationSummary;
    return {
      status,
      context: this.context,
      exchanges: this.exchanges,
      createRequests: this.exchanges.filter((x) => x.phase === 'create' && x.sent).length,
      polls: this.exchanges.filter((x) => x.phase === 'monitor' && x.sent).length,
      cancelRequests: this.cancelRecords,
      expressionErrors: [...this.expressionErrors.values()],
      durationMs: Date.now() - this.started,
    };
  }

  private async runTasks(): Promise<StageStatus> {
    // createWebhook
    const createStart = Date.now();
    for (let attempt = 1; ; attempt++) {
      if (this.canceled) return 'CANCELED'; // no task with onCancel is running: nothing is sent
      const timeout = this.timedOut('createWebhook', createStart, this.opts.createRetryTimeoutMs, attempt > 1);
      if (timeout) return this.fail(timeout);
      const outcome = await this.runTask('createWebhook', () => this.createWebhook());
      if (this.opts.onCreateAttempt) {
        await this.opts.onCreateAttempt(
          { attempt, taskStatus: outcome.status, statusCode: outcome.statusCode, webhook: this.context.webhook },
          this,
        );
      }
      if (outcome.status === 'RUNNING') {
        if (this.canceled) return 'CANCELED';
        await sleep(this.opts.createRetryBackoffMs, this.woken);
        continue;
      }
      if (this.canceled && outcome.status === 'SUCCEEDED') return 'CANCELED';
      if (outcome.status === 'TERMINAL') return this.fail();
      if (outcome.status === 'CANCELED') return 'CANCELED';
      break;
    }
    if (this.context.waitForCompletion !== true) return 'SUCCEEDED';

    // monitorWebhook
    this.phase = 'monitor';
    const monitorStart = Date.now();
    for (let poll = 1; ; poll++) {
      if (this.canceled) {
        await this.sendCancel('user');
        return 'CANCELED';
      }
      const timeout = this.timedOut('monitorWebhook', monitorStart, this.monitorTimeoutMs(), true);
      if (timeout) return this.fail(timeout);
      const outcome = await this.runTask('monitorWebhook', () => this.monitorWebhook());
      if (this.opts.onPoll) {
        await this.opts.onPoll(
          {
            poll,
            elapsedMs: Date.now() - monitorStart,
            taskStatus: outcome.status,
            statusCode: outcome.statusCode,
            body: outcome.body,
            monitor: this.context.webhook?.monitor,
            context: this.context,
          },
          this,
        );
      }
      switch (outcome.status) {
        case 'SUCCEEDED':
          return 'SUCCEEDED';
        case 'CANCELED':
          await this.sendCancel('canceledStatus');
          return 'CANCELED';
        case 'TERMINAL':
          return this.fail();
        case 'RUNNING':
          if (this.canceled) continue;
          await sleep(this.opts.pollIntervalMs(Date.now() - monitorStart), this.woken);
      }
    }
  }

  /** The monitor task's own timeout: the option if given, else `stageTimeoutMs`, else 1 h. */
  private monitorTimeoutMs(): number {
    if (this.explicitMonitorTimeoutMs !== undefined) return this.explicitMonitorTimeoutMs;
    const stageTimeout = Number(this.context.stageTimeoutMs);
    return Number.isFinite(stageTimeout) && stageTimeout > 0 ? stageTimeout : DEFAULTS.monitorTimeoutMs;
  }

  /**
   * Orca checks timeouts before running a task again: the task's own timeout (from the task's
   * start) and, when `stageTimeoutMs` is set, the stage's (from the stage's start).
   */
  private timedOut(task: string, taskStart: number, taskTimeoutMs: number, checkTask: boolean): TaskException | null {
    const now = Date.now();
    const stageTimeout = Number(this.context.stageTimeoutMs);
    if (Number.isFinite(stageTimeout) && stageTimeout > 0 && now - this.started > stageTimeout) {
      return new TaskException('com.netflix.spinnaker.orca.exceptions.TimeoutException', `Stage ${String(this.context.name ?? this.context.type)} timed out after ${now - this.started} ms`);
    }
    if (checkTask && now - taskStart >= taskTimeoutMs) {
      return new TaskException('com.netflix.spinnaker.orca.exceptions.TimeoutException', `Task ${task} timed out after ${now - taskStart} ms (timeout ${taskTimeoutMs} ms)`);
    }
    return null;
  }

  /** Runs one task execution: SpEL first, then the task; an exception fails it like RunTaskHandler. */
  private async runTask(operation: string, body: () => Promise<TaskOutcome>): Promise<TaskOutcome> {
    this.evaluateExpressions();
    let outcome: TaskOutcome;
    try {
      outcome = await body();
    } catch (e) {
      if (!(e instanceof TaskException)) throw e;
      this.recordException(operation, e);
      return { status: 'TERMINAL' };
    }
    if (outcome.context) Object.assign(this.context, outcome.context);
    // CompleteTaskHandler: a task that ended (not one to run again) has the context evaluated and
    // stored once more, with what the task wrote (so `${webhook.body.cancelUrl}` resolves here).
    if (outcome.status !== 'RUNNING') this.evaluateExpressions();
    return outcome;
  }

  private recordException(operation: string, e: TaskException): void {
    this.context.exception = {
      exceptionType: e.javaClass.split('.').pop() as string,
      operation,
      shouldRetry: false,
      details: { error: 'Unexpected Task Failure', errors: [e.message] },
    };
  }

  private async fail(exception?: TaskException): Promise<StageStatus> {
    if (exception) this.recordException(this.phase === 'monitor' ? 'monitorWebhook' : 'createWebhook', exception);
    // WebhookStage.onFailureStages -> cancelWebhook
    await this.sendCancel('terminal');
    return 'TERMINAL';
  }

  /**
   * StartStageHandler.plan: the context is evaluated and kept as evaluated (what the stage itself
   * wrote is fixed from here on), then the preconfigured fields are merged in unevaluated.
   */
  private plan(): void {
    this.evaluateExpressions();
    mergeInto(this.context, this.preconfigured);
  }

  /** Orca re-evaluates the whole stage context before every task run and keeps the evaluated values. */
  private evaluateExpressions(): void {
    const root: Record<string, unknown> = {
      ...this.context,
      execution: this.execution,
      trigger: this.execution.trigger ?? {},
      parameters: (this.execution.trigger?.parameters as Record<string, unknown> | undefined) ?? {},
    };
    // An expression that now resolves drops its earlier error (Orca cleans up its summary the same
    // way), so the errors are those of the latest pass.
    this.expressionErrors.clear();
    for (const f of Object.keys(this.context)) {
      if (f === SUMMARY_KEY || this.context[f] === undefined || this.context[f] === null) continue;
      const r = evaluateValue(this.context[f], root);
      this.context[f] = r.value;
      for (const err of r.errors) this.expressionErrors.set(err.expression, err);
    }
  }

  // --- requests -------------------------------------------------------------------------------

  private headerLines(): Array<[string, string]> {
    const lines: Array<[string, string]> = [];
    const add = (headers: Record<string, unknown> | null | undefined) => {
      for (const [name, value] of Object.entries(headers ?? {})) {
        if (HEADER_DENY_LIST.includes(name.toUpperCase())) continue;
        for (const v of Array.isArray(value) ? value : [value]) lines.push([name, String(v)]);
      }
    };
    add(this.context.customHeaders as Record<string, unknown> | null);
    add(this.sensitiveHeaders);
    return lines;
  }

  /**
   * Writes a body the way RestTemplate's converters do: a String raw (charset from Content-Type,
   * UTF-8 for JSON types, else ISO-8859-1; default Content-Type text/plain;charset=ISO-8859-1),
   * a Map/List as JSON via Jackson (null entries dropped).
   */
  private encodeBody(payload: unknown, headers: Array<[string, string]>): { bytes: Buffer; charset: string } | undefined {
    if (payload === null || payload === undefined) return undefined;
    const declared = headerValue(headers, 'Content-Type');
    const media = parseMediaType(declared);
    if (typeof payload === 'string') {
      if (!declared) headers.push(['Content-Type', 'text/plain;charset=ISO-8859-1']);
      const charset = media?.charset ?? (isJsonCompatible(media) ? 'UTF-8' : 'ISO-8859-1');
      return { bytes: encodeJavaString(payload, charset), charset };
    }
    if (declared && !isJsonCompatible(media)) {
      if (media?.type === 'application/x-www-form-urlencoded') {
        throw new Error('the Orca driver does not implement MapToStringHttpMessageConverter (form-urlencoded payloads)');
      }
      throw new JavaException(
        'org.springframework.web.client.RestClientException',
        `No HttpMessageConverter for java.util.LinkedHashMap and content type "${declared}"`,
        'restClient',
      );
    }
    if (!declared) headers.push(['Content-Type', 'application/json']);
    return { bytes: Buffer.from(JSON.stringify(dropNulls(payload)), 'utf8'), charset: 'UTF-8' };
  }

  /** Reads a 2xx/3xx body like RestTemplate with Object.class: JSON types via Jackson, else a String. */
  private decodeBody(res: WireResponse): Body {
    if (res.body.length === 0) return { kind: 'none' };
    const media = parseMediaType(headerValue(res.headers, 'Content-Type'));
    if (isJsonCompatible(media)) {
      const text = decodeJavaString(res.body, media?.charset ?? 'UTF-8');
      try {
        const parsed = parseJson(text);
        return { kind: 'value', value: parsed.value, parsed };
      } catch (e) {
        throw new JavaException(
          'org.springframework.http.converter.HttpMessageNotReadableException',
          `JSON parse error: ${(e as Error).message}`,
          'restClient',
        );
      }
    }
    return { kind: 'value', value: decodeJavaString(res.body, media?.charset ?? 'ISO-8859-1') };
  }

  /** Validates, sends and logs one request. Rejects with JavaException like RestTemplate would. */
  private async exchange(
    phase: HttpExchange['phase'],
    method: string,
    url: string,
    payload: unknown,
  ): Promise<WireResponse> {
    const headers = this.headerLines();
    const entry: HttpExchange = { phase, method, url, sent: false, requestHeaders: [], startedAtMs: Date.now() - this.started, durationMs: 0 };
    this.exchanges.push(entry);
    const t0 = Date.now();
    try {
      const parsed = validateUri(url.trim());
      if (this.opts.urlRestrictions) {
        const restricted = checkDefaultUrlRestrictions(url.trim(), this.opts.urlRestrictions);
        if (restricted) throw new JavaException('java.lang.IllegalArgumentException', restricted, 'illegalArgument');
      }
      if (!headerValue(headers, 'Accept')) headers.push(['Accept', 'application/json, application/*+json, text/plain, */*']);
      const body = this.encodeBody(payload, headers);
      entry.requestHeaders = redact(headers);
      if (body !== undefined) entry.requestBody = decodeJavaString(body.bytes, body.charset);
      entry.sent = true;
      const res = await sendWire(
        { method, url: parsed, headers, body: body?.bytes },
        { connectTimeoutMs: this.opts.connectTimeoutMs, readTimeoutMs: this.opts.readTimeoutMs, tls: this.opts.tls },
      );
      entry.status = res.status;
      entry.responseHeaders = singleValueMap(res.headers);
      entry.responseBody = res.body.toString('utf8');
      return res;
    } catch (e) {
      entry.error = e instanceof JavaException ? e.toString() : String(e);
      throw e;
    } finally {
      entry.durationMs = Date.now() - t0;
    }
  }

  // --- createWebhook --------------------------------------------------------------------------

  private async createWebhook(): Promise<TaskOutcome> {
    const c = this.context;
    const url = String(c.url ?? '');
    const method = String(c.method ?? 'POST').toUpperCase();
    if (!url) throw new TaskException('com.netflix.spinnaker.kork.exceptions.SpinnakerException', 'Unable to determine rest template to call webhook');
    let res: WireResponse;
    let body: Body;
    try {
      res = await this.exchange('create', method, url, c.payload);
      body = res.status >= 400 ? { kind: 'none' } : this.decodeBody(res);
    } catch (e) {
      if (!(e instanceof JavaException)) throw e;
      return this.createClientException(e, method, url);
    }
    const webhook: WebhookContext = { statusCode: statusName(res.status), statusCodeValue: res.status };
    if (res.headers.length > 0) webhook.headers = singleValueMap(res.headers);

    if (res.status >= 400) {
      // HttpStatusCodeException: the body is kept, parsed if it looks like JSON.
      const text = res.body.toString('utf8');
      if (text) webhook.body = processResponseBodyAsJson(text);
      const failFast = (c.failFastStatusCodes as number[] | null) ?? [504];
      const retryCodes = [...this.opts.defaultRetryStatusCodes, ...((c.webhookRetryStatusCodes as number[] | undefined) ?? [])];
      let status: TaskStatus;
      if (failFast.includes(res.status)) {
        webhook.error = `Received status code ${res.status}, which is configured to fail fast, terminating stage for pipeline ${this.execution.id} to ${url}`;
        status = 'TERMINAL';
      } else if (res.status >= 500 || retryCodes.includes(res.status)) {
        webhook.error = `Error submitting webhook for pipeline ${this.execution.id} to ${url} with status code ${res.status}, will retry.`;
        status = 'RUNNING';
      } else {
        webhook.error = `Error submitting webhook for pipeline ${this.execution.id} to ${url} with status code ${res.status}.`;
        status = 'TERMINAL';
      }
      return { status, statusCode: res.status, context: { webhook }, body: webhook.body };
    }

    if (body.kind === 'value') webhook.body = body.value;
    if (res.status < 200 || res.status >= 400) {
      webhook.error = 'The webhook request failed';
      return { status: 'TERMINAL', statusCode: res.status, context: { webhook } };
    }
    if (c.waitForCompletion === true) {
      let statusUrl: string | null | undefined;
      try {
        statusUrl = this.resolveStatusUrl(res, body);
      } catch (e) {
        if (e instanceof JsonPathSyntaxError) throw e;
        webhook.error = `Exception while resolving status check URL: ${(e as Error).message}`;
        return { status: 'TERMINAL', statusCode: res.status, context: { webhook }, body: webhook.body };
      }
      if (!statusUrl) {
        webhook.error = "The status URL couldn't be resolved, but 'Wait for completion' is configured";
        return { status: 'TERMINAL', statusCode: res.status, context: { webhook }, body: webhook.body };
      }
      webhook.statusEndpoint = statusUrl;
      return { status: 'SUCCEEDED', statusCode: res.status, context: { webhook, statusEndpoint: statusUrl }, body: webhook.body };
    }
    return { status: 'SUCCEEDED', statusCode: res.status, context: { webhook }, body: webhook.body };
  }

  private createClientException(e: JavaException, method: string, url: string): TaskOutcome {
    const webhook: WebhookContext = {};
    let status: TaskStatus;
    if (e.kind === 'unknownHost') {
      webhook.error = `Remote host resolution failure in webhook for pipeline ${this.execution.id} to ${url}, will retry.`;
      status = 'RUNNING';
    } else if (method === 'GET' && e.kind === 'socketTimeout') {
      webhook.error = `Socket timeout in webhook on GET request for pipeline ${this.execution.id} to ${url}, will retry.`;
      status = 'RUNNING';
    } else {
      webhook.error = `An exception occurred for pipeline ${this.execution.id} performing a request to ${url}. ${e.toString()}`;
      status = 'TERMINAL';
    }
    return { status, context: { webhook } };
  }

  /** WebhookStatusCheckUrlRetriever: the URL is stored as returned (a relative one stays relative). */
  private resolveStatusUrl(res: WireResponse, body: Body): string | null | undefined {
    const c = this.context;
    const url = String(c.url ?? '');
    let statusUrl: unknown;
    switch (c.statusUrlResolution) {
      case 'getMethod':
        statusUrl = url;
        break;
      case 'locationHeader':
        statusUrl = headerValue(res.headers, 'Location');
        break;
      case 'webhookResponse': {
        const r = readJsonPath(body.kind === 'value' ? body.value : null, String(c.statusUrlJsonPath ?? ''));
        if (!r.found) throw new Error(r.message);
        if (r.value !== null && typeof r.value !== 'string') {
          throw new Error(`class ${typeof r.value === 'number' ? 'java.lang.Integer' : 'java.util.LinkedHashMap'} cannot be cast to class java.lang.String`);
        }
        statusUrl = r.value;
        break;
      }
      default:
        throw new Error(c.statusUrlResolution == null ? 'null' : `Unexpected value: ${String(c.statusUrlResolution)}`);
    }
    if (typeof statusUrl !== 'string') return statusUrl as null | undefined;
    // Same host, different scheme: Orca keeps the webhook's scheme.
    if (statusUrl !== url && /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(statusUrl)) {
      try {
        const s = new URL(statusUrl);
        const w = new URL(url);
        if (s.hostname === w.hostname && s.protocol !== w.protocol) statusUrl = `${w.protocol}//${statusUrl.slice(statusUrl.indexOf('://') + 3)}`;
      } catch {
        throw new Error(`Illegal character in URI: ${statusUrl}`);
      }
    }
    return statusUrl as string;
  }

  // --- monitorWebhook -------------------------------------------------------------------------

  private async monitorWebhook(): Promise<TaskOutcome> {
    const c = this.context;
    const endpoint = typeof c.statusEndpoint === 'string' ? c.statusEndpoint.trim() : '';
    if (!endpoint) throw new TaskException('java.lang.IllegalStateException', `Missing required parameter: statusEndpoint = ${String(c.statusEndpoint)}`);
    const webhook: WebhookContext = { ...(c.webhook ?? {}) };
    const monitor: WebhookMonitorContext = {};
    const past = c.webhook?.monitor?.pastStatusCodes;
    if (past) monitor.pastStatusCodes = [...past];
    webhook.monitor = monitor;

    let res: WireResponse;
    let body: Body;
    try {
      res = await this.exchange('monitor', 'GET', endpoint, undefined);
      body = res.status >= 400 ? { kind: 'none' } : this.decodeBody(res);
    } catch (e) {
      if (!(e instanceof JavaException)) throw e;
      if (e.kind === 'unknownHost' || e.kind === 'socketTimeout') return { status: 'RUNNING', context: { webhook } };
      monitor.error = `an exception occurred in webhook monitor to ${endpoint}: ${e.toString()}`;
      return { status: 'TERMINAL', context: { webhook } };
    }

    if (res.status >= 400) {
      if (this.shouldRetryMonitor(res.status)) {
        monitor.pastStatusCodes = [...(monitor.pastStatusCodes ?? []), res.status];
        return { status: 'RUNNING', statusCode: res.status, context: { webhook } };
      }
      const kind = res.status >= 500 ? 'HttpServerErrorException' : 'HttpClientErrorException';
      monitor.error = `an exception occurred in webhook monitor to ${endpoint}: org.springframework.web.client.${kind}$${statusName(res.status)
        .toLowerCase()
        .replace(/(^|_)(\w)/g, (_m, _u, ch: string) => ch.toUpperCase())}: ${res.status} ${reasonPhrase(res.status)}: "${res.body.toString('utf8')}"`;
      if (res.headers.length > 0) monitor.headers = singleValueMap(res.headers);
      return { status: 'TERMINAL', statusCode: res.status, context: { webhook } };
    }

    monitor.body = body.kind === 'value' ? body.value : null;
    monitor.statusCode = statusName(res.status);
    monitor.statusCodeValue = res.status;
    if (res.headers.length > 0) monitor.headers = singleValueMap(res.headers);
    const outcome = (status: TaskStatus): TaskOutcome => ({ status, statusCode: res.status, body: monitor.body, context: { webhook } });

    const statusPath = typeof c.statusJsonPath === 'string' ? c.statusJsonPath : '';
    if (!statusPath) return outcome('SUCCEEDED');
    if (body.kind === 'none') {
      // JsonPath.read(null, ...) throws IllegalArgumentException, which fails the task.
      throw new TaskException('java.lang.IllegalArgumentException', 'json can not be null');
    }
    const result = readJsonPath(body.value, statusPath);
    if (!result.found) {
      monitor.error = `Unable to parse status: JSON property '${statusPath}' not found in response body`;
      return outcome('TERMINAL');
    }
    const value = result.value;
    if (!(typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) {
      monitor.error = `The json path '${statusPath}' did not resolve to a single value`;
      monitor.resolvedValue = value;
      return outcome('TERMINAL');
    }
    const progressPath = typeof c.progressJsonPath === 'string' ? c.progressJsonPath : '';
    if (progressPath) {
      const progress = readJsonPath(body.value, progressPath);
      if (!progress.found) {
        // Orca's message names the status path here (sic).
        monitor.error = `Unable to parse progress: JSON property '${statusPath}' not found in response body`;
        return outcome('TERMINAL');
      }
      if (typeof progress.value !== 'string') {
        monitor.error = `The json path '${progressPath}' did not resolve to a String value`;
        monitor.resolvedValue = progress.value;
        return outcome('TERMINAL');
      }
      monitor.progressMessage = progress.value;
    }
    if (typeof value === 'number') {
      monitor.percentComplete = value;
      // result.equals(100): only Jackson's Integer 100, not the Double 100.0.
      const isDouble = body.parsed?.doublePaths.has(pathKey(result.path)) ?? false;
      return outcome(value === 100 && !isDouble ? 'SUCCEEDED' : 'RUNNING');
    }
    if (c.successStatuses === null || c.successStatuses === undefined) {
      throw new TaskException('java.lang.NullPointerException', 'successStatuses is null (MonitorWebhookTask.mapStatuses)');
    }
    const statusMap = new Map<string, TaskStatus>();
    const map = (list: unknown, s: TaskStatus) => {
      if (typeof list !== 'string' || list === '') return;
      for (const word of list.split(',')) statusMap.set(word.trim().toUpperCase(), s);
    };
    map(String(c.successStatuses), 'SUCCEEDED');
    map(c.canceledStatuses, 'CANCELED');
    map(c.terminalStatuses, 'TERMINAL');
    return outcome(statusMap.get(String(value).toUpperCase()) ?? 'RUNNING');
  }

  private shouldRetryMonitor(status: number): boolean {
    const retries = this.context.retries as Record<string, { maxAttempts?: number }> | undefined;
    const specific = retries?.[String(status)];
    if (specific) {
      const attempts = (this.context.webhook?.monitor?.pastStatusCodes ?? []).filter((s) => s === status).length;
      return attempts < Number(specific.maxAttempts ?? 0);
    }
    const retryStatusCodes = (this.context.retryStatusCodes as number[] | undefined) ?? [];
    return status >= 500 || this.opts.defaultRetryStatusCodes.includes(status) || retryStatusCodes.includes(status);
  }

  // --- cancel ---------------------------------------------------------------------------------

  /**
   * WebhookService.cancelWebhook: best effort; failures are recorded, never thrown. The endpoint is
   * the stored one, as the last task run evaluated it (Orca maps the stored context; nothing is
   * evaluated for the cancel).
   */
  private async sendCancel(reason: CancelRecord['reason']): Promise<void> {
    const endpoint = this.context.cancelEndpoint;
    if (typeof endpoint !== 'string' || endpoint === '') return;
    const method = String(this.context.cancelMethod ?? 'POST').toUpperCase();
    const record: CancelRecord = { reason, method, url: endpoint, sent: false };
    this.cancelRecords.push(record);
    try {
      const res = await this.exchange('cancel', method, endpoint, this.context.cancelPayload);
      record.sent = true;
      record.status = res.status;
    } catch (e) {
      record.sent = this.exchanges[this.exchanges.length - 1]?.sent ?? false;
      record.error = e instanceof JavaException ? e.toString() : String(e);
    }
  }
}

/** Orca's WebhookResponseProcessor.processResponseBodyAsJson for error bodies. */
function processResponseBodyAsJson(text: string): unknown {
  if (text.startsWith('{') || text.startsWith('[')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// Entry points

export interface StageInput {
  preconfigured: PreconfiguredWebhook;
  stage: StageJson;
  execution: ExecutionInfo;
  options?: DriverOptions;
  /** Run the stage again as Orca's "Restart stage" does, from the context its last run left. */
  restartOf?: StageRestart;
}

/**
 * Orca's RestartStageHandler on a completed webhook stage: the context is kept as the last run left
 * it, evaluated values and the previous attempt's `webhook` and `statusEndpoint` included
 * (WebhookStage has no prepareStageForRestart), `exception` moves into `restartDetails` with
 * `restartedBy` and `restartTime` (epoch ms); the stage is planned again (the preconfigured
 * fields merged anew as text) and the tasks run again from createWebhook.
 */
export interface StageRestart {
  context: StageContext;
  restartTime: number;
  user?: string;
}

function restartedContext(restart: StageRestart): StageContext {
  const context: StageContext = JSON.parse(JSON.stringify(restart.context));
  const previousException = context.exception ?? null;
  delete context.exception;
  context.restartDetails = { restartedBy: restart.user ?? 'anonymous', restartTime: restart.restartTime, previousException };
  return context;
}

/** Starts the stage; use `cancel()` to cancel it and `result` to await its end. */
export function startWebhookStage(input: StageInput): RunningStage {
  return new StageRun(input.preconfigured, input.stage, input.execution, input.options ?? {}, input.restartOf);
}

/** Runs the stage to its end. */
export function runWebhookStage(input: StageInput): Promise<StageResult> {
  return startWebhookStage(input).result;
}

/** Test-friendly timings: a fast create retry and fast polls, otherwise Orca's rules. */
export const FAST: DriverOptions = {
  createRetryBackoffMs: 50,
  createRetryTimeoutMs: 2_000,
  pollIntervalMs: () => 20,
  monitorTimeoutMs: 5_000,
  connectTimeoutMs: 2_000,
  readTimeoutMs: 5_000,
};

export type { ExpressionError };
