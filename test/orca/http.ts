/**
 * The HTTP side of Orca's webhook tasks, as seen by the called service: Spring RestTemplate over
 * OkHttp, reached through UserConfiguredUrlRestrictions.validateURI, with Spring's message
 * converters deciding how bodies are written and read.
 */
import * as http from 'node:http';
import * as https from 'node:https';

/** Spring's HttpStatus enum names (what Orca stores as `webhook.statusCode`). */
const STATUS_NAMES: Record<number, string> = {
  100: 'CONTINUE', 101: 'SWITCHING_PROTOCOLS', 102: 'PROCESSING', 103: 'EARLY_HINTS',
  200: 'OK', 201: 'CREATED', 202: 'ACCEPTED', 203: 'NON_AUTHORITATIVE_INFORMATION', 204: 'NO_CONTENT',
  205: 'RESET_CONTENT', 206: 'PARTIAL_CONTENT', 207: 'MULTI_STATUS', 208: 'ALREADY_REPORTED', 226: 'IM_USED',
  300: 'MULTIPLE_CHOICES', 301: 'MOVED_PERMANENTLY', 302: 'FOUND', 303: 'SEE_OTHER', 304: 'NOT_MODIFIED',
  307: 'TEMPORARY_REDIRECT', 308: 'PERMANENT_REDIRECT',
  400: 'BAD_REQUEST', 401: 'UNAUTHORIZED', 402: 'PAYMENT_REQUIRED', 403: 'FORBIDDEN', 404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED', 406: 'NOT_ACCEPTABLE', 407: 'PROXY_AUTHENTICATION_REQUIRED', 408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT', 410: 'GONE', 411: 'LENGTH_REQUIRED', 412: 'PRECONDITION_FAILED', 413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG', 415: 'UNSUPPORTED_MEDIA_TYPE', 416: 'REQUESTED_RANGE_NOT_SATISFIABLE',
  417: 'EXPECTATION_FAILED', 418: 'I_AM_A_TEAPOT', 422: 'UNPROCESSABLE_ENTITY', 423: 'LOCKED',
  424: 'FAILED_DEPENDENCY', 425: 'TOO_EARLY', 426: 'UPGRADE_REQUIRED', 428: 'PRECONDITION_REQUIRED',
  429: 'TOO_MANY_REQUESTS', 431: 'REQUEST_HEADER_FIELDS_TOO_LARGE', 451: 'UNAVAILABLE_FOR_LEGAL_REASONS',
  500: 'INTERNAL_SERVER_ERROR', 501: 'NOT_IMPLEMENTED', 502: 'BAD_GATEWAY', 503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT', 505: 'HTTP_VERSION_NOT_SUPPORTED', 506: 'VARIANT_ALSO_NEGOTIATES',
  507: 'INSUFFICIENT_STORAGE', 508: 'LOOP_DETECTED', 509: 'BANDWIDTH_LIMIT_EXCEEDED', 510: 'NOT_EXTENDED',
  511: 'NETWORK_AUTHENTICATION_REQUIRED',
};

export const statusName = (code: number): string => STATUS_NAMES[code] ?? String(code);

/** Spring's reason phrase, e.g. "Not Found" for 404 (used in exception texts). */
export const reasonPhrase = (code: number): string =>
  statusName(code)
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');

/** An exception Orca would see, named like the Java class so context errors read like Orca's. */
export class JavaException extends Error {
  constructor(
    readonly javaClass: string,
    message: string,
    readonly kind: 'unknownHost' | 'socketTimeout' | 'connect' | 'io' | 'illegalArgument' | 'restClient' = 'io',
  ) {
    super(message);
    this.name = 'JavaException';
  }
  override toString(): string {
    return `${this.javaClass}: ${this.message}`;
  }
}

