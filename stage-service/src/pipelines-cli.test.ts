/**
 * The pipelines CLI end to end on files: the committed example is fresh, bad input exits 2 with
 * every problem and writes nothing, and `apply` talks to a scripted local HTTP server standing in
 * for Gate's pipeline API (GET /applications/{app}/pipelineConfigs, POST /pipelines).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { ABANDON_AFTER_DEFAULT, RESTART_EXPRESSION, validateShiftSpec } from '@istio-shift/core';
import { SPINNAKER_FACTS } from '@istio-shift/pipelines';
import { INPUT_LIMITS, runPipelines, sourcePath, writeAllOrNothing } from './pipelines-cli';

const EXAMPLE = path.resolve(__dirname, '../../examples/checkout');

async function cli(args: string[]): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await runPipelines(args, (line) => lines.push(line));
  return { code, output: lines.join('\n') };
}

/** A copy of the example to break, at the same place in a work tree (so it renders the same `generatedFrom`). */
const copies: string[] = [];
afterAll(() => copies.forEach((root) => rmSync(root, { recursive: true, force: true })));
function exampleCopy(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'pipelines-'));
  copies.push(root);
  mkdirSync(path.join(root, '.git'));
  const dir = path.join(root, 'examples/checkout');
  cpSync(EXAMPLE, dir, { recursive: true });
  return dir;
}

describe('pipelines check on the committed example', () => {
  it('finds examples/checkout/pipelines up to date (re-render and commit when this fails)', async () => {
    const { code, output } = await cli(['check', '--params', `${EXAMPLE}/spin/config.json`, '--manifests', `${EXAMPLE}/k8s`]);
    expect(output).toContain('3 pipeline file(s) up to date');
    expect(code).toBe(0);
  });

  it('reports a stale file with a readable diff and exit 1', async () => {
    const dir = exampleCopy();
    const params = JSON.parse(readFileSync(`${dir}/spin/config.json`, 'utf8'));
    params.replicas = { baseline: 2, canary: 2 };
    writeFileSync(`${dir}/spin/config.json`, JSON.stringify(params, null, 2));
    const { code, output } = await cli(['check', '--params', `${dir}/spin/config.json`, '--manifests', `${dir}/k8s`]);
    expect(code).toBe(1);
    expect(output).toContain(`stale: ${dir}/pipelines/checkout-canary.json`);
    expect(output).toMatch(/^- +\d+ \| +"replicas": 1,$/m);
    expect(output).toMatch(/^\+ +\d+ \| +"replicas": 2,$/m);
    rmSync(dir, { recursive: true });
  });
});

describe('pipelines render with bad input', () => {
  it('lists every parameter problem with its line and fix, exits 2 and writes nothing', async () => {
    const dir = exampleCopy();
    rmSync(`${dir}/pipelines`, { recursive: true });
    writeFileSync(
      `${dir}/spin/config.json`,
      ['{', '  "application": "checkout",', '  "acount": "prod-k8s",', '  "namespace": 7,', '  "service": "checkout",', '  "virtualService": { "name": "checkout", "route": "primary" },', '  "steps": [{ "weights": [80, 15, 10], "analysis": "10m" }]', '}'].join('\n'),
    );
    const { code, output } = await cli(['render', '--params', `${dir}/spin/config.json`, '--manifests', `${dir}/k8s`]);
    expect(code).toBe(2);
    expect(output).toContain('nothing was written or applied');
    expect(output).toContain(`${dir}/spin/config.json:3: $.acount: unknown field "acount"`);
    expect(output).toContain(`${dir}/spin/config.json:1: $: missing field "account"`);
    expect(output).toContain(`${dir}/spin/config.json:4: $.namespace: must be a string`);
    expect(existsSync(`${dir}/pipelines`)).toBe(false);
    rmSync(dir, { recursive: true });
  });

  it('checks rules the schema cannot: weights sum to 100, baseline = canary', async () => {
    const dir = exampleCopy();
    const params = JSON.parse(readFileSync(`${dir}/spin/config.json`, 'utf8'));
    params.steps = [{ weights: [80, 15, 10], analysis: '10m' }];
    writeFileSync(`${dir}/spin/config.json`, JSON.stringify(params, null, 2));
    const { code, output } = await cli(['render', '--params', `${dir}/spin/config.json`, '--manifests', `${dir}/k8s`]);
    expect(code).toBe(2);
    expect(output).toContain('$.steps[0].weights: weights sum to 105, not 100');
    expect(output).toContain('baseline (15) and canary (10) get different weights');
    rmSync(dir, { recursive: true });
  });

  it('names a missing manifest, a Deployment without the route\'s labels and a route that misses the service', async () => {
    const dir = exampleCopy();
    rmSync(`${dir}/pipelines`, { recursive: true });
    rmSync(`${dir}/k8s/service.yaml`);
    const { code, output } = await cli(['render', '--params', `${dir}/spin/config.json`, '--manifests', `${dir}/k8s`]);
    expect(code).toBe(2);
    expect(output).toContain('Service/checkout: no Service named "checkout"');
    // The missing object has no line of its own: the message points at the field that names it.
    const serviceLine = readFileSync(`${dir}/spin/config.json`, 'utf8').split('\n').findIndex((line) => line.includes('"service"')) + 1;
    expect(output).toContain(`${dir}/spin/config.json:${serviceLine}: Service/checkout: no Service named "checkout"`);

    cpSync(`${EXAMPLE}/k8s/service.yaml`, `${dir}/k8s/service.yaml`);
    const deployment = readFileSync(`${dir}/k8s/deployment.yaml`, 'utf8');
    writeFileSync(`${dir}/k8s/deployment.yaml`, deployment.replace(/\n\s+track: release/g, ''));
    const vs = readFileSync(`${dir}/k8s/virtualservice.yaml`, 'utf8');
    writeFileSync(`${dir}/k8s/virtualservice.yaml`, vs.replace(/host: checkout\n(\s+)subset: release/, 'host: payments\n$1subset: release'));
    const second = await cli(['render', '--params', `${dir}/spin/config.json`, '--manifests', `${dir}/k8s`]);
    expect(second.code).toBe(2);
    expect(second.output).toContain(`${dir}/k8s/deployment.yaml:15: spec.template.metadata.labels: the release pods lack the labels the route needs (track: release)`);
    expect(second.output).toContain('spec.selector.matchLabels: the release Deployment\'s selector would also select the baseline and canary pods');
    expect(second.output).toMatch(/virtualservice\.yaml:11: spec\.http\[0\]\.route: route "primary" does not route to Service "checkout" subset "release"/);
    expect(existsSync(`${dir}/pipelines`)).toBe(false);
    rmSync(dir, { recursive: true });
  });
});

