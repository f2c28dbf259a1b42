/**
 * The transport to one Kubernetes API server: every call of the stage service goes through here.
 *
 * Why Node's own `https` with a keep-alive Agent (and not client-node, node-fetch or undici):
 * - client-node 1.4 builds a fresh https.Agent per request, so every call paid a TCP + TLS
 *   handshake; a shared Agent behind its node-fetch hit node-fetch's keep-alive "Premature close".
 * - Node's http(s).Agent with keepAlive pools sockets per API server, reuses them (LIFO, so idle
 *   extras age out), and tells us when a request went out on a reused socket (`reusedSocket`),
 *   which is exactly when a reset is the server closing an idle connection and safe to retry.
 * - No dependency, and the response is a plain stream, so a watch (a long-running streaming GET)
 *   is possible on the same code: see `stream()` and docs/reliability-kubernetes.md.
 * - undici would also do (a Pool per origin); it is one more dependency for no gain at our call
 *   rates. HTTP/2 would need session and GOAWAY handling of our own: HTTP/1.1 keep-alive with a
 *   bounded pool is enough for tens of calls per second.
 *
 * What the transport guarantees to callers:
 * - a deadline on every call (queue wait + all attempts): `requestTimeoutMs`;
 * - at most `maxInFlight` calls on the wire per API server, waiting calls served fairly
 *   (round-robin per flow, see FairLimiter);
 * - 429 Too Many Requests (API Priority and Fairness) is retried after its Retry-After, while the
 *   deadline allows;
 * - a 403 while the API server itself is not ready (a restarting server answers 403 for a few
 *   seconds until its RBAC caches load) is retried, then reported as `starting`, never as 403;
 *   a 403 from a ready server is returned at once (missing RBAC is permanent);
 * - a server that does not answer (timeout, refused, reset) is marked down: calls then fail at
 *   once with `down` until a background probe of /readyz sees it answer again, so requests do not
 *   pile up behind a hung server.
 */
import * as http from 'http';
import * as https from 'https';
import { FairLimiter, LimiterTimeoutError } from './fair-limiter';

/** The TLS options of the pool's sockets: CA, client certificate, verification, SNI. */
export type TlsMaterial = Pick<https.AgentOptions, 'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized' | 'servername'>;

/** Supplies the Authorization header per request, so exec/OIDC/projected tokens can refresh. */
export type AuthorizationSource = () => Promise<string | undefined>;

export interface TransportSettings {
  /** Deadline of one call, queue wait and retries included. */
  requestTimeoutMs: number;
  /** Calls on the wire at once to this API server; more wait in a fair queue. */
  maxInFlight: number;
  /** How often /readyz is probed while healthy (while down: 4x as often). */
  probeIntervalMs: number;
  probeTimeoutMs: number;
  /** A "not ready" 403 streak longer than this is treated as a real 403. */
  forbiddenGraceMs: number;
}

export const DEFAULT_TRANSPORT_SETTINGS: TransportSettings = {
  requestTimeoutMs: 5000,
  maxInFlight: 16,
  probeIntervalMs: 2000,
  probeTimeoutMs: 1500,
  forbiddenGraceMs: 15000,
};

/** Idle keep-alive sockets are closed after this, well before kube-apiserver's own idle timeout (90 s). */
const IDLE_SOCKET_MS = 30_000;

/** Why a call got no usable answer. Every kind is transient: the caller should answer 503. */
export type TransportFailure = 'timeout' | 'unreachable' | 'overloaded' | 'starting' | 'down';

export class KubeTransportError extends Error {
  constructor(
    message: string,
    readonly failure: TransportFailure,
  ) {
    super(message);
    this.name = 'KubeTransportError';
  }
}

export interface KubeRequest {
  method: 'GET' | 'PATCH' | 'POST' | 'PUT' | 'DELETE';
  /** Path and query, e.g. /apis/networking.istio.io/v1/namespaces/shop/virtualservices */
  path: string;
  body?: string;
  contentType?: string;
  /** The fairness key, e.g. namespace/name of the object. */
  flow: string;
}

