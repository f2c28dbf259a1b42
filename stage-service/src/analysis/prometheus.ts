/**
 * A metrics source on Prometheus' HTTP API: one POST to /api/v1/query_range per metric, scope and
 * window. Failures come back as MetricsError kinds the engine can act on (retry an outage, report
 * an invalid query with Prometheus' own words), never as a stack trace or a secret.
 */
import * as http from 'http';
import * as https from 'https';
import { MetricsError, MetricsProvider, QueryWindow, RangeResult, Sample } from './provider';

export interface PrometheusOptions {
  /** The configured source name, used in every message. */
  source: string;
  /** Base URL of the server, possibly with a path prefix (e.g. https://host/prometheus). */
  url: string;
  /** Called per request, so a rotated token file is picked up without a restart. */
  bearerToken?: () => string;
  /** PEM CA bundle that signs the server's certificate (https only). */
  ca?: string | Buffer;
  timeoutMs: number;
}

/** A larger answer means a runaway query, not one series for one window. */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

interface HttpAnswer {
  status: number;
  contentType: string;
  body: string;
}

interface PrometheusBody {
  status?: unknown;
  errorType?: unknown;
  error?: unknown;
  data?: { resultType?: unknown; result?: unknown };
}

export class PrometheusProvider implements MetricsProvider {
  readonly source: string;
  private readonly endpoint: URL;
  private readonly agent: http.Agent;