describe('pipelines render writes all files or none', () => {
  it('an output file that cannot be written leaves every pipeline file as it was (no partial render, no temp files)', async () => {
    const dir = exampleCopy();
    const params = JSON.parse(readFileSync(`${dir}/spin/config.json`, 'utf8'));
    params.replicas = { baseline: 2, canary: 2 };
    writeFileSync(`${dir}/spin/config.json`, JSON.stringify(params, null, 2));
    const before = readFileSync(`${dir}/pipelines/checkout-canary.json`, 'utf8');
    // The last file's target is a directory: writing it fails after the others were rendered.
    rmSync(`${dir}/pipelines/checkout-promote.json`);
    mkdirSync(`${dir}/pipelines/checkout-promote.json`);
    const { code, output } = await cli(['render', '--params', `${dir}/spin/config.json`, '--manifests', `${dir}/k8s`]);
    expect(code).toBe(2);
    expect(output).toContain(`${dir}/pipelines/checkout-promote.json`);
    expect(output).toContain('nothing was written');
    expect(readFileSync(`${dir}/pipelines/checkout-canary.json`, 'utf8')).toBe(before);
    expect(readdirSync(`${dir}/pipelines`).sort()).toEqual(['checkout-canary.json', 'checkout-promote.json', 'checkout-rollback.json']);
    rmSync(dir, { recursive: true });
  });

  it('writes the files through temporary files renamed into place', async () => {
    const dir = exampleCopy();
    const { code } = await cli(['render', '--params', `${dir}/spin/config.json`, '--manifests', `${dir}/k8s`]);
    expect(code).toBe(0);
    expect(readdirSync(`${dir}/pipelines`).sort()).toEqual(['checkout-canary.json', 'checkout-promote.json', 'checkout-rollback.json']);
    expect(readFileSync(`${dir}/pipelines/checkout-canary.json`, 'utf8')).toBe(readFileSync(`${EXAMPLE}/pipelines/checkout-canary.json`, 'utf8'));
    rmSync(dir, { recursive: true });
  });
});

describe('writeAllOrNothing', () => {
  const setup = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'write-'));
    writeFileSync(`${dir}/a.json`, 'old a');
    writeFileSync(`${dir}/b.json`, 'old b');
    return dir;
  };
  it('a file that cannot be written: the others are not written either, no temp files stay', () => {
    const dir = setup();
    expect(() => writeAllOrNothing(dir, [{ name: 'a.json', text: 'new a' }, { name: 'missing-dir/c.json', text: 'c' }])).toThrow(/ENOENT/);
    expect(readdirSync(dir).sort()).toEqual(['a.json', 'b.json']);
    expect(readFileSync(`${dir}/a.json`, 'utf8')).toBe('old a');
    rmSync(dir, { recursive: true });
  });
  it('a rename that fails half way puts the previous files back', () => {
    const dir = setup();
    // The module object itself (an `import * as` namespace would be a copy the CLI never calls).
    const fs = jest.requireActual<typeof import('fs')>('fs');
    const real = fs.renameSync;
    let renames = 0;
    const spy = jest.spyOn(fs, 'renameSync').mockImplementation((from, to) => {
      if (++renames === 4) throw new Error('EIO: simulated');
      real(from, to);
    });
    try {
      expect(() => writeAllOrNothing(dir, [{ name: 'a.json', text: 'new a' }, { name: 'b.json', text: 'new b' }])).toThrow(/simulated/);
    } finally {
      spy.mockRestore();
    }
    expect(readdirSync(dir).sort()).toEqual(['a.json', 'b.json']);
    expect([readFileSync(`${dir}/a.json`, 'utf8'), readFileSync(`${dir}/b.json`, 'utf8')]).toEqual(['old a', 'old b']);
    rmSync(dir, { recursive: true });
  });
});