export interface KubeResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type ServerHealth =
  | { state: 'ok' }
  | { state: 'starting' | 'down'; message: string; since: Date };

export interface TransportStats {
  /** New TCP connections (one TLS handshake each on https). */
  connections: number;
  tlsHandshakes: number;
  requests: number;
  inFlight: number;
  queued: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Retry-After in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

export class KubeHttpClient {
  readonly settings: TransportSettings;
  private readonly origin: URL;
  private readonly agent: http.Agent;
  private readonly limiter: FairLimiter;
  private readonly transport: typeof http | typeof https;
  private healthState: ServerHealth = { state: 'ok' };
  private probeTimer?: NodeJS.Timeout;
  private watchingHealth = false;
  private probing?: Promise<number | undefined>;
  private lastProbe?: { at: number; status: number | undefined };
  private forbiddenSince?: number;
  private probeFailures = 0;
  private closed = false;
  private readonly counters = { connections: 0, tlsHandshakes: 0, requests: 0 };

  constructor(
    readonly server: string,
    tls: TlsMaterial,
    private readonly authorization: AuthorizationSource,
    settings: Partial<TransportSettings> = {},
  ) {
    this.settings = { ...DEFAULT_TRANSPORT_SETTINGS, ...settings };
    this.origin = new URL(server);
    const isHttps = this.origin.protocol === 'https:';
    if (!isHttps && this.origin.protocol !== 'http:') throw new Error(`Kubernetes server ${server} must be an http(s) URL`);
    this.transport = isHttps ? https : http;
    // maxSockets leaves one socket beyond the limiter's bound for the health probe.
    const agentOptions = { keepAlive: true, maxSockets: this.settings.maxInFlight + 1, maxFreeSockets: this.settings.maxInFlight + 1, scheduling: 'lifo' as const, timeout: IDLE_SOCKET_MS };
    this.agent = isHttps ? new https.Agent({ ...agentOptions, ...tls }) : new http.Agent(agentOptions);
    this.limiter = new FairLimiter(this.settings.maxInFlight);
  }

  get health(): ServerHealth {
    return this.healthState;
  }

  stats(): TransportStats {
    return { ...this.counters, inFlight: this.limiter.inFlight, queued: this.limiter.queued };
  }

  /**
   * One API call with the guarantees listed at the top of this file. Resolves with any HTTP
   * answer (4xx/5xx included: their meaning belongs to the caller); rejects with
   * KubeTransportError when there was no usable answer in time.
   */
  async request(request: KubeRequest): Promise<KubeResponse> {
    const started = Date.now();
    const deadline = started + this.settings.requestTimeoutMs;
    const health = this.healthState;
    if (health.state === 'down') {
      throw new KubeTransportError(`Kubernetes API server ${this.server} is not answering (${health.message}, since ${health.since.toISOString()})`, 'down');
    }
    for (let attempt = 1; ; attempt++) {
      let release;
      try {
        release = await this.limiter.acquire(request.flow, deadline - Date.now());
      } catch (error) {
        if (!(error instanceof LimiterTimeoutError)) throw error;
        throw new KubeTransportError(`too many Kubernetes calls to ${this.server} at once: ${error.message} (limit ${this.settings.maxInFlight} in flight)`, 'overloaded');
      }
      let response: KubeResponse;
      try {
        response = await this.send(request, deadline);
      } catch (error) {
        // A reset on a reused keep-alive socket is the server closing it while idle: the request
        // never reached it, so send it again on a fresh connection (Node's documented pattern).
        if ((error as { reusedSocket?: boolean }).reusedSocket && errorCode(error) === 'ECONNRESET' && attempt <= 2) continue;
        throw this.failed(error, started);
      } finally {
        release();
      }
      this.markAnswering();
      const retryIn = await this.retryDelay(response, attempt);
      if (retryIn === undefined) return response;
      if (Date.now() + retryIn >= deadline) {
        if (response.status === 403) {
          throw new KubeTransportError(`Kubernetes API server ${this.server} answered 403 Forbidden while it was not ready (a restarting API server does this until its authorizer caches load)`, 'starting');
        }
        return response; // 429 with no time left to wait: the caller reports it as unavailable
      }
      await sleep(retryIn);
    }
  }

