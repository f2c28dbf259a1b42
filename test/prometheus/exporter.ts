/**
 * A scrape target inside the test process: serves the mesh model at /metrics, integrated up to
 * the moment of each scrape (real time). Tests change a workload's traffic (a 5xx spike, a slow
 * tail, no traffic) and Prometheus sees it at its next scrape.
 */
import { createServer, Server } from 'http';
import { MeshModel, renderExposition, ResourceProfile, TrafficProfile, WorkloadDefinition } from './mesh-model';

export interface TestExporter {
  /** host:port for a Prometheus scrape config. */
  target: string;
  model: MeshModel;
  define(def: WorkloadDefinition): void;
  setTraffic(namespace: string, workload: string, traffic: TrafficProfile): void;
  setResources(namespace: string, workload: string, resources: ResourceProfile): void;
  /** Scrapes served so far. */
  scrapes(): number;
  close(): Promise<void>;
}

const nowSeconds = () => Date.now() / 1000;

export async function startExporter(workloads: WorkloadDefinition[] = []): Promise<TestExporter> {
  const model = new MeshModel(nowSeconds());
  workloads.forEach((w) => model.define(w));
  let scrapes = 0;
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    scrapes++;
    model.advance(nowSeconds());
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(renderExposition(model.families()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  // Integrate up to now before a profile changes, so the old profile covers the time that passed.
  const change = (fn: () => void) => {
    model.advance(nowSeconds());
    fn();
  };
  return {
    target: `127.0.0.1:${port}`,
    model,
    define: (def) => change(() => model.define(def)),
    setTraffic: (ns, w, t) => change(() => model.setTraffic(ns, w, t)),
    setResources: (ns, w, r) => change(() => model.setResources(ns, w, r)),
    scrapes: () => scrapes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
