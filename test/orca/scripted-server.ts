/**
 * A small scripted HTTP server on 127.0.0.1 (random port) for testing the Orca driver: each
 * request is recorded and answered by a script function.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/v1/shifts/s1`. */
  path: string;
  /** Lower-cased names (Node's IncomingHttpHeaders). */
  headers: http.IncomingHttpHeaders;
  /** Name/value pairs as received, name case preserved. */
  rawHeaders: Array<[string, string]>;
  bodyBytes: Buffer;
  /** The body decoded as UTF-8. */
  body: string;
  receivedAtMs: number;
}

export interface ScriptedReply {
  status: number;
  headers?: Record<string, string>;
  /** Sent as JSON with `Content-Type: application/json` (unless headers set one). */
  json?: unknown;
  /** Sent as is; set the Content-Type in `headers` (none is added). */
  text?: string;
  /** Wait before answering (e.g. to provoke a client read timeout). */
  delayMs?: number;
  /** Close the connection without answering. */
  hangUp?: boolean;
}

export type Script = (req: RecordedRequest, server: ScriptedServer) => ScriptedReply | Promise<ScriptedReply>;

export interface ScriptedServer {
  baseUrl: string;
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startScriptedServer(script: Script): Promise<ScriptedServer> {
  const requests: RecordedRequest[] = [];
  const started = Date.now();
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawHeaders: Array<[string, string]> = [];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) rawHeaders.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
      const bodyBytes = Buffer.concat(chunks);
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        rawHeaders,
        bodyBytes,
        body: bodyBytes.toString('utf8'),
        receivedAtMs: Date.now() - started,
      };
      requests.push(recorded);
      void (async () => {
        let reply: ScriptedReply;
        try {
          reply = await script(recorded, scripted);
        } catch (e) {
          reply = { status: 500, text: `script error: ${String(e)}`, headers: { 'Content-Type': 'text/plain' } };
        }
        const send = () => {
          if (reply.hangUp) {
            req.socket.destroy();
            return;
          }
          const headers: Record<string, string> = { ...(reply.headers ?? {}) };
          let payload: string | undefined = reply.text;
          if (reply.json !== undefined) {
            payload = JSON.stringify(reply.json);
            if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
          }
          res.writeHead(reply.status, headers);
          res.end(payload);
        };
        if (reply.delayMs) {
          const t = setTimeout(() => {
            timers.delete(t);
            if (!res.destroyed) send();
          }, reply.delayMs);
          timers.add(t);
        } else {
          send();
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const scripted: ScriptedServer = {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return scripted;
}

/** A port nothing listens on (a server was bound to it and closed). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