  /**
   * A streaming GET for a future watch cache: resolves with the response once its headers
   * arrive, the body left unread for the caller to consume line by line. It bypasses the
   * limiter (a watch is long-running, like APF's exemption for watches) and uses its own
   * non-pooled connection so it never holds a slot or trips the idle-socket timeout; only
   * the wait for headers has a deadline. Call `destroy()` on the response to end it.
   */
  async stream(path: string, signal?: AbortSignal): Promise<http.IncomingMessage> {
    const headers = await this.headers({ method: 'GET', path, flow: 'watch' });
    return new Promise((resolve, reject) => {
      const req = this.transport.request(new URL(path, this.origin), { method: 'GET', headers, agent: this.streamAgent(), signal }, (res) => {
        clearTimeout(timer);
        resolve(res);
      });
      const timer = setTimeout(() => req.destroy(new KubeTransportError(`no answer from ${this.server} within ${this.settings.requestTimeoutMs} ms`, 'timeout')), this.settings.requestTimeoutMs);
      req.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      req.end();
    });
  }

  /**
   * Probes /readyz in the background (faster while down) so `health` follows the API server
   * even with no traffic: the service's own /readyz reads it without waiting.
   */
  watchHealth(): void {
    this.watchingHealth = true;
    this.scheduleProbe(0);
  }

  /** Stops probing and closes idle connections. */
  close(): void {
    this.closed = true;
    this.watchingHealth = false;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.agent.destroy();
  }

  private streamAgentInstance?: http.Agent;
  private streamAgent(): http.Agent {
    // Same TLS material as the pool (Agent options are inherited by its sockets), no keep-alive pool.
    this.streamAgentInstance ??= this.transport === https ? new https.Agent({ ...(this.agent as https.Agent).options, keepAlive: false, timeout: undefined }) : new http.Agent({ keepAlive: false });
    return this.streamAgentInstance;
  }

  private async headers(request: KubeRequest): Promise<http.OutgoingHttpHeaders> {
    const headers: http.OutgoingHttpHeaders = { Accept: 'application/json' };
    const authorization = await this.authorization();
    if (authorization) headers.Authorization = authorization;
    if (request.body !== undefined) {
      headers['Content-Type'] = request.contentType ?? 'application/json';
      headers['Content-Length'] = Buffer.byteLength(request.body);
    }
    return headers;
  }

  private async send(request: KubeRequest, deadline: number, agent: http.Agent = this.agent): Promise<KubeResponse> {
    const headers = await this.headers(request);
    const timeoutMs = deadline - Date.now();
    if (timeoutMs <= 0) throw new KubeTransportError(`no time left for a call to ${this.server}`, 'timeout');
    this.counters.requests++;
    return new Promise((resolve, reject) => {
      const req = this.transport.request(new URL(request.path, this.origin), { method: request.method, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      });
      const timer = setTimeout(() => {
        req.destroy(new KubeTransportError(`no answer from Kubernetes API server ${this.server} within ${timeoutMs} ms`, 'timeout'));
      }, timeoutMs);
      req.on('socket', (socket) => {
        if (req.reusedSocket) return;
        this.counters.connections++;
        socket.once('secureConnect', () => this.counters.tlsHandshakes++);
      });
      req.on('error', (error) => {
        clearTimeout(timer);
        (error as { reusedSocket?: boolean }).reusedSocket = req.reusedSocket;
        reject(error);
      });
      req.end(request.body);
    });
  }

  /** When to try again (ms), or undefined when this answer is final. */
  private async retryDelay(response: KubeResponse, attempt: number): Promise<number | undefined> {
    const backoff = Math.min(2000, 200 * 2 ** (attempt - 1));
    if (response.status === 429) return retryAfterMs(response.headers['retry-after']) ?? backoff;
    if (response.status !== 403) {
      this.forbiddenSince = undefined;
      return undefined;
    }
    if (await this.forbiddenLooksTransient()) return backoff;
    return undefined;
  }