  constructor(private readonly options: PrometheusOptions) {
    this.source = options.source;
    const base = options.url.endsWith('/') ? options.url : `${options.url}/`;
    this.endpoint = new URL('api/v1/query_range', base);
    this.agent =
      this.endpoint.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, ca: options.ca })
        : new http.Agent({ keepAlive: true });
  }

  async rangeQuery(promql: string, window: QueryWindow, signal?: AbortSignal): Promise<RangeResult> {
    const form = new URLSearchParams({
      query: promql,
      start: seconds(window.start, 'start'),
      end: seconds(window.end, 'end'),
      step: String(window.stepSeconds),
      // Prometheus stops evaluating when we stop waiting, instead of burning CPU for nobody.
      timeout: `${Math.max(1, Math.floor(this.options.timeoutMs / 1000))}s`,
    });
    if (!(window.stepSeconds > 0)) throw this.error('invalid-query', `the query step must be a positive number of seconds, got ${window.stepSeconds}`);
    if (window.end.getTime() < window.start.getTime()) throw this.error('invalid-query', 'the query window ends before it starts');
    const answer = await this.post(form.toString(), signal);
    return this.interpret(answer);
  }

  /** Releases idle keep-alive connections (service shutdown, tests). */
  close(): void {
    this.agent.destroy();
  }

  private interpret(answer: HttpAnswer): RangeResult {
    const body = parseJson(answer.body);
    const promMessage = typeof body?.error === 'string' ? body.error : undefined;
    if (answer.status === 400 || answer.status === 422) {
      // 400 bad_data: PromQL that does not parse or type-check; 422 execution: it ran and failed
      // (many-to-many matching, too many samples). Both are the query's fault.
      if (promMessage) throw this.error('invalid-query', `Prometheus rejected the query: ${promMessage}`);
    }
    if (answer.status === 401 || answer.status === 403) {
      throw this.error('misconfigured', `Prometheus refused the credentials (HTTP ${answer.status}): check the source's bearerToken`);
    }
    if (answer.status >= 500 || answer.status === 429) {
      throw this.error('outage', `Prometheus answered HTTP ${answer.status}${promMessage ? `: ${promMessage}` : ''}`);
    }
    if (answer.status !== 200 || !body || body.status !== 'success') {
      throw this.error(
        'misconfigured',
        `no Prometheus query API at ${this.endpoint.origin}${this.endpoint.pathname} (HTTP ${answer.status}, ${answer.contentType || 'no content type'}): check the source's url`,
      );
    }
    const result = body.data?.result;
    if (body.data?.resultType !== 'matrix' || !Array.isArray(result)) {
      throw this.error('misconfigured', `Prometheus answered a range query without a matrix (resultType ${String(body.data?.resultType)})`);
    }
    if (result.length === 0) return { kind: 'nodata' };
    if (result.length > 1) {
      const shown = result.slice(0, 3).map((s: { metric?: Record<string, string> }) => labelText(s.metric ?? {}));
      throw this.error(
        'ambiguous',
        `the query returned ${result.length} series (${shown.join(', ')}${result.length > 3 ? ', ...' : ''}) where one per scope is needed: aggregate it, e.g. sum(...) or sum by () (...)`,
      );
    }
    const series = result[0] as { metric?: Record<string, string>; values?: unknown };
    if (!Array.isArray(series.values)) throw this.error('misconfigured', 'Prometheus answered a series without values');
    const samples: Sample[] = series.values.map((pair: unknown) => {
      const [time, value] = pair as [number, string];
      // Prometheus encodes values as strings: "NaN", "+Inf" and "-Inf" included; Number() reads all three.
      return { time: Number(time), value: Number(value) };
    });
    return { kind: 'series', labels: series.metric ?? {}, samples };
  }

  private post(form: string, signal?: AbortSignal): Promise<HttpAnswer> {
    if (signal?.aborted) return Promise.reject(this.error('aborted', 'the query was cancelled before it started'));
    const client = this.endpoint.protocol === 'https:' ? https : http;
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/x-www-form-urlencoded',
      'Content-Length': Buffer.byteLength(form),
      Accept: 'application/json',
    };
    if (this.options.bearerToken) headers.Authorization = `Bearer ${this.options.bearerToken()}`;
    return new Promise<HttpAnswer>((resolve, reject) => {
      let settled = false;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        outcome();
      };
      const fail = (error: MetricsError) => {
        finish(() => reject(error));
        request.destroy();
      };
      const onAbort = () => fail(this.error('aborted', 'the query was cancelled'));
      const timer = setTimeout(
        () => fail(this.error('outage', `Prometheus did not answer within ${this.options.timeoutMs} ms`)),
        this.options.timeoutMs,
      );
      const request = client.request(this.endpoint, { method: 'POST', headers, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            fail(this.error('invalid-query', `the answer exceeded ${MAX_RESPONSE_BYTES} bytes: the query returns far more than one series per scope`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () =>
          finish(() =>
            resolve({
              status: response.statusCode ?? 0,
              contentType: String(response.headers['content-type'] ?? ''),
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          ),
        );
        response.on('error', (error) => fail(this.connectionError(error)));
      });
      request.on('error', (error) => fail(this.connectionError(error)));
      signal?.addEventListener('abort', onAbort, { once: true });
      request.end(form);
    });
  }

  private connectionError(error: Error & { code?: string }): MetricsError {
    const tls = /TLS|CERT/.test(error.code ?? '') || /certificate|self[- ]signed/i.test(error.message);
    if (tls) {
      return this.error('misconfigured', `TLS to ${this.endpoint.host} failed (${error.code ?? error.message}): check the source's ca`);
    }
    return this.error('outage', `cannot reach Prometheus at ${this.endpoint.host}: ${error.code ?? error.message}`);
  }

  private error(kind: MetricsError['kind'], message: string): MetricsError {
    return new MetricsError(kind, this.source, `metrics source "${this.source}": ${message}`);
  }
}

function seconds(date: Date, field: string): string {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new MetricsError('invalid-query', 'analysis', `the query window's ${field} is not a valid time`);
  return String(ms / 1000);
}

function parseJson(text: string): PrometheusBody | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as PrometheusBody) : undefined;
  } catch {
    return undefined;
  }
}

function labelText(metric: Record<string, string>): string {
  const { __name__: name = '', ...labels } = metric;
  return `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`;
}