describe('pipelines render refuses the same object defined twice', () => {
  it('names both files (first one no longer wins silently)', async () => {
    const dir = exampleCopy();
    rmSync(`${dir}/pipelines`, { recursive: true });
    const deployment = readFileSync(`${dir}/k8s/deployment.yaml`, 'utf8');
    writeFileSync(`${dir}/k8s/other.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n---\n${deployment.replace('replicas: 4', 'replicas: 7')}`);
    const { code, output } = await cli(['render', '--params', `${dir}/spin/config.json`, '--manifests', `${dir}/k8s`]);
    expect(code).toBe(2);
    expect(output).toMatch(new RegExp(`${dir}/k8s/other\\.yaml:\\d+: metadata\\.name: Deployment "checkout" \\(namespace shop\\) is also defined in ${dir}/k8s/deployment\\.yaml:\\d+`));
    expect(existsSync(`${dir}/pipelines`)).toBe(false);
    rmSync(dir, { recursive: true });
  });
});

/**
 * A scripted stand-in for Gate: an in-memory Front50 behind exactly the calls the facts table
 * lists (spinnaker-facts.json gateEndpoints, read from Gate's, Orca's, Front50's and Deck's
 * source); any other request is a 404 and is recorded in `unexpected`.
 */
function fakeGate(token: string) {
  const saved = new Map<string, Record<string, unknown>>();
  const applications = new Map<string, { name: string; email: string }>([['checkout', { name: 'checkout', email: 'shop@example.com' }]]);
  const tasks = new Map<string, { polls: number; status: 'SUCCEEDED' | 'TERMINAL' }>();
  const requests: string[] = [];
  const unexpected: string[] = [];
  const body = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let text = '';
      req.on('data', (chunk) => (text += chunk));
      req.on('end', () => resolve(text));
    });
  const json = (res: ServerResponse, value: unknown) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(value));
  };
  // Each route is one gateEndpoints fact (by the start of its name).
  const routes: Array<{ fact: string; method: string; path: RegExp; handle: (req: IncomingMessage, res: ServerResponse, match: RegExpExecArray) => Promise<unknown> | unknown }> = [
    {
      fact: 'GET /applications/{app}/pipelineConfigs',
      method: 'GET',
      path: /^\/applications\/([^/]+)\/pipelineConfigs$/,
      handle: (_req, res, m) => json(res, [...saved.values()].filter((p) => p.application === decodeURIComponent(m[1]))),
    },
    {
      fact: 'GET /applications/{app}:',
      method: 'GET',
      path: /^\/applications\/([^/]+)$/,
      handle: (_req, res, m) => {
        const app = applications.get(decodeURIComponent(m[1]));
        if (!app) {
          res.statusCode = 404;
          return json(res, { message: `Application not found (id: ${m[1]})` });
        }
        return json(res, { ...app, attributes: app });
      },
    },
    {
      fact: 'POST /tasks with job',
      method: 'POST',
      path: /^\/tasks$/,
      handle: async (req, res) => {
        const task = JSON.parse(await body(req));
        const job = task.job?.[0];
        if (job?.type !== 'createApplication' || typeof job.application?.name !== 'string') {
          res.statusCode = 400;
          return json(res, { message: 'only createApplication tasks are scripted' });
        }
        const id = `01TASK${tasks.size}`;
        // Front50's HasEmailValidator refuses an empty email: the task ends TERMINAL.
        const ok = typeof job.application.email === 'string' && job.application.email.trim() !== '';
        tasks.set(id, { polls: 0, status: ok ? 'SUCCEEDED' : 'TERMINAL' });
        if (ok) applications.set(job.application.name, { name: job.application.name, email: job.application.email });
        return json(res, { ref: `/tasks/${id}` });
      },
    },
    {
      fact: 'GET /tasks/{id} until status',
      method: 'GET',
      path: /^\/tasks\/([^/]+)$/,
      handle: (_req, res, m) => {
        const task = tasks.get(m[1]);
        if (!task) {
          res.statusCode = 404;
          return res.end();
        }
        // Running on the first poll: the client must poll until the task is done.
        task.polls++;
        return json(res, { id: m[1], status: task.polls > 1 ? task.status : 'RUNNING' });
      },
    },
    {
      fact: 'POST /pipelines',
      method: 'POST',
      path: /^\/pipelines$/,
      handle: async (req, res) => {
        const pipeline = JSON.parse(await body(req));
        // Front50 stores the index it is sent; Deck gives one to a pipeline that has none.
        saved.set(pipeline.id, { ...pipeline, updateTs: String(Date.now()), lastModifiedBy: 'anonymous', index: pipeline.index ?? saved.size });
        return res.end();
      },
    },
    {
      fact: 'DELETE /pipelines/{app}/{name}',
      method: 'DELETE',
      path: /^\/pipelines\/([^/]+)\/([^/]+)$/,
      handle: (_req, res, m) => {
        const [app, name] = [decodeURIComponent(m[1]), decodeURIComponent(m[2])];
        // Gate: the first of the application's pipelines whose trimmed name equalsIgnoreCase; none = nothing.
        const found = [...saved.values()].find((p) => p.application === app && typeof p.name === 'string' && p.name.trim().toLowerCase() === name.toLowerCase());
        if (found) saved.delete(String(found.id));
        return res.end();
      },
    },
  ];
  for (const route of routes) {
    if (!SPINNAKER_FACTS.gateEndpoints.some((f) => f.name.startsWith(route.fact))) throw new Error(`the stand-in serves ${route.fact}, which the facts table does not hold`);
  }
  const server: Server = createServer(async (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.statusCode = 401;
      return res.end('{"error":"Unauthorized"}');
    }
    for (const route of routes) {
      const match = route.path.exec(req.url ?? '');
      if (req.method === route.method && match) return route.handle(req, res, match);
    }
    unexpected.push(`${req.method} ${req.url}`);
    res.statusCode = 404;
    res.end();
  });
  return { server, saved, applications, requests, unexpected };
}

