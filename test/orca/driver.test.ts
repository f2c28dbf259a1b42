// The Orca driver's own behaviour, against a scripted HTTP server on 127.0.0.1.
// Run: npx jest --selectProjects unit test/orca
import {
  DriverOptions,
  FAST,
  PollEvent,
  PreconfiguredConfigError,
  PreconfiguredWebhook,
  StageJson,
  UnsupportedExpressionError,
  checkDefaultUrlRestrictions,
  mergePreconfigured,
  runWebhookStage,
  startWebhookStage,
} from './driver';
import { RESTART_TIME_HEADER, RESTART_TIME_HEADER_EXPRESSION } from '@istio-shift/core';
import { parseJson, readJsonPath } from './json';
import { evaluateString } from './spel';
import { ScriptedReply, ScriptedServer, closedPort, startScriptedServer } from './scripted-server';
import { TOKEN_ENV_VAR, loadPreconfiguredWebhook, readDocumentedYaml, resolveSpringPlaceholders } from './webhook-config';

const TOKEN = 'orca-driver-test-token';
const execution = { id: '01HEXEC7Q', application: 'shop', trigger: { type: 'manual', user: 'ana', parameters: { weight: 34, tag: 'v2' } } };

const spec = {
  account: 'prod',
  namespace: 'shop',
  virtualService: 'checkout',
  route: { protocol: 'http', name: 'primary' },
  destinations: [{ host: 'checkout', subset: 'release' }, { host: 'checkout', subset: 'canary' }],
  steps: [{ weights: [90, 10], pause: '1s' }, { weights: [50, 50], pause: '1s' }, { weights: [0, 100] }],
};

const stage = (payload: Record<string, unknown> = {}, extra: Partial<StageJson> = {}): StageJson => ({
  type: 'istioTrafficShift',
  alias: 'preconfiguredWebhook',
  refId: '2',
  requisiteStageRefIds: ['1'],
  name: 'Shift checkout',
  stageTimeoutMs: 60_000,
  payload: { ...spec, executionId: '${execution.id}', stageRef: '2', ...payload },
  ...extra,
});

/** The status body the stage service returns. */
const statusBody = (base: string, over: Record<string, unknown> = {}) => ({
  id: 's1',
  status: 'RUNNING',
  message: 'step 1 of 3: release 90, canary 10 (1s left)',
  percentComplete: 16,
  statusUrl: `${base}/v1/shifts/s1`,
  cancelUrl: `${base}/v1/shifts/s1/cancel`,
  currentStep: 1,
  totalSteps: 3,
  ...over,
});

interface FakeService {
  /** Reply to the n-th POST /v1/shifts (1-based); default 202 with an absolute Location. */
  create?: (n: number, base: string) => ScriptedReply;
  /** Replies to successive status GETs; the last one repeats. */
  polls?: Array<(base: string) => ScriptedReply>;
}

const accepted = (base: string, over: Record<string, unknown> = {}): ScriptedReply => ({
  status: 202,
  headers: { Location: `${base}/v1/shifts/s1` },
  json: statusBody(base, over),
});
const poll = (over: Record<string, unknown>) => (base: string): ScriptedReply => ({ status: 200, json: statusBody(base, over) });

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function fakeService(fake: FakeService): Promise<ScriptedServer> {
  let creates = 0;
  let gets = 0;
  server = await startScriptedServer((req, s) => {
    if (req.method === 'POST' && req.path === '/v1/shifts') return (fake.create ?? ((_n, b) => accepted(b)))(++creates, s.baseUrl);
    if (req.method === 'GET' && req.path === '/v1/shifts/s1') {
      const polls = fake.polls ?? [poll({ status: 'SUCCEEDED', message: 'completed 3 of 3 steps' })];
      return polls[Math.min(gets++, polls.length - 1)](s.baseUrl);
    }
    if (req.method === 'POST' && req.path.endsWith('/cancel')) return { status: 200, json: { status: 'CANCELED' } };
    return { status: 404, json: { error: { message: 'no such route' } } };
  });
  return server;
}