// Characters java.net.URI rejects anywhere in a URI (plus controls and spaces).
const ILLEGAL_URI_CHARS = /[\s"<>\\^`{|}]/;

/**
 * The structural part of UserConfiguredUrlRestrictions.validateURI: java.net.URI syntax, then
 * "non absolute URI", then the scheme (http/https), then a host. The host allow/deny rules are in
 * {@link checkDefaultUrlRestrictions}, applied only when the driver is asked to.
 */
export function validateUri(url: string): URL {
  const bad = ILLEGAL_URI_CHARS.exec(url);
  if (bad) {
    throw new JavaException('java.lang.IllegalArgumentException', `Illegal character in path at index ${bad.index}: ${url}`, 'illegalArgument');
  }
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(url)) {
    throw new JavaException('java.lang.IllegalArgumentException', `non absolute URI ${url}`, 'illegalArgument');
  }
  const scheme = url.slice(0, url.indexOf(':')).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') {
    throw new JavaException('java.lang.IllegalArgumentException', `unsupported URI scheme ${url}`, 'illegalArgument');
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new JavaException('java.lang.IllegalArgumentException', `URI not valid: ${url}`, 'illegalArgument');
  }
  if (!parsed.hostname) {
    throw new JavaException('java.lang.IllegalArgumentException', `Unable to determine host for the url provided ${url}`, 'illegalArgument');
  }
  return parsed;
}

export interface UrlRestrictions {
  /** Default `.*\..+`: the host must contain a dot (single-word names are cluster-internal). */
  allowedHostnamesRegex?: string;
  /** Default spinnaker, local, localdomain, internal: hosts ending in `.<domain>` are rejected. */
  excludedDomains?: string[];
  /** Extra regexes a host must not match. */
  extraExcludedPatterns?: string[];
  /** Default true. */
  rejectVerbatimIps?: boolean;
  /** Default true (by name only here: `localhost`; Orca also resolves the host). */
  rejectLocalhost?: boolean;
}

/**
 * Orca's default `user-configured-url-restrictions` host rules (UserConfiguredUrlRestrictions,
 * tightened 2024-09), without DNS resolution. Returns the error Orca would raise, or null.
 */
export function checkDefaultUrlRestrictions(url: string, restrictions: UrlRestrictions = {}): string | null {
  let parsed: URL;
  try {
    parsed = validateUri(url);
  } catch (e) {
    return (e as Error).message;
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const isIp = /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
  if (isIp && restrictions.rejectVerbatimIps !== false) return 'Verbatim IP addresses are not allowed';
  if (restrictions.rejectLocalhost !== false && /^localhost$/i.test(host)) return `Host not allowed: ${host}`;
  const allowed = new RegExp(`^(?:${restrictions.allowedHostnamesRegex ?? '.*\\..+'})$`);
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const excluded = [
    ...(restrictions.excludedDomains ?? ['spinnaker', 'local', 'localdomain', 'internal']).map(
      (d) => new RegExp(`^(?:(?=.+\\.${escape(d)}$).*\\..+)$`),
    ),
    ...(restrictions.extraExcludedPatterns ?? []).map((p) => new RegExp(`^(?:${p})$`)),
  ];
  if (!isIp && (!allowed.test(host) || excluded.some((p) => p.test(host)))) return `Host not allowed: ${host}`;
  return null;
}

/** Java's String.getBytes(charset) for the charsets Spring picks; unmappable characters become '?'. */
export function encodeJavaString(s: string, charset: string): Buffer {
  const cs = charset.toLowerCase();
  if (cs === 'utf-8' || cs === 'utf8') return Buffer.from(s, 'utf8');
  const max = cs === 'us-ascii' || cs === 'ascii' ? 0x7f : 0xff;
  const bytes: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    bytes.push(cp <= max ? cp : 0x3f);
  }
  return Buffer.from(bytes);
}

export function decodeJavaString(body: Buffer, charset: string): string {
  const cs = charset.toLowerCase();
  return cs === 'utf-8' || cs === 'utf8' ? body.toString('utf8') : body.toString('latin1');
}

export interface MediaType {
  type: string; // e.g. "application/json", lower case, no parameters
  charset?: string;
}