describe('pipelines apply against a scripted stand-in for Gate', () => {
  const TOKEN = 'gate-test-token';
  let gate: ReturnType<typeof fakeGate>;
  let url: string;
  beforeAll(async () => {
    gate = fakeGate(TOKEN);
    await new Promise<void>((resolve) => gate.server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(gate.server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => gate.server.close(resolve)));
  afterEach(() => {
    delete process.env.GATE_TOKEN;
    // Every call apply made is one the facts table holds.
    expect(gate.unexpected).toEqual([]);
  });
  const args = () => ['apply', '--params', `${EXAMPLE}/spin/config.json`, '--manifests', `${EXAMPLE}/k8s`, '--gate', url];

  it('without credentials says which variable to set', async () => {
    const { code, output } = await cli(args());
    expect(code).toBe(1);
    expect(output).toContain('set GATE_TOKEN');
    expect(gate.saved.size).toBe(0);
  });

  it('dry run changes nothing; apply creates; a second apply is a no-op; a change updates by id', async () => {
    process.env.GATE_TOKEN = TOKEN;
    const dry = await cli([...args(), '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.output).toContain('would create: checkout canary');
    expect(gate.saved.size).toBe(0);

    const first = await cli(args());
    expect(first.code).toBe(0);
    expect(first.output).toMatch(/created: checkout canary \([0-9a-f-]{36}\)/);
    expect(gate.saved.size).toBe(3);
    const committed = JSON.parse(readFileSync(`${EXAMPLE}/pipelines/checkout-canary.json`, 'utf8'));
    expect(gate.saved.get(committed.id)).toMatchObject(committed);

    const posts = gate.requests.filter((r) => r.startsWith('POST')).length;
    const second = await cli(args());
    expect(second.output.split('\n').filter((l) => l.startsWith('unchanged:'))).toHaveLength(3);
    expect(gate.requests.filter((r) => r.startsWith('POST')).length).toBe(posts);

    const canary = gate.saved.get(committed.id)!;
    gate.saved.set(committed.id, { ...canary, limitConcurrent: false }); // someone edited it in Deck
    const dry2 = await cli([...args(), '--dry-run']);
    expect(dry2.output).toContain('would update: checkout canary');
    expect(dry2.output).toMatch(/^- +\d+ \| +"limitConcurrent": false,$/m);
    const third = await cli(args());
    expect(third.output).toContain('updated: checkout canary');
    expect(gate.saved.get(committed.id)!.limitConcurrent).toBe(true);
    expect(gate.saved.size).toBe(3);
  });

  it.each([
    ['the deploy account of a stage', (p: any) => (p.stages.find((s: any) => s.type === 'deployManifest').account = 'other-k8s'), /^- +\d+ \| +"account": "other-k8s",$/m],
    ['the replicas of a deployed manifest', (p: any) => (p.stages.find((s: any) => s.name === 'Deploy canary').manifests[0].spec.replicas = 5), /^- +\d+ \| +"replicas": 5,$/m],
    ['the trigger repository', (p: any) => (p.triggers.find((t: any) => t.type === 'docker').repository = 'shop/other'), /^- +\d+ \| +"repository": "shop\/other",$/m],
  ])('detects an edit in Deck of %s (dry run shows it, apply restores it)', async (_what, edit, removed) => {
    process.env.GATE_TOKEN = TOKEN;
    const committed = JSON.parse(readFileSync(`${EXAMPLE}/pipelines/checkout-canary.json`, 'utf8'));
    expect((await cli(args())).code).toBe(0);
    const edited = JSON.parse(JSON.stringify(gate.saved.get(committed.id)!));
    edit(edited);
    gate.saved.set(committed.id, edited);
    const dry = await cli([...args(), '--dry-run']);
    expect(dry.output).toContain('would update: checkout canary');
    expect(dry.output).toMatch(removed);
    expect(gate.saved.get(committed.id)).toEqual(edited);
    const applied = await cli(args());
    expect(applied.output).toContain('updated: checkout canary');
    expect(gate.saved.get(committed.id)).toMatchObject(committed);
  });

  it('detects a nested change made in the parameter file, and ignores key order', async () => {
    process.env.GATE_TOKEN = TOKEN;
    expect((await cli(args())).code).toBe(0);
    const committed = JSON.parse(readFileSync(`${EXAMPLE}/pipelines/checkout-canary.json`, 'utf8'));
    // Front50 may hand the pipeline back with its keys in another order, at every depth: still unchanged.
    const reversed = (value: any): any => (Array.isArray(value) ? value.map(reversed) : value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)])) : value);
    gate.saved.set(committed.id, reversed(gate.saved.get(committed.id)));
    expect((await cli(args())).output.split('\n').filter((l) => l.startsWith('unchanged:'))).toHaveLength(3);

    const dir = exampleCopy();
    const params = JSON.parse(readFileSync(`${dir}/spin/config.json`, 'utf8'));
    params.replicas = { baseline: 3, canary: 3 };
    writeFileSync(`${dir}/spin/config.json`, JSON.stringify(params, null, 2));
    const changed = ['apply', '--params', `${dir}/spin/config.json`, '--manifests', `${dir}/k8s`, '--gate', url];
    const dry = await cli([...changed, '--dry-run']);
    expect(dry.output).toContain('would update: checkout canary');
    expect(dry.output).toMatch(/^\+ +\d+ \| +"replicas": 3,$/m);
    expect((await cli(changed)).output).toContain('updated: checkout canary');
    expect((gate.saved.get(committed.id) as any).stages.find((s: any) => s.name === 'Deploy canary').manifests[0].spec.replicas).toBe(3);
    expect((await cli(args())).output).toContain('updated: checkout canary'); // back to the example
    rmSync(dir, { recursive: true });
  });

  it('refuses a hand-made pipeline whose name differs only in case (Front50 compares names case-insensitively)', async () => {
    process.env.GATE_TOKEN = TOKEN;
    const committed = JSON.parse(readFileSync(`${EXAMPLE}/pipelines/checkout-promote.json`, 'utf8'));
    gate.saved.delete(committed.id);
    gate.saved.set('hand-made-case', { id: 'hand-made-case', name: 'Checkout Promote', application: 'checkout', stages: [] });
    const { code, output } = await cli(args());
    expect(code).toBe(1);
    expect(output).toContain('refused: "checkout promote" already exists as "Checkout Promote" with id hand-made-case');
    expect(gate.saved.has(committed.id)).toBe(false);
    gate.saved.delete('hand-made-case');
  });

  it('refuses to overwrite a same-named pipeline this tool did not write', async () => {
    process.env.GATE_TOKEN = TOKEN;
    const committed = JSON.parse(readFileSync(`${EXAMPLE}/pipelines/checkout-rollback.json`, 'utf8'));
    gate.saved.delete(committed.id);
    gate.saved.set('hand-made', { id: 'hand-made', name: committed.name, application: 'checkout', stages: [] });
    const { code, output } = await cli(args());
    expect(code).toBe(1);
    expect(output).toContain('refused: "checkout rollback" already exists with id hand-made');
    expect(gate.saved.get('hand-made')!.stages).toEqual([]);
  });
});