  /**
   * A ready API server's 403 is real (missing RBAC). A restarting one answers 403 to everything,
   * its own /readyz included, until its RBAC caches load: measured 0.3-4 s on kube-apiserver 1.36.
   * A streak longer than forbiddenGraceMs is believed whatever /readyz says (a cluster may deny
   * /readyz to our credentials).
   */
  private async forbiddenLooksTransient(): Promise<boolean> {
    const now = Date.now();
    this.forbiddenSince ??= now;
    if (now - this.forbiddenSince > this.settings.forbiddenGraceMs) return false;
    const readyz = await this.probe();
    if (readyz === 200) {
      this.forbiddenSince = undefined;
      return false;
    }
    return true;
  }

  private failed(error: unknown, started: number): KubeTransportError {
    if (error instanceof KubeTransportError) {
      if (error.failure === 'timeout') this.markDown(error.message);
      return error;
    }
    const code = errorCode(error) ?? 'error';
    const message = `cannot reach Kubernetes API server ${this.server}: ${code} ${(error as Error).message ?? ''}`.trim();
    // TLS verification failures are configuration errors, but still no answer for the engine.
    this.markDown(`${code} after ${Date.now() - started} ms`);
    return new KubeTransportError(message, 'unreachable');
  }

  private markDown(message: string): void {
    if (this.healthState.state !== 'down') this.healthState = { state: 'down', message, since: new Date() };
    this.scheduleProbe(this.settings.probeIntervalMs / 4);
  }

  private markAnswering(): void {
    if (this.healthState.state === 'down') this.healthState = { state: 'ok' };
  }

  private scheduleProbe(delayMs: number): void {
    if (this.closed) return;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = setTimeout(() => void this.probeAndReschedule(), delayMs);
    this.probeTimer.unref();
  }

  private async probeAndReschedule(): Promise<void> {
    this.probeTimer = undefined;
    await this.probe(true);
    const state = this.healthState.state;
    // While down (or doubtful) we probe until it answers; while healthy, only when asked to watch health.
    if (state !== 'ok' || this.probeFailures > 0) this.scheduleProbe(this.settings.probeIntervalMs / 4);
    else if (this.watchingHealth) this.scheduleProbe(this.settings.probeIntervalMs);
  }

  /**
   * GET /readyz outside the limiter (one extra socket is reserved for it), coalesced and cached
   * for 250 ms. Updates `health`: no answer is down, a non-200 other than 401/403 is starting
   * (401/403 only say our credentials may not read /readyz, not that the server is unwell).
   */
  private probe(fresh = false): Promise<number | undefined> {
    if (!fresh && this.lastProbe && Date.now() - this.lastProbe.at < 250) return Promise.resolve(this.lastProbe.status);
    this.probing ??= (async () => {
      let status: number | undefined;
      try {
        const response = await this.send({ method: 'GET', path: '/readyz', flow: 'probe' }, Date.now() + this.settings.probeTimeoutMs);
        status = response.status;
        if (status === 200 || status === 401 || status === 403) this.healthState = { state: 'ok' };
        else if (this.healthState.state !== 'starting') this.healthState = { state: 'starting', message: `its /readyz answered ${status}`, since: new Date() };
        this.probeFailures = 0;
      } catch (error) {
        // One slow probe on a busy machine is not an outage: a healthy server is marked down
        // after two failed probes in a row (a call's own timeout marks it down at once).
        this.probeFailures++;
        const message = error instanceof KubeTransportError ? `no answer to /readyz within ${this.settings.probeTimeoutMs} ms` : `${errorCode(error) ?? 'error'} on /readyz`;
        if (this.healthState.state !== 'down' && (this.probeFailures >= 2 || this.healthState.state !== 'ok')) this.healthState = { state: 'down', message, since: new Date() };
      } finally {
        this.lastProbe = { at: Date.now(), status };
        this.probing = undefined;
      }
      return status;
    })();
    return this.probing;
  }
}
