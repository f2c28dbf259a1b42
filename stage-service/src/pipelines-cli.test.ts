/**
 * The pipelines CLI end to end on files: the committed example is fresh, bad input exits 2 with
 * every problem and writes nothing, and `apply` talks to a scripted local HTTP server standing in
 * for Gate's pipeline API (GET /applications/{app}/pipelineConfigs, POST /pipelines).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { createServer, IncomingMessage, Server } from 'http';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { ABANDON_AFTER_DEFAULT, RESTART_EXPRESSION, validateShiftSpec } from '@istio-shift/core';
import { runPipelines, writeAllOrNothing } from './pipelines-cli';

const EXAMPLE = path.resolve(__dirname, '../../examples/checkout');

async function cli(args: string[]): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await runPipelines(args, (line) => lines.push(line));
  return { code, output: lines.join('\n') };
}

/** A copy of the example to break. */
function exampleCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelines-'));
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

/** A scripted stand-in for Gate's pipeline API: an in-memory Front50 behind GET/POST. */
function fakeGate(token: string) {
  const saved = new Map<string, Record<string, unknown>>();
  const requests: string[] = [];
  const body = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let text = '';
      req.on('data', (chunk) => (text += chunk));
      req.on('end', () => resolve(text));
    });
  const server: Server = createServer(async (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.statusCode = 401;
      return res.end('{"error":"Unauthorized"}');
    }
    const list = /^\/applications\/([^/]+)\/pipelineConfigs$/.exec(req.url ?? '');
    if (req.method === 'GET' && list) {
      res.setHeader('Content-Type', 'application/json');
      return res.end(JSON.stringify([...saved.values()].filter((p) => p.application === list[1])));
    }
    if (req.method === 'POST' && req.url === '/pipelines') {
      const pipeline = JSON.parse(await body(req));
      // Front50 stores the index it is sent; Deck gives one to a pipeline that has none.
      saved.set(pipeline.id, { ...pipeline, updateTs: String(Date.now()), lastModifiedBy: 'anonymous', index: pipeline.index ?? saved.size });
      return res.end();
    }
    res.statusCode = 404;
    res.end();
  });
  return { server, saved, requests };
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