const requestsTo = (s: ScriptedServer, method: string, path: string) => s.requests.filter((r) => r.method === method && r.path === path);

function documented(base: string, override: Partial<PreconfiguredWebhook> = {}): PreconfiguredWebhook {
  return { ...loadPreconfiguredWebhook(base, TOKEN), ...override };
}

describe('docs/orca.md', () => {
  it('loadPreconfiguredWebhook returns the documented block with the host and token substituted', () => {
    expect(loadPreconfiguredWebhook('http://127.0.0.1:8080/', 's3cret')).toEqual({
      type: 'istioTrafficShift',
      label: 'Istio Traffic Shift',
      description: 'Shift traffic between the destinations of an Istio VirtualService route in steps',
      enabled: true,
      url: 'http://127.0.0.1:8080/v1/shifts',
      method: 'POST',
      customHeaders: { Authorization: ['Bearer s3cret'], 'Content-Type': ['application/json'], [RESTART_TIME_HEADER]: [RESTART_TIME_HEADER_EXPRESSION] },
      waitForCompletion: true,
      statusUrlResolution: 'locationHeader',
      statusJsonPath: '$.status',
      progressJsonPath: '$.message',
      successStatuses: 'SUCCEEDED',
      canceledStatuses: 'CANCELED',
      terminalStatuses: 'TERMINAL',
      cancelEndpoint: '${webhook.body.cancelUrl}',
      cancelMethod: 'POST',
      cancelPayload: '{}',
    });
  });

  it('documents the block first, with the production host, the token placeholder and no payload', () => {
    const yamlText = readDocumentedYaml();
    expect(yamlText).toContain('url: https://traffic-shift.example.com/v1/shifts');
    expect(yamlText).toContain(`Bearer \${${TOKEN_ENV_VAR}}`);
    expect(yamlText).not.toMatch(/^\s+payload:/m);
    // The documented host passes Orca's default URL restrictions; in-cluster names do not.
    expect(checkDefaultUrlRestrictions('https://traffic-shift.example.com/v1/shifts')).toBeNull();
  });
});

describe('Spring placeholders and Orca URL restrictions', () => {
  it('resolves only known placeholders and leaves SpEL for Orca', () => {
    const resolved = resolveSpringPlaceholders(
      { a: ['Bearer ${TOKEN}'], b: '${webhook.body.cancelUrl}', c: '${MISSING:fallback}', d: '${parameterValues[\'x\']}' },
      { TOKEN: 't' },
    );
    expect(resolved).toEqual({ a: ['Bearer t'], b: '${webhook.body.cancelUrl}', c: 'fallback', d: "${parameterValues['x']}" });
  });

  it('rejects what Orca rejects by default', () => {
    expect(checkDefaultUrlRestrictions('http://istio-traffic-shift.spinnaker.svc.cluster.local:8080/v1/shifts')).toMatch(/Host not allowed/);
    expect(checkDefaultUrlRestrictions('http://traffic-shift/v1/shifts')).toMatch(/Host not allowed/);
    expect(checkDefaultUrlRestrictions('http://shift.internal/v1/shifts')).toMatch(/Host not allowed/);
    expect(checkDefaultUrlRestrictions('http://10.0.0.7/v1/shifts')).toMatch(/Verbatim IP/);
    expect(checkDefaultUrlRestrictions('/v1/shifts/1')).toMatch(/non absolute URI/);
    expect(checkDefaultUrlRestrictions('ftp://traffic-shift.example.com/x')).toMatch(/unsupported URI scheme/);
    expect(
      checkDefaultUrlRestrictions('http://istio-traffic-shift.spinnaker.svc.cluster.local/v1/shifts', {
        excludedDomains: ['spinnaker', 'localdomain', 'internal'],
      }),
    ).toBeNull();
  });
});