describe('pipelines apply: generated pipelines are marked, locked, pruned; the application is created', () => {
  const TOKEN = 'gate-test-token-2';
  let gate: ReturnType<typeof fakeGate>;
  let url: string;
  beforeAll(async () => {
    gate = fakeGate(TOKEN);
    await new Promise<void>((resolve) => gate.server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(gate.server.address() as AddressInfo).port}`;
    process.env.GATE_TOKEN = TOKEN;
  });
  afterAll(() => {
    delete process.env.GATE_TOKEN;
    return new Promise((resolve) => gate.server.close(resolve));
  });
  afterEach(() => expect(gate.unexpected).toEqual([]));

  /** A copy of the example as application `app` (its own pipelines in the stand-in). */
  function appCopy(app: string, edit: (params: any) => void = () => undefined) {
    const dir = exampleCopy();
    const params = JSON.parse(readFileSync(`${dir}/spin/config.json`, 'utf8'));
    params.application = app;
    edit(params);
    writeFileSync(`${dir}/spin/config.json`, JSON.stringify(params, null, 2));
    return { dir, args: ['apply', '--params', `${dir}/spin/config.json`, '--manifests', `${dir}/k8s`, '--gate', url] };
  }
  const ofApp = (app: string) => [...gate.saved.values()].filter((p) => p.application === app);

  it('the committed pipelines say where they come from (the parameter file in the repository) and are locked in Deck', () => {
    const canary = JSON.parse(readFileSync(`${EXAMPLE}/pipelines/checkout-canary.json`, 'utf8'));
    expect(sourcePath(`${EXAMPLE}/spin/config.json`)).toBe('examples/checkout/spin/config.json');
    expect(canary.generatedFrom).toBe('examples/checkout/spin/config.json');
    // Deck's IPipelineLock: {ui, allowUnlockUi, description}.
    expect(canary.locked).toEqual({ ui: true, allowUnlockUi: false, description: expect.stringContaining('Generated from examples/checkout/spin/config.json') });
  });

  it('creates a missing application (with the owner email Front50 requires) before saving its pipelines', async () => {
    const { dir, args } = appCopy('newapp');
    const without = await cli(args);
    expect(without.code).toBe(1);
    expect(without.output).toContain('Spinnaker has no application "newapp"; pass --owner-email ADDRESS');
    expect(ofApp('newapp')).toEqual([]);

    const dry = await cli([...args, '--dry-run', '--owner-email', 'team@example.com']);
    expect(dry.output).toContain('would create application: newapp (owner team@example.com)');
    expect(dry.output).toContain('would create: newapp canary');
    expect(gate.applications.has('newapp')).toBe(false);

    const created = await cli([...args, '--owner-email', 'team@example.com']);
    expect(created.code).toBe(0);
    expect(created.output).toContain('created application: newapp (owner team@example.com)');
    expect(created.output).toContain('created: newapp canary');
    expect(gate.applications.get('newapp')).toEqual({ name: 'newapp', email: 'team@example.com' });
    expect(ofApp('newapp')).toHaveLength(3);
    expect(gate.requests.filter((r) => r.startsWith('POST /tasks'))).toHaveLength(1);

    const again = await cli(args);
    expect(again.output.split('\n').filter((l) => l.startsWith('unchanged:'))).toHaveLength(3);
    rmSync(dir, { recursive: true });
  });

  it('an application Front50 refuses (empty email) fails the apply with the reason and saves nothing', async () => {
    const { dir, args } = appCopy('noemail');
    const { code, output } = await cli([...args, '--owner-email', ' ']);
    expect(code).toBe(1);
    expect(output).toContain("createApplication task");
    expect(output).toContain('TERMINAL');
    expect(ofApp('noemail')).toEqual([]);
    rmSync(dir, { recursive: true });
  });

  it('lists, and with --prune deletes, its own pipelines that are no longer rendered; never a hand-made one or another file\'s', async () => {
    gate.applications.set('prune', { name: 'prune', email: 'team@example.com' });
    const all = appCopy('prune');
    expect((await cli(all.args)).code).toBe(0);
    expect(ofApp('prune').map((p) => p.name).sort()).toEqual(['prune canary', 'prune promote', 'prune rollback']);
    // Not ours: a hand-made pipeline, and one generated from another parameter file.
    gate.saved.set('hand-made-prune', { id: 'hand-made-prune', name: 'prune hotfix', application: 'prune', stages: [] });
    gate.saved.set('other-file', { id: 'other-file', name: 'prune staging canary', application: 'prune', generatedFrom: 'other/spin/config.json', stages: [] });

    const fewer = appCopy('prune', (params) => (params.pipelines = { promote: false }));
    const listed = await cli(fewer.args);
    expect(listed.code).toBe(0);
    expect(listed.output).toMatch(/^stale: prune promote \([0-9a-f-]{36}\) was generated from examples\/checkout\/spin\/config\.json and is no longer rendered; apply --prune deletes it$/m);
    expect(listed.output).not.toMatch(/hotfix|staging/);
    expect(ofApp('prune')).toHaveLength(5);

    const dry = await cli([...fewer.args, '--prune', '--dry-run']);
    expect(dry.output).toMatch(/^would delete: prune promote/m);
    expect(ofApp('prune')).toHaveLength(5);

    const pruned = await cli([...fewer.args, '--prune']);
    expect(pruned.code).toBe(0);
    expect(pruned.output).toMatch(/^deleted: prune promote/m);
    expect(gate.requests).toContain('DELETE /pipelines/prune/prune%20promote');
    expect(ofApp('prune').map((p) => p.name).sort()).toEqual(['prune canary', 'prune hotfix', 'prune rollback', 'prune staging canary']);
    for (const dir of [all.dir, fewer.dir]) rmSync(dir, { recursive: true });
  });

  it('prunes nothing when a save failed (the application never loses both versions)', async () => {
    gate.applications.set('halfway', { name: 'halfway', email: 'team@example.com' });
    const all = appCopy('halfway');
    expect((await cli(all.args)).code).toBe(0);
    const fewer = appCopy('halfway', (params) => (params.pipelines = { promote: false }));
    // A hand-made "halfway canary" with another id: the canary's save is refused.
    const canary = ofApp('halfway').find((p) => p.name === 'halfway canary')!;
    gate.saved.delete(String(canary.id));
    gate.saved.set('hand-made-halfway', { id: 'hand-made-halfway', name: 'Halfway Canary', application: 'halfway', stages: [] });
    const { code, output } = await cli([...fewer.args, '--prune']);
    expect(code).toBe(1);
    expect(output).toMatch(/^kept: halfway promote .*not pruned because a save above failed$/m);
    expect(ofApp('halfway').map((p) => p.name)).toContain('halfway promote');
    for (const dir of [all.dir, fewer.dir]) rmSync(dir, { recursive: true });
  });
});

describe('triggers and images', () => {
  async function renderCopy(edit: (dir: string, params: any) => void) {
    const dir = exampleCopy();
    rmSync(`${dir}/pipelines`, { recursive: true });
    const params = JSON.parse(readFileSync(`${dir}/spin/config.json`, 'utf8'));
    edit(dir, params);
    writeFileSync(`${dir}/spin/config.json`, JSON.stringify(params, null, 2));
    const result = await cli(['render', '--params', `${dir}/spin/config.json`, '--manifests', `${dir}/k8s`]);
    const read = (name: string) => JSON.parse(readFileSync(`${dir}/pipelines/${name}`, 'utf8'));
    return { ...result, dir, read };
  }
  const setImage = (dir: string, image: string) => {
    const text = readFileSync(`${dir}/k8s/deployment.yaml`, 'utf8');
    writeFileSync(`${dir}/k8s/deployment.yaml`, text.replace(/image: \S+/, `image: ${image}`));
  };

  it('refuses a trigger whose repository is not the release image\'s, naming both files and lines', async () => {
    const { code, output, dir } = await renderCopy((d, params) => {
      setImage(d, 'registry.internal:5000/fin/payments:7');
      params.triggers = [{ type: 'docker', account: 'internal', repository: 'fin/payments-WRONG' }];
    });
    expect(code).toBe(2);
    expect(output).toMatch(new RegExp(`${dir}/spin/config\\.json:\\d+: \\$\\.triggers\\[0\\]\\.repository: the trigger's repository "fin/payments-WRONG" is not the release image's repository "fin/payments" \\(image "registry\\.internal:5000/fin/payments:7"\\), written in ${dir}/k8s/deployment\\.yaml:21`));
    expect(output).toContain('fix: set "repository" to "fin/payments"');
    expect(existsSync(`${dir}/pipelines`)).toBe(false);
    rmSync(dir, { recursive: true });
  });

  it('refuses a git trigger with the reason', async () => {
    const { code, output, dir } = await renderCopy((_d, params) => params.triggers.push({ type: 'git', source: 'github', project: 'shop', slug: 'checkout' }));
    expect(code).toBe(2);
    expect(output).toMatch(/spin\/config\.json:\d+: \$\.triggers\[\d+\]: a git trigger never starts this pipeline/);
    expect(output).toContain('replace it with a docker trigger on the image your CI builds from that push (repository "shop/checkout")');
    rmSync(dir, { recursive: true });
  });

  it('Docker Hub images are named as echo names them (index.docker.io/library/…), the trigger as the registry account lists it', async () => {
    const { code, read, dir } = await renderCopy((d, params) => {
      setImage(d, 'nginx:1.25');
      params.triggers = [{ type: 'docker', account: 'dockerhub', repository: 'nginx' }];
    });
    expect(code).toBe(0);
    const canary = read('checkout-canary.json');
    expect(canary.triggers[0]).toMatchObject({ type: 'docker', repository: 'library/nginx', organization: 'library' });
    expect(canary.expectedArtifacts[0].matchArtifact).toEqual({ type: 'docker/image', name: 'index.docker.io/library/nginx' });
    const deploy = canary.stages.find((s: any) => s.name === 'Deploy canary');
    expect(deploy.manifests[0].spec.template.spec.containers[0].image).toBe('index.docker.io/library/nginx');
    rmSync(dir, { recursive: true });
  });

  it('a registry with a port: derived manifests carry a tag, so Clouddriver reads the artifact name back (not "registry.internal")', async () => {
    const { code, read, dir } = await renderCopy((d, params) => {
      setImage(d, 'registry.internal:5000/fin/payments:7');
      params.triggers = [{ type: 'docker', account: 'internal', repository: 'fin/payments' }];
    });
    expect(code).toBe(0);
    const canary = read('checkout-canary.json');
    expect(canary.expectedArtifacts[0].matchArtifact.name).toBe('registry.internal:5000/fin/payments');
    const deploy = canary.stages.find((s: any) => s.name === 'Deploy canary');
    expect(deploy.manifests[0].spec.template.spec.containers[0].image).toBe('registry.internal:5000/fin/payments:7');
    rmSync(dir, { recursive: true });
  });

  it('a manual run defaults to the last run\'s image, then to the release image as echo would name it (digest kept)', async () => {
    const digest = `sha256:${'e'.repeat(64)}`;
    const { code, read, dir } = await renderCopy((d) => setImage(d, `ghcr.io/shop/checkout:1.4.2@${digest}`));
    expect(code).toBe(0);
    expect(read('checkout-canary.json').expectedArtifacts[0]).toMatchObject({
      useDefaultArtifact: true,
      usePriorArtifact: true,
      defaultArtifact: { type: 'docker/image', name: 'ghcr.io/shop/checkout', version: digest, reference: `ghcr.io/shop/checkout@${digest}` },
    });
    rmSync(dir, { recursive: true });
  });
});

describe('bad input: a clear error naming file and line, nothing written', () => {
  async function renderBroken(edit: (dir: string) => void) {
    const dir = exampleCopy();
    const before = readFileSync(`${dir}/pipelines/checkout-canary.json`, 'utf8');
    edit(dir);
    const result = await cli(['render', '--params', `${dir}/spin/config.json`, '--manifests', `${dir}/k8s`]);
    // Nothing partial: the previous files are untouched and no temporary file is left.
    expect(readFileSync(`${dir}/pipelines/checkout-canary.json`, 'utf8')).toBe(before);
    expect(readdirSync(`${dir}/pipelines`).sort()).toEqual(['checkout-canary.json', 'checkout-promote.json', 'checkout-rollback.json']);
    rmSync(dir, { recursive: true });
    return { ...result, dir };
  }

  it('malformed JSON: file:line:column of the error', async () => {
    const { code, output, dir } = await renderBroken((d) => writeFileSync(`${d}/spin/config.json`, '{\n  "application": "checkout",\n  "account": "prod-k8s",\n}\n'));
    expect(code).toBe(2);
    expect(output).toContain(`${dir}/spin/config.json:4:1: $: not valid JSON: Unexpected token }`);
  });

  it('a parameter file over the limit is refused before it is parsed', async () => {
    const { code, output, dir } = await renderBroken((d) => writeFileSync(`${d}/spin/config.json`, `{"application": "${'x'.repeat(INPUT_LIMITS.paramsBytes)}"}`));
    expect(code).toBe(2);
    expect(output).toContain(`${dir}/spin/config.json: (file): the parameter file is 1.00 MiB, over the 1 MiB limit`);
  });

  it('a manifest file over the limit, and k8s/ over its total, are refused naming them', async () => {
    const big = `# padding\n${'#'.repeat(INPUT_LIMITS.manifestFileBytes)}\n`;
    const one = await renderBroken((d) => writeFileSync(`${d}/k8s/huge.yaml`, big));
    expect(one.code).toBe(2);
    expect(one.output).toContain(`${one.dir}/k8s/huge.yaml: (file): the manifest file is 1.00 MiB, over the 1 MiB limit`);
    const many = await renderBroken((d) => {
      for (let i = 0; i < 6; i++) writeFileSync(`${d}/k8s/part-${i}.yaml`, `# ${'#'.repeat(INPUT_LIMITS.manifestFileBytes - 100)}\n`);
    });
    expect(many.code).toBe(2);
    expect(many.output).toMatch(new RegExp(`${many.dir}/k8s: \\(file\\): k8s/ \\(its \\.yaml files together\\) is 6\\.\\d\\d MiB, over the 5 MiB limit`));
  });

  it('a YAML alias bomb is refused naming the file and the document\'s line', async () => {
    const bomb = ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: lol', 'data:', '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', '  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]', '  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]', '  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]', '  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]', '  f: [*e,*e,*e,*e,*e,*e,*e,*e,*e]', ''].join('\n');
    const { code, output, dir } = await renderBroken((d) => writeFileSync(`${d}/k8s/bomb.yaml`, `---\n${bomb}`));
    expect(code).toBe(2);
    expect(output).toContain(`${dir}/k8s/bomb.yaml:2: (YAML): the document starting here cannot be read: Excessive alias count indicates a resource exhaustion attack (its aliases expand past 100 references)`);
  });
});

