/**
 * The playground served at `/` by `npm start` in embedded mode: the plugin's real stage editor and
 * execution details (deck-plugin/src, rendered with the real @spinnaker/core 0.29.1 as the browser
 * test harness does) beside the embedded store's VirtualServices. "Run" creates a shift through
 * the service's API and polls it as Orca would; the page charts the live route weights, shows the
 * execution details from an Orca-shaped stage, and lists the exact JSON Patches the store received.
 */
import * as angular from 'angular';
import React from 'react';
import ReactDOM from 'react-dom';
import { ApplicationModelBuilder } from '@spinnaker/core';
import type { Application, IExecution, IExecutionStage, IStage } from '@spinnaker/core';
import type { ShiftStatus } from '@istio-shift/core';
import { istioTrafficShiftStage } from '../src/stage';
import { injectStyles } from '../src/styles';
import { CanaryHealth, LiveVirtualService, LoggedPatch, playgroundApi, token } from './api';
import { PLAYGROUND_PAYLOAD } from './example';
import { WeightChart, WeightSample, routeWeights } from './chart';

const POLL_MS = 1000;

interface Run {
  startedAt: number;
  /** The create's HTTP status and body (a status, or the service's error). */
  createCode: number;
  created: unknown;
  latest?: ShiftStatus;
  spec: { account: string; namespace: string; virtualService: string; route: { protocol: string; name?: string; index?: number } };
}

/** Core's test application; it needs the Angular services, so it is created after bootstrap. */
const core: { application?: Application } = {};

/** What Orca does to the stage's SpEL before it sends the payload: a fresh execution id, restart time 0. */
function resolvedPayload(payload: Record<string, unknown>): Record<string, unknown> {
  return { ...payload, executionId: `playground-${Date.now().toString(36)}`, restartedAt: 0 };
}

/** Orca's stage status from the shift's (Orca maps the same words through the webhook's statuses). */
function orcaStatus(run: Run): string {
  if (run.latest) return run.latest.status;
  return run.createCode >= 400 ? 'TERMINAL' : 'RUNNING';
}

/** The stage as Orca's webhook tasks store it: create answer in webhook.body, last poll in webhook.monitor.body. */
function orcaStage(stage: IStage, run: Run): IExecutionStage {
  const webhook: Record<string, unknown> = { statusCodeValue: run.createCode, body: run.created };
  if (run.latest) webhook.monitor = { body: run.latest, progressMessage: run.latest.message };
  return {
    id: 'playground-stage',
    refId: String(stage.refId),
    type: istioTrafficShiftStage.key,
    name: stage.name,
    status: orcaStatus(run),
    startTime: run.startedAt,
    context: { ...stage, webhook },
    outputs: {},
    tasks: [],
  } as unknown as IExecutionStage;
}

function Editor({ stage, onChange }: { stage: IStage; onChange: () => void }) {
  const Component = istioTrafficShiftStage.component!;
  const updateStage = React.useCallback((changes: object) => {
    Object.assign(stage, changes);
    onChange();
  }, []);
  return (
    <Component
      application={core.application!}
      pipeline={{ id: 'playground', name: 'Playground', application: 'playground', stages: [stage], triggers: [] } as never}
      stage={stage}
      updateStage={updateStage}
      updateStageField={updateStage}
      stageFieldUpdated={onChange}
      configuration={{}}
    />
  );
}

function ExecutionDetails({ stage, run }: { stage: IStage; run: Run }) {
  const Section = istioTrafficShiftStage.executionDetailsSections![0];
  const execution = { id: 'playground-execution', application: 'playground', name: 'Playground', stages: [], trigger: { type: 'manual' } } as unknown as IExecution;
  const executionStage = orcaStage(stage, run);
  return (
    <div className="execution-details">
      <Section name={Section.title} current={Section.title} application={core.application!} execution={execution} stage={executionStage} provider="" detailsSections={[Section]} config={istioTrafficShiftStage} />
    </div>
  );
}

function VirtualServices({ list }: { list: LiveVirtualService[] }) {
  return (
    <div className="pg-vs-list" data-testid="virtual-services">
      <h4>Embedded VirtualServices</h4>
      {list.map((vs) => (
        <details key={`${vs.namespace}/${vs.name}`} className="pg-vs">
          <summary>
            <strong>{vs.namespace}/{vs.name}</strong> <span className="pg-muted">account {vs.account}, resourceVersion {vs.resourceVersion}</span>
            {(vs.spec.http ?? []).map((route, i) => (
              <div key={i} className="pg-route">
                http[{i}]{route.name ? ` "${route.name}"` : ''}: {(route.route ?? []).map((r) => `${r.destination.subset ?? r.destination.host} ${r.weight ?? (route.route!.length === 1 ? 100 : 0)}`).join(', ')}
              </div>
            ))}
          </summary>
          <pre>{JSON.stringify(vs.spec, null, 2)}</pre>
        </details>
      ))}
    </div>
  );
}