describe('planning: the preconfigured merge', () => {
  it('lets every non-null preconfigured field win and keeps the stage value where it is null', () => {
    const context = mergePreconfigured(
      { type: 'istioTrafficShift', url: 'https://svc.example.com/v1/shifts', method: 'post', payload: null, statusJsonPath: '$.status' },
      { type: 'istioTrafficShift', refId: '2', requisiteStageRefIds: ['1'], url: 'https://evil.example.com', method: 'PUT', payload: { a: 1 }, statusJsonPath: '$.x', progressJsonPath: '$.p' },
    );
    expect(context).toMatchObject({ url: 'https://svc.example.com/v1/shifts', method: 'POST', payload: { a: 1 }, statusJsonPath: '$.status', progressJsonPath: '$.p' });
    expect(context).not.toHaveProperty('refId');
    expect(context).not.toHaveProperty('requisiteStageRefIds');
  });

  it('binds like Spring: a scalar header splits on commas, a YAML map payload is refused', () => {
    const context = mergePreconfigured({ type: 't', customHeaders: { Accept: 'application/json, text/plain' } }, { type: 't' });
    expect(context.customHeaders).toEqual({ Accept: ['application/json', 'text/plain'] });
    expect(() => mergePreconfigured({ type: 't', payload: { a: 1 } as unknown as string }, { type: 't' })).toThrow(PreconfiguredConfigError);
  });
});

describe('the SpEL subset', () => {
  const root = { execution, trigger: execution.trigger, parameters: execution.trigger.parameters, parameterValues: { x: 'X' }, webhook: { body: { cancelUrl: 'https://c' } } };

  it('resolves execution, trigger, parameterValues and webhook paths; leaves ${id} and ${refId} literal', () => {
    expect(evaluateString('${execution.id}', root).value).toBe('01HEXEC7Q');
    expect(evaluateString('app=${execution.application}/${trigger.user}', root).value).toBe('app=shop/ana');
    expect(evaluateString('${trigger.parameters.weight}', root).value).toBe(34);
    expect(evaluateString("${parameterValues['x']}-${parameterValues.x}", root).value).toBe('X-X');
    expect(evaluateString('${webhook.body.cancelUrl}', root).value).toBe('https://c');
    const id = evaluateString('${id}', root);
    expect(id.value).toBe('${id}');
    expect(id.errors[0].expression).toBe('${id}');
    // kork ExpressionTransform: a null part of a longer string is put back as its text, the rest
    // is evaluated; an exception (a property of null) leaves the whole string as it was.
    expect(evaluateString('${execution.id}-${refId}', root).value).toBe('01HEXEC7Q-${refId}');
    expect(evaluateString('${execution.id}-${webhook.body.missing}', { execution })).toMatchObject({ value: '${execution.id}-${webhook.body.missing}', errors: [{ expression: '${webhook.body.missing}' }] });
    // A missing key is null (MapPropertyAccessor with allowUnknownKeys), not an error by itself.
    expect(evaluateString('${webhook.body.missing}', { execution, webhook: { body: {} } })).toMatchObject({ value: '${webhook.body.missing}', errors: [{ expression: '${webhook.body.missing}' }] });
  });

  it('evaluates the payload restart marker to 0 before a restart (an unknown key is null) and to the time after one', () => {
    const marker = '${restartDetails?.restartTime ?: 0}';
    expect(evaluateString(marker, { ...root, restartDetails: { restartTime: 1764500000123, restartedBy: 'ana' } }).value).toBe(1764500000123);
    expect(evaluateString(marker, { ...root, restartDetails: { restartedBy: 'ana' } }).value).toBe(0);
    expect(evaluateString(marker, root)).toEqual({ value: 0, errors: [] });
  });

  it("evaluates the restart header's expression: 'null' before a restart, the time as text after one (OpPlus)", () => {
    const header = "${'' + restartDetails?.restartTime}";
    expect(evaluateString(header, root)).toEqual({ value: 'null', errors: [] });
    expect(evaluateString(header, { ...root, restartDetails: { restartTime: 1764500000123 } }).value).toBe('1764500000123');
    expect(evaluateString('${trigger.parameters.weight + 1}', root).value).toBe(35);
  });

  it('refuses expressions outside the subset instead of guessing', () => {
    expect(() => evaluateString("${#stage('x')}", root)).toThrow(UnsupportedExpressionError);
  });
});