it('the example output directory holds exactly the rendered pipelines', () => {
  expect(readdirSync(`${EXAMPLE}/pipelines`).sort()).toEqual(['checkout-canary.json', 'checkout-promote.json', 'checkout-rollback.json']);
});

describe('the committed shift stages', () => {
  const stages = readdirSync(`${EXAMPLE}/pipelines`)
    .flatMap((f) => JSON.parse(readFileSync(`${EXAMPLE}/pipelines/${f}`, 'utf8')).stages as Array<Record<string, any>>)
    .filter((s) => s.type === 'istioTrafficShift');

  it('carry restartedAt and abandonAfter as the service expects them, and pass its validation', () => {
    expect(stages.map((s) => s.name)).toEqual(['Shift traffic to canary', 'Return all traffic to release', 'Return all traffic to release']);
    for (const stage of stages) {
      expect(stage.payload.restartedAt).toBe(RESTART_EXPRESSION);
      expect(stage.payload.abandonAfter).toBe(ABANDON_AFTER_DEFAULT);
      expect(stage.payload.stageRef).toBe(stage.refId);
      // What the service receives once Orca has evaluated ${execution.id} (restartedAt stays: no restart yet).
      const result = validateShiftSpec({ ...stage.payload, executionId: '01HEXAMPLEEXECUTION' });
      expect(result.ok ? { restartedAt: result.spec.restartedAt, abandonAfterSeconds: result.spec.abandonAfterSeconds } : result).toEqual({ restartedAt: 0, abandonAfterSeconds: 120 });
    }
  });
});
