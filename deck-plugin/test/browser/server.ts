/**
 * One local HTTP server for the browser test: the harness page (static files), Deck's own
 * /plugin-manifest.json, and a fake Gate under /gate with just the endpoints Deck calls here.
 * Any Gate path can be held back until the test releases it, which is how the test decides
 * whether core's preconfigured-webhook registration or the plugin comes first.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { AddressInfo } from 'net';

export interface Reply {
  status?: number;
  type?: string;
  body: string | Buffer | object;
}

export type Handler = (request: { method: string; path: string; query: URLSearchParams; body: string }) => Reply | undefined;

export interface RecordedRequest {
  method: string;
  url: string;
  body: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'application/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.eot': 'application/vnd.ms-fontobject',
};

export class HarnessServer {
  readonly requests: RecordedRequest[] = [];
  private server?: http.Server;
  private routes = new Map<string, Handler>();
  private holds = new Map<string, { promise: Promise<void>; release: () => void }>();

  constructor(private readonly staticDir: string) {}

  get origin(): string {
    const address = this.server?.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  /** Answers `METHOD /path` (path without query) with the handler's reply. */
  route(method: string, urlPath: string, handler: Handler | Reply): void {
    this.routes.set(`${method} ${urlPath}`, typeof handler === 'function' ? handler : () => handler);
  }

  /** Holds every answer on `urlPath` until the returned function is called. */
  hold(urlPath: string): () => void {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    this.holds.set(urlPath, { promise, release });
    return () => {
      this.holds.delete(urlPath);
      release();
    };
  }

  reset(): void {
    this.routes.clear();
    this.holds.forEach((hold) => hold.release());
    this.holds.clear();
    this.requests.length = 0;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((error) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(error));
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    this.holds.forEach((hold) => hold.release());
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const pathname = decodeURIComponent(url.pathname);
    this.requests.push({ method, url: `${pathname}${url.search}`, body });
    const hold = this.holds.get(pathname);
    if (hold) await hold.promise;
    const handler = this.routes.get(`${method} ${pathname}`);
    const reply = handler?.({ method, path: pathname, query: url.searchParams, body });
    if (reply) {
      const payload = typeof reply.body === 'string' || Buffer.isBuffer(reply.body) ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status ?? 200, { 'content-type': reply.type ?? 'application/json', 'cache-control': 'no-store' });
      res.end(payload);
      return;
    }
    if (pathname.startsWith('/gate/')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 404, error: 'Not Found', message: `no fake Gate route for ${method} ${pathname}` }));
      return;
    }
    const file = path.join(this.staticDir, pathname === '/' ? '/index.html' : pathname);
    if (!file.startsWith(this.staticDir) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  }
}