function Patches({ patches }: { patches: LoggedPatch[] }) {
  return (
    <div className="pg-patches" data-testid="patches">
      <h4>JSON Patches the embedded store received ({patches.length})</h4>
      {patches.map((patch) => (
        <details key={patch.seq} className="pg-patch" data-outcome={patch.outcome}>
          <summary>
            #{patch.seq} {patch.time.slice(11, 23)} {patch.outcome}
            {patch.resourceVersion ? ` (resourceVersion ${patch.resourceVersion})` : ''}: {patch.operations.filter((o) => o.path.includes('/weight')).map((o) => `${o.op} ${o.path} = ${JSON.stringify(o.value)}`).join('; ') || `${patch.operations.length} operations`}
          </summary>
          <pre>{JSON.stringify(patch.operations, null, 2)}</pre>
        </details>
      ))}
    </div>
  );
}

function Playground() {
  const stage = React.useMemo(() => ({ refId: '1', requisiteStageRefIds: [], type: istioTrafficShiftStage.key, name: 'Istio Traffic Shift', payload: JSON.parse(JSON.stringify(PLAYGROUND_PAYLOAD)) }) as unknown as IStage, []);
  const [, setVersion] = React.useState(0);
  const refresh = React.useCallback(() => setVersion((v) => v + 1), []);
  const [virtualServices, setVirtualServices] = React.useState<LiveVirtualService[]>([]);
  const [run, setRun] = React.useState<Run>();
  const [samples, setSamples] = React.useState<WeightSample[]>([]);
  const [patches, setPatches] = React.useState<LoggedPatch[]>([]);
  const [health, setHealth] = React.useState<CanaryHealth>('healthy');
  const [problem, setProblem] = React.useState<string>();
  const [tokenText, setTokenText] = React.useState(token.get());
  const runRef = React.useRef<Run>();
  runRef.current = run;
  /** The last patch shown: a run shows the patches after the ones the store had when it started. */
  const lastSeq = React.useRef(0);

  React.useEffect(() => {
    playgroundApi.canaryHealth().then((answer) => answer.status === 200 && setHealth(answer.body.canaryHealth));
    let stopped = false;
    const tick = async () => {
      const current = runRef.current;
      try {
        if (current?.latest && current.latest.status === 'RUNNING') {
          // Polls advance the shift, as Orca's do (the service takes due steps on a poll).
          const answer = await playgroundApi.poll(current.latest.statusUrl);
          if (answer.status === 200) setRun((r) => (r === current ? { ...current, latest: answer.body } : r));
        }
        const list = await playgroundApi.virtualServices();
        if (list.status !== 200) {
          setProblem(`GET /playground/virtual-services answered ${list.status}: ${JSON.stringify(list.body)}`);
        } else {
          setProblem(undefined);
          setVirtualServices(list.body.virtualServices);
          if (current) {
            const weights = routeWeights(list.body.virtualServices, current.spec);
            if (weights) setSamples((s) => [...s, { at: Date.now() - current.startedAt, ...weights }].slice(-600));
            const found = await playgroundApi.patches(current.spec.account, current.spec.namespace, current.spec.virtualService, lastSeq.current);
            if (found.status === 200 && found.body.patches.length && runRef.current === current) {
              lastSeq.current = found.body.patches[found.body.patches.length - 1].seq;
              setPatches((p) => [...p, ...found.body.patches]);
            }
          }
        }
      } catch (error) {
        setProblem(String(error));
      }
      if (!stopped) setTimeout(tick, POLL_MS);
    };
    void tick();
    return () => {
      stopped = true;
    };
  }, []);

  const start = async () => {
    const payload = resolvedPayload(stage.payload as Record<string, unknown>);
    const spec = payload as unknown as Run['spec'];
    const startedAt = Date.now();
    // Patches of this run only: the log's entries from now on.
    const before = await playgroundApi.patches(spec.account, spec.namespace, spec.virtualService, 0);
    lastSeq.current = before.status === 200 ? Math.max(0, ...before.body.patches.map((p) => p.seq)) : 0;
    const answer = await playgroundApi.create(payload);
    setPatches([]);
    setSamples([]);
    setRun({ startedAt, createCode: answer.status, created: answer.body, latest: answer.status < 300 ? answer.body : undefined, spec });
  };

  const cancel = async () => {
    const current = runRef.current;
    if (!current?.latest) return;
    const answer = await playgroundApi.cancel(current.latest.cancelUrl);
    if (answer.status === 200 && (answer.body as { status?: string }).status !== 'NOT_FOUND') setRun((r) => (r === current ? { ...current, latest: answer.body } : r));
  };

  const toggleHealth = async (next: CanaryHealth) => {
    // Shown at once; the service's answer (or its refusal) then sets what is really in effect.
    setHealth(next);
    const answer = await playgroundApi.setCanaryHealth(next);
    if (answer.status === 200) setHealth(answer.body.canaryHealth);
    else playgroundApi.canaryHealth().then((current) => current.status === 200 && setHealth(current.body.canaryHealth));
  };

  const running = run?.latest?.status === 'RUNNING';
  return (
    <div className="pg">
      <header className="pg-header">
        <h3>Istio Traffic Shift playground</h3>
        <span className="pg-muted">
          Embedded mode: an in-memory example store, not a cluster. Every call uses the API token{' '}
          <input aria-label="API token" className="input-sm" value={tokenText} onChange={(e) => setTokenText(e.target.value)} onBlur={() => token.set(tokenText)} />
        </span>
      </header>
      {problem && <div className="alert alert-danger" data-testid="problem">{problem}</div>}
      <div className="pg-columns">
        <section className="pg-left">
          <VirtualServices list={virtualServices} />
          <div className="pg-simulated" data-testid="simulated-metrics">
            <h4>Simulated metrics (not real)</h4>
            <p className="pg-muted">
              The analysis source <code>simulated</code> makes up Istio request counts for every workload. Workloads whose name contains
              &quot;canary&quot; follow this switch:
            </p>
            {(['healthy', 'failing'] as const).map((value) => (
              <label key={value} className="pg-radio">
                <input type="radio" name="canary-health" checked={health === value} onChange={() => toggleHealth(value)} /> Simulated canary {value}
                {value === 'failing' ? ' (30% 5xx)' : ''}
              </label>
            ))}
          </div>
        </section>
        <section className="pg-editor">
          <h4>Stage editor (the Deck plugin&apos;s)</h4>
          <Editor stage={stage} onChange={refresh} />
          <div className="pg-actions">
            <button type="button" className="btn btn-primary" onClick={start} disabled={running}>
              Run
            </button>{' '}
            <button type="button" className="btn btn-default" onClick={cancel} disabled={!running}>
              Cancel
            </button>{' '}
            <span data-testid="run-status">{run ? (run.latest ? `${run.latest.status}: ${run.latest.message}` : `create answered ${run.createCode}`) : 'not run yet'}</span>
          </div>
        </section>
        <section className="pg-run">
          {run ? (
            <>
              <WeightChart samples={samples} />
              <ExecutionDetails stage={stage} run={run} />
              <Patches patches={patches} />
            </>
          ) : (
            <p className="pg-muted">Press Run: the chart, the execution details and the JSON Patches appear here.</p>
          )}
        </section>
      </div>
    </div>
  );
}