export function parseMediaType(header: string | undefined): MediaType | undefined {
  if (!header) return undefined;
  const [type, ...params] = header.split(';');
  const charset = params
    .map((p) => p.trim())
    .find((p) => /^charset=/i.test(p))
    ?.slice('charset='.length)
    .replace(/^"|"$/g, '');
  return { type: type.trim().toLowerCase(), charset };
}

/** What Spring's Jackson converter reads and writes: application/json and application/*+json. */
export const isJsonCompatible = (m: MediaType | undefined): boolean =>
  !!m && (m.type === 'application/json' || /^application\/[^/]+\+json$/.test(m.type));

export interface WireRequest {
  method: string;
  url: URL;
  /** Header lines in order; a name may repeat. */
  headers: Array<[string, string]>;
  body?: Buffer;
}

export interface WireResponse {
  status: number;
  /** Header lines as received (name case preserved). */
  headers: Array<[string, string]>;
  body: Buffer;
}

export interface TransportOptions {
  connectTimeoutMs: number;
  readTimeoutMs: number;
  /** Extra TLS options for https URLs (e.g. a test CA). */
  tls?: https.RequestOptions;
}

// Orca's OkHttp client pools connections, but a test driver must not leave sockets behind.
const httpAgent = new http.Agent({ keepAlive: false });
const httpsAgent = new https.Agent({ keepAlive: false });

/** Sends one request; network failures reject with a JavaException named like OkHttp's. */
export function sendWire(req: WireRequest, options: TransportOptions): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of req.headers) {
      const existing = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
      if (existing === undefined) headers[name] = value;
      else headers[existing] = ([] as string[]).concat(headers[existing], value);
    }
    if (req.body !== undefined) headers['Content-Length'] = String(req.body.length);
    else if (req.method !== 'GET' && req.method !== 'HEAD') headers['Content-Length'] = '0';
    const isHttps = req.url.protocol === 'https:';
    const hostPort = `${req.url.hostname}:${req.url.port || (isHttps ? 443 : 80)}`;
    const common = { method: req.method, headers, agent: isHttps ? httpsAgent : httpAgent };
    const clientReq = isHttps ? https.request(req.url, { ...options.tls, ...common }) : http.request(req.url, common);
    let settled = false;
    const fail = (e: JavaException) => {
      if (settled) return;
      settled = true;
      clientReq.destroy();
      reject(e);
    };
    let connected = false;
    clientReq.setTimeout(options.connectTimeoutMs, () =>
      fail(
        connected
          ? new JavaException('java.net.SocketTimeoutException', 'timeout', 'socketTimeout')
          : new JavaException('java.net.SocketTimeoutException', `connect timed out`, 'socketTimeout'),
      ),
    );
    clientReq.on('socket', (socket) => {
      const onConnect = () => {
        connected = true;
        clientReq.setTimeout(options.readTimeoutMs);
      };
      if ((socket as { connecting?: boolean }).connecting === false) onConnect();
      else socket.once(isHttps ? 'secureConnect' : 'connect', onConnect);
    });
    clientReq.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
        fail(new JavaException('java.net.UnknownHostException', `${req.url.hostname}: Name or service not known`, 'unknownHost'));
      } else if (err.code === 'ECONNREFUSED') {
        fail(new JavaException('java.net.ConnectException', `Failed to connect to /${hostPort}`, 'connect'));
      } else {
        fail(new JavaException('java.io.IOException', err.message, 'io'));
      }
    });
    clientReq.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => fail(new JavaException('java.io.IOException', err.message, 'io')));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        const raw = res.rawHeaders;
        const pairs: Array<[string, string]> = [];
        for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i], raw[i + 1]]);
        resolve({ status: res.statusCode ?? 0, headers: pairs, body: Buffer.concat(chunks) });
      });
    });
    if (req.body !== undefined) clientReq.write(req.body);
    clientReq.end();
  });
}

/** Spring's HttpHeaders.toSingleValueMap(): first value per name, first-seen name case. */
export function singleValueMap(headers: Array<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (seen.has(lower)) continue;
    seen.add(lower);
    out[name] = value;
  }
  return out;
}

export const headerValue = (headers: Array<[string, string]>, name: string): string | undefined =>
  headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