describe('JSON as Jackson and JsonPath read it', () => {
  it('tells 100 from 100.0 and fails on missing properties and non-objects', () => {
    const parsed = parseJson('{"a":{"n":100,"d":100.0,"e":1e2},"list":[1.5,2]}');
    expect([...parsed.doublePaths].sort()).toEqual(['["a","d"]', '["a","e"]', '["list",0]']);
    expect(readJsonPath(parsed.value, "$.a['n']")).toEqual({ found: true, value: 100, path: ['a', 'n'] });
    expect(readJsonPath(parsed.value, '$.a.missing').found).toBe(false);
    expect(readJsonPath('{"status":"RUNNING"}', '$.status').found).toBe(false);
  });
});

describe('the stage against a scripted service', () => {
  it('creates, polls with progress and succeeds; hooks run between polls', async () => {
    const s = await fakeService({
      polls: [
        poll({}),
        poll({ message: 'step 2 of 3: release 50, canary 50 (1s left)', currentStep: 2, percentComplete: 50 }),
        poll({ status: 'SUCCEEDED', message: 'completed 3 of 3 steps', currentStep: 3, percentComplete: 100 }),
      ],
    });
    const events: PollEvent[] = [];
    const order: string[] = [];
    const result = await runWebhookStage({
      preconfigured: documented(s.baseUrl, {
        customHeaders: { Authorization: [`Bearer ${TOKEN}`], 'Content-Type': ['application/json'], 'X-SPINNAKER-USER': ['admin'] },
      }),
      stage: stage({ pruneUnlisted: null }),
      execution,
      options: {
        ...FAST,
        onPoll: async (event) => {
          events.push(event);
          order.push(`poll ${event.poll}`);
          if ((event.body as { currentStep?: number }).currentStep === 2) {
            // Another client edits the cluster here; the next poll waits for it.
            await new Promise((r) => setTimeout(r, 30));
            order.push('edited');
          }
        },
      },
    });

    expect(result.status).toBe('SUCCEEDED');
    expect(result.createRequests).toBe(1);
    expect(result.polls).toBe(3);
    expect(order).toEqual(['poll 1', 'poll 2', 'edited', 'poll 3']);
    expect(events.map((e) => e.monitor?.progressMessage)).toEqual([
      'step 1 of 3: release 90, canary 10 (1s left)',
      'step 2 of 3: release 50, canary 50 (1s left)',
      'completed 3 of 3 steps',
    ]);
    const location = `${s.baseUrl}/v1/shifts/s1`;
    expect(result.context.statusEndpoint).toBe(location);
    expect(result.context.webhook).toMatchObject({ statusCode: 'ACCEPTED', statusCodeValue: 202, statusEndpoint: location, body: { id: 's1', cancelUrl: `${location}/cancel` } });
    expect(result.context.webhook?.headers?.Location).toBe(location);
    expect(result.context.webhook?.monitor).toMatchObject({ statusCode: 'OK', statusCodeValue: 200, progressMessage: 'completed 3 of 3 steps', body: { status: 'SUCCEEDED', percentComplete: 100 } });
    // A string status does not set Orca's percentComplete: the body carries it.
    expect(result.context.webhook?.monitor?.percentComplete).toBeUndefined();
    expect(result.cancelRequests).toEqual([]);

    const [post] = requestsTo(s, 'POST', '/v1/shifts');
    expect(post.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.headers['x-spinnaker-user']).toBeUndefined();
    expect(JSON.parse(post.body)).toEqual({ ...spec, executionId: execution.id, stageRef: '2' });
    for (const get of requestsTo(s, 'GET', '/v1/shifts/s1')) {
      expect(get.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(get.body).toBe('');
    }
    // The exchange log never holds the token; Orca's context does (customHeaders are merged).
    expect(JSON.stringify(result.exchanges)).not.toContain(TOKEN);
    expect(result.exchanges[0].requestHeaders).toContainEqual(['Authorization', 'Bearer <redacted>']);
    expect(result.context.customHeaders).toMatchObject({ Authorization: [`Bearer ${TOKEN}`] });
  });

  it('stores a relative Location verbatim and fails TERMINAL on the first poll, then cancels', async () => {
    const s = await fakeService({ create: (_n, base) => ({ ...accepted(base), headers: { Location: '/v1/shifts/s1' } }) });
    const result = await runWebhookStage({ preconfigured: documented(s.baseUrl), stage: stage(), execution, options: FAST });

    expect(result.status).toBe('TERMINAL');
    expect(result.context.statusEndpoint).toBe('/v1/shifts/s1');
    expect(result.context.webhook?.statusCode).toBe('ACCEPTED');
    expect(result.context.webhook?.monitor?.error).toBe(
      'an exception occurred in webhook monitor to /v1/shifts/s1: java.lang.IllegalArgumentException: non absolute URI /v1/shifts/s1',
    );
    expect(result.polls).toBe(0);
    expect(requestsTo(s, 'GET', '/v1/shifts/s1')).toHaveLength(0);
    expect(result.cancelRequests).toEqual([{ reason: 'terminal', method: 'POST', url: `${s.baseUrl}/v1/shifts/s1/cancel`, sent: true, status: 200 }]);
  });

  it('re-sends the same POST after a 5xx or 429 until the create is accepted', async () => {
    const s = await fakeService({
      create: (n, base) => (n === 1 ? { status: 503, text: 'busy', headers: { 'Content-Type': 'text/plain' } } : n === 2 ? { status: 429, json: {} } : accepted(base)),
    });
    const attempts: Array<[number, string]> = [];
    const result = await runWebhookStage({
      preconfigured: documented(s.baseUrl),
      stage: stage(),
      execution,
      options: { ...FAST, createRetryBackoffMs: 100, onCreateAttempt: (e) => void attempts.push([e.statusCode ?? 0, e.taskStatus]) },
    });

    expect(result.status).toBe('SUCCEEDED');
    expect(result.createRequests).toBe(3);
    expect(attempts).toEqual([[503, 'RUNNING'], [429, 'RUNNING'], [202, 'SUCCEEDED']]);
    const posts = requestsTo(s, 'POST', '/v1/shifts');
    expect(new Set(posts.map((p) => p.body)).size).toBe(1);
    expect(posts[1].receivedAtMs - posts[0].receivedAtMs).toBeGreaterThanOrEqual(95);
  });

  it('gives up after createRetryTimeoutMs of retries and fails fast on 504', async () => {
    let s = await fakeService({ create: () => ({ status: 500, json: { error: { message: 'down' } } }) });
    const retried = await runWebhookStage({
      preconfigured: documented(s.baseUrl),
      stage: stage(),
      execution,
      options: { ...FAST, createRetryBackoffMs: 50, createRetryTimeoutMs: 240 },
    });
    expect(retried.status).toBe('TERMINAL');
    expect(retried.createRequests).toBeGreaterThanOrEqual(2);
    expect(retried.createRequests).toBeLessThanOrEqual(6);
    expect(retried.context.exception?.details.errors[0]).toMatch(/Task createWebhook timed out/);
    expect(retried.context.webhook?.error).toMatch(/with status code 500, will retry\.$/);
    await s.close();

    s = await fakeService({ create: () => ({ status: 504, text: '' }) });
    const failFast = await runWebhookStage({ preconfigured: documented(s.baseUrl), stage: stage(), execution, options: FAST });
    expect(failFast.status).toBe('TERMINAL');
    expect(failFast.createRequests).toBe(1);
    expect(failFast.context.webhook?.error).toMatch(/^Received status code 504, which is configured to fail fast/);
  });

  it('fails TERMINAL on a 400 create and calls a resolvable cancel endpoint', async () => {
    const s = await fakeService({ create: () => ({ status: 400, json: { error: { message: 'bad spec' } } }) });
    const result = await runWebhookStage({
      preconfigured: documented(s.baseUrl, { cancelEndpoint: `${s.baseUrl}/v1/shifts/by-execution/\${execution.id}/cancel` }),
      stage: stage(),
      execution,
      options: FAST,
    });

    expect(result.status).toBe('TERMINAL');
    expect(result.createRequests).toBe(1);
    expect(result.context.webhook).toMatchObject({ statusCode: 'BAD_REQUEST', statusCodeValue: 400, body: { error: { message: 'bad spec' } } });
    expect(result.context.webhook?.error).toBe(`Error submitting webhook for pipeline ${execution.id} to ${s.baseUrl}/v1/shifts with status code 400.`);
    const cancels = requestsTo(s, 'POST', `/v1/shifts/by-execution/${execution.id}/cancel`);
    expect(cancels).toHaveLength(1);
    expect(cancels[0].body).toBe('{}');
    expect(cancels[0].headers['content-type']).toBe('application/json');
    expect(cancels[0].headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(result.cancelRequests).toMatchObject([{ reason: 'terminal', sent: true, status: 200 }]);
  });

  it('records, but does not throw, a cancel whose ${webhook.body.cancelUrl} cannot be resolved', async () => {
    const s = await fakeService({ create: () => ({ status: 409, json: { error: { message: 'route is being shifted' } } }) });
    const result = await runWebhookStage({ preconfigured: documented(s.baseUrl), stage: stage(), execution, options: FAST });

    expect(result.status).toBe('TERMINAL');
    expect(result.cancelRequests).toEqual([
      {
        reason: 'terminal',
        method: 'POST',
        url: '${webhook.body.cancelUrl}',
        sent: false,
        error: 'java.lang.IllegalArgumentException: Illegal character in path at index 1: ${webhook.body.cancelUrl}',
      },
    ]);
    expect(result.expressionErrors.map((e) => e.expression)).toContain('${webhook.body.cancelUrl}');
    expect(s.requests.filter((r) => r.path.endsWith('/cancel'))).toHaveLength(0);
  });

  it('fails at once when the POST cannot connect or times out', async () => {
    const port = await closedPort();
    const refused = await runWebhookStage({ preconfigured: documented(`http://127.0.0.1:${port}`), stage: stage(), execution, options: FAST });
    expect(refused.status).toBe('TERMINAL');
    expect(refused.createRequests).toBe(1);
    expect(refused.context.webhook?.error).toMatch(/performing a request to .*java\.net\.ConnectException: Failed to connect/);

    const s = await fakeService({ create: (_n, base) => ({ ...accepted(base), delayMs: 1_000 }) });
    const timedOut = await runWebhookStage({ preconfigured: documented(s.baseUrl), stage: stage(), execution, options: { ...FAST, readTimeoutMs: 150 } });
    expect(timedOut.status).toBe('TERMINAL');
    expect(timedOut.createRequests).toBe(1);
    expect(timedOut.context.webhook?.error).toMatch(/java\.net\.SocketTimeoutException: timeout$/);
  });

  it('sends nothing to the service when cancelled while the create is being retried', async () => {
    const s = await fakeService({ create: () => ({ status: 503, json: {} }) });
    const running = startWebhookStage({
      preconfigured: documented(s.baseUrl, { cancelEndpoint: `${s.baseUrl}/v1/shifts/s1/cancel` }),
      stage: stage(),
      execution,
      options: { ...FAST, onCreateAttempt: (e, st) => void (e.attempt === 2 && st.cancel()) },
    });
    const result = await running.result;
    expect(result.status).toBe('CANCELED');
    expect(result.createRequests).toBe(2);
    expect(result.cancelRequests).toEqual([]);
    expect(s.requests.filter((r) => r.path.endsWith('/cancel'))).toHaveLength(0);
  });

  it('keeps RUNNING through a 503 poll and records it in pastStatusCodes', async () => {
    const s = await fakeService({
      polls: [poll({}), () => ({ status: 503, text: 'unavailable', headers: { 'Content-Type': 'text/plain' } }), poll({ status: 'SUCCEEDED', message: 'done' })],
    });
    const events: PollEvent[] = [];
    const result = await runWebhookStage({ preconfigured: documented(s.baseUrl), stage: stage(), execution, options: { ...FAST, onPoll: (e) => void events.push(structuredClone(e)) } });

    expect(result.status).toBe('SUCCEEDED');
    expect(events.map((e) => [e.statusCode, e.taskStatus])).toEqual([[200, 'RUNNING'], [503, 'RUNNING'], [200, 'SUCCEEDED']]);
    expect(events[1].monitor).toEqual({ pastStatusCodes: [503] });
    expect(result.context.webhook?.monitor?.pastStatusCodes).toEqual([503]);
  });

  it('fails TERMINAL on a 404 poll and on a status that is not application/json', async () => {
    let s = await fakeService({ polls: [() => ({ status: 404, json: { error: { message: 'gone' } } })] });
    const notFound = await runWebhookStage({ preconfigured: documented(s.baseUrl), stage: stage(), execution, options: FAST });
    expect(notFound.status).toBe('TERMINAL');
    expect(notFound.context.webhook?.monitor?.error).toMatch(/HttpClientErrorException\$NotFound: 404 Not Found/);
    expect(notFound.cancelRequests).toMatchObject([{ reason: 'terminal', sent: true }]);
    await s.close();

    s = await fakeService({ polls: [(base) => ({ status: 200, text: JSON.stringify(statusBody(base)), headers: { 'Content-Type': 'text/plain' } })] });
    const text = await runWebhookStage({ preconfigured: documented(s.baseUrl), stage: stage(), execution, options: FAST });
    expect(text.status).toBe('TERMINAL');
    expect(text.polls).toBe(1);
    expect(typeof text.context.webhook?.monitor?.body).toBe('string');
    expect(text.context.webhook?.monitor?.error).toBe("Unable to parse status: JSON property '$.status' not found in response body");
  });

  it('completes on the integer 100 but not on 100.0', async () => {
    const numeric = (raw: string) => () => ({ status: 200, text: `{"status":${raw},"message":"m"}`, headers: { 'Content-Type': 'application/json' } });
    let s = await fakeService({ polls: [numeric('40'), numeric('100')] });
    const integer = await runWebhookStage({ preconfigured: documented(s.baseUrl), stage: stage(), execution, options: FAST });
    expect(integer.status).toBe('SUCCEEDED');
    expect(integer.context.webhook?.monitor?.percentComplete).toBe(100);
    await s.close();

    s = await fakeService({ polls: [numeric('100.0')] });
    const double = await runWebhookStage({ preconfigured: documented(s.baseUrl), stage: stage(), execution, options: { ...FAST, monitorTimeoutMs: 250 } });
    expect(double.status).toBe('TERMINAL');
    expect(double.polls).toBeGreaterThanOrEqual(2);
    expect(double.context.webhook?.monitor?.percentComplete).toBe(100);
    expect(double.context.exception?.details.errors[0]).toMatch(/Task monitorWebhook timed out/);
  });

  it('honours the stage\'s stageTimeoutMs', async () => {
    const s = await fakeService({ polls: [poll({})] });
    const options: DriverOptions = { ...FAST, monitorTimeoutMs: undefined };
    const result = await runWebhookStage({ preconfigured: documented(s.baseUrl), stage: stage({}, { stageTimeoutMs: 200 }), execution, options });
    expect(result.status).toBe('TERMINAL');
    expect(result.durationMs).toBeLessThan(2_000);
    expect(result.cancelRequests).toMatchObject([{ reason: 'terminal', sent: true }]);
  });

  it('ends CANCELED and calls cancel when the status is CANCELED', async () => {
    const s = await fakeService({ polls: [poll({}), poll({ status: 'canceled', message: 'cancelled; weights restored' })] });
    const result = await runWebhookStage({ preconfigured: documented(s.baseUrl), stage: stage(), execution, options: FAST });
    expect(result.status).toBe('CANCELED');
    expect(result.cancelRequests).toEqual([{ reason: 'canceledStatus', method: 'POST', url: `${s.baseUrl}/v1/shifts/s1/cancel`, sent: true, status: 200 }]);
  });

  it('calls the cancel endpoint when the user cancels during monitoring', async () => {
    const s = await fakeService({ polls: [poll({})] });
    const result = await runWebhookStage({
      preconfigured: documented(s.baseUrl),
      stage: stage(),
      execution,
      options: { ...FAST, onPoll: (e, st) => void (e.poll === 2 && st.cancel()) },
    });
    expect(result.status).toBe('CANCELED');
    expect(result.polls).toBe(2);
    expect(result.cancelRequests).toEqual([{ reason: 'user', method: 'POST', url: `${s.baseUrl}/v1/shifts/s1/cancel`, sent: true, status: 200 }]);
    const cancels = requestsTo(s, 'POST', '/v1/shifts/s1/cancel');
    expect(cancels).toHaveLength(1);
    expect(cancels[0].body).toBe('{}');
  });

  it('wakes from the wait between polls when cancelled from outside', async () => {
    const s = await fakeService({ polls: [poll({})] });
    const running = startWebhookStage({ preconfigured: documented(s.baseUrl), stage: stage(), execution, options: { ...FAST, pollIntervalMs: () => 60_000, monitorTimeoutMs: 120_000 } });
    while (running.exchanges.filter((x) => x.phase === 'monitor').length === 0) await new Promise((r) => setTimeout(r, 10));
    expect(running.phase).toBe('monitor');
    running.cancel();
    const result = await running.result;
    expect(result.status).toBe('CANCELED');
    expect(result.durationMs).toBeLessThan(5_000);
    expect(result.cancelRequests).toMatchObject([{ reason: 'user', sent: true, status: 200 }]);
  });

  it('sends ${id} and ${refId} literally while ${execution.id}, ${trigger...} and ${parameterValues...} resolve', async () => {
    const s = await fakeService({});
    const result = await runWebhookStage({
      preconfigured: documented(s.baseUrl),
      stage: stage(
        {
          executionId: '${execution.id}',
          stageRef: '${refId}',
          note: 'stage ${id} of ${execution.application}',
          weight: '${trigger.parameters.weight}',
          tag: "${parameterValues['tag']}",
          steps: [{ weights: [100, 0], pause: '${parameterValues.pause}' }],
        },
        { parameterValues: { tag: 'v2', pause: '90s' } },
      ),
      execution,
      options: FAST,
    });
    expect(result.status).toBe('SUCCEEDED');
    const body = JSON.parse(requestsTo(s, 'POST', '/v1/shifts')[0].body);
    expect(body).toMatchObject({
      executionId: execution.id,
      stageRef: '${refId}',
      note: 'stage ${id} of shop',
      weight: 34,
      tag: 'v2',
      steps: [{ weights: [100, 0], pause: '90s' }],
    });
    expect(result.expressionErrors.map((e) => e.expression).sort()).toEqual(['${id}', '${refId}']);
    expect(result.context.expressionEvaluationSummary).toHaveProperty(['${refId}']);
  });

  it('sends a preconfigured String payload raw, as ISO-8859-1 text/plain when no Content-Type is set', async () => {
    const s = await fakeService({});
    const result = await runWebhookStage({
      preconfigured: documented(s.baseUrl, {
        customHeaders: { Authorization: [`Bearer ${TOKEN}`] },
        payload: '{"note":"café → ${execution.id} €"}',
      }),
      stage: stage(),
      execution,
      options: FAST,
    });
    expect(result.status).toBe('SUCCEEDED');
    const [post] = requestsTo(s, 'POST', '/v1/shifts');
    expect(post.headers['content-type']).toBe('text/plain;charset=ISO-8859-1');
    expect(post.bodyBytes.toString('latin1')).toBe(`{"note":"café ? ${execution.id} ?"}`);
  });

  it('keeps the webhook URL scheme when the Location differs only in scheme', async () => {
    const s = await fakeService({ create: (_n, base) => ({ ...accepted(base), headers: { Location: `${base.replace('http:', 'https:')}/v1/shifts/s1` } }) });
    const result = await runWebhookStage({ preconfigured: documented(s.baseUrl), stage: stage(), execution, options: FAST });
    expect(result.context.statusEndpoint).toBe(`${s.baseUrl}/v1/shifts/s1`);
    expect(result.status).toBe('SUCCEEDED');
  });
});