// Deck's Angular modules that core's services need (ngimport's $http for Gate calls, core's React
// bridge and override registry), plus a request interceptor: the editor's Gate calls go to the
// service's /playground/gate stand-in, with the token like every other call. Core's REST() sends
// through AngularJS $http (spinnaker/deck packages/core/src/api/ApiService.ts, defaultHttpClient =
// AngularJSHttpClient, commit 3f2418ea6d1ecf61b7e9d38e8c90d74ff7619ef6), so an $http interceptor sees
// every Gate call, as Deck's own gateRequestInterceptor does (authentication.module.ts).
angular.module('playground.auth', []).config([
  '$httpProvider',
  ($httpProvider: { interceptors: unknown[] }) => {
    $httpProvider.interceptors.push(() => ({
      request: (config: { url: string; headers: Record<string, string> }) => {
        if (config.url.startsWith(`${window.location.origin}/playground/gate`)) config.headers.Authorization = `Bearer ${token.get()}`;
        return config;
      },
    }));
  },
]);
angular.bootstrap(document.getElementById('ng-app')!, ['bcherny/ngimport', 'ui.router', 'spinnaker.core.react', 'spinnaker.core.override.registry', 'playground.auth']);
core.application = ApplicationModelBuilder.createApplicationForTests('playground');
injectStyles();
ReactDOM.render(<Playground />, document.getElementById('app'));
