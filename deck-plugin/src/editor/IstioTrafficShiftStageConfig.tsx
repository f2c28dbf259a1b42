/**
 * The stage editor. Deck renders it inside its stage config (StageConfigWrapper) with the stage
 * object Angular owns; FormikStageConfig keeps the form state, and every change writes back only
 * `payload` (the service's request body) and `stageTimeoutMs`.
 */
import React from 'react';
import {
  CheckboxInput,
  FormikStageConfig,
  HelpField,
  RadioButtonInput,
  SelectInput,
} from '@spinnaker/core';
import type { IStage, IStageConfigProps } from '@spinnaker/core';
import {
  LIMITS,
  defaultLabel,
  isExpression,
  planShift,
  selectRoute,
  validateShiftSpec,
} from '@istio-shift/core';
import type { Problem } from '@istio-shift/core';
import {
  CONTAINER_MESSAGE_KEY,
  EXECUTION_ID_EXPRESSION,
  PRESETS,
  PayloadDraft,
  RouteDraft,
  addDestination,
  addStep,
  cleanPayload,
  isShownField,
  newPayload,
  removeDestination,
  removeStep,
  stageTimeout,
  sumWeights,
  withoutBlanks,
} from '../model';
import { validateIstioTrafficShiftStage } from '../validate';
import {
  AccountsResult,
  LiveLookup,
  LiveRoute,
  loadKubernetesAccounts,
  lookupBlocker,
  readVirtualService,
} from '../live';
import { Field, StageFormik, numberTextInput, textInput, RemoveButton } from './fields';
import { AnalysisSection } from './AnalysisSection';

const OTHER_ACCOUNT = '__istio_other_account__';
const LOOKUP_DELAY_MS = 500;
// react-select's Option type is not installed, so core's option type does not resolve here.
const CANCEL_OPTIONS = [
  { label: 'Roll back to the weights before the shift', value: 'rollback' },
  { label: 'Hold the current weights', value: 'hold' },
] as unknown as React.ComponentProps<typeof RadioButtonInput>['options'];

/** The fields this editor owns in the stage, derived from the form values. */
export function savedFields(values: Partial<IStage>, refId: IStage['refId']): { payload: PayloadDraft; stageTimeoutMs: number } {
  const draft = (values.payload ?? newPayload(String(refId))) as PayloadDraft;
  const payload = cleanPayload({
    ...draft,
    executionId: draft.executionId || EXECUTION_ID_EXPRESSION,
    stageRef: String(refId),
  });
  return { payload, stageTimeoutMs: stageTimeout(payload).stageTimeoutMs };
}

/** The stage as the form starts: a new payload for a new stage; the stageRef always this stage's refId. */
export function initialStage(stage: IStage): IStage {
  const existing = stage.payload as PayloadDraft | undefined;
  const fresh = withoutBlanks(newPayload(String(stage.refId)));
  const payload: PayloadDraft = existing && typeof existing === 'object' ? { ...fresh, ...existing } : fresh;
  payload.stageRef = String(stage.refId);
  payload.executionId = payload.executionId || EXECUTION_ID_EXPRESSION;
  if (!payload.route || typeof payload.route !== 'object') payload.route = { protocol: 'http' };
  if (!Array.isArray(payload.destinations)) payload.destinations = [];
  if (!Array.isArray(payload.steps)) payload.steps = [];
  return { ...stage, payload, stageTimeoutMs: stageTimeout(payload).stageTimeoutMs };
}

export function IstioTrafficShiftStageConfig(props: IStageConfigProps) {
  const { stage, updateStage } = props;
  const initial = React.useMemo(() => initialStage(stage), []);
  React.useEffect(() => {
    // A new stage, a copied stage (new refId) or one edited as JSON gets its derived fields now.
    updateStage(savedFields(initial, stage.refId));
  }, []);
  const onChange = React.useCallback((values: IStage) => updateStage(savedFields(values, stage.refId)), [stage.refId]);
  return (
    <FormikStageConfig
      {...props}
      stage={initial}
      validate={validateIstioTrafficShiftStage}
      onChange={onChange}
      render={({ formik }) => <ShiftForm formik={formik as unknown as StageFormik} />}
    />
  );
}

function getIn(source: unknown, path: string): unknown {
  return path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), source);
}

function hasTouchedUnder(touched: unknown, path: string): boolean {
  const node = getIn(touched, path);
  if (node === true) return true;
  if (node && typeof node === 'object') return Object.keys(node).some((key) => hasTouchedUnder(node, key));
  return false;
}

/** A message about a whole group (route, a destination, a step's weights), once the group was touched. */
function GroupMessage({ formik, path, testId, touchedPaths }: { formik: StageFormik; path: string; testId?: string; touchedPaths?: string[] }) {
  const message = getIn(formik.errors, `${path}.${CONTAINER_MESSAGE_KEY}`);
  const touched = (touchedPaths ?? [path]).some((p) => hasTouchedUnder(formik.touched, p));
  if (typeof message !== 'string' || !touched) return null;
  return (
    <div className="its-group-message error-message" data-testid={testId}>
      <span className="fa fa-exclamation-circle" /> {message}
    </div>
  );
}

function useAccounts(): AccountsResult | undefined {
  const [accounts, setAccounts] = React.useState<AccountsResult>();
  React.useEffect(() => {
    let live = true;
    loadKubernetesAccounts().then((result) => live && setAccounts(result));
    return () => {
      live = false;
    };
  }, []);
  return accounts;
}

function useLiveVirtualService(account: unknown, namespace: unknown, virtualService: unknown): LiveLookup {
  const blocker = lookupBlocker(account, namespace, virtualService);
  const [lookup, setLookup] = React.useState<LiveLookup>({ state: 'idle', reason: blocker ?? '' });
  React.useEffect(() => {
    if (blocker) {
      setLookup({ state: 'idle', reason: blocker });
      return undefined;
    }
    let current = true;
    setLookup({ state: 'loading' });
    const timer = setTimeout(() => {
      readVirtualService(String(account), String(namespace), String(virtualService)).then((result) => current && setLookup(result));
    }, LOOKUP_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [account, namespace, virtualService, blocker]);
  return lookup;
}

function AccountField({ formik, accounts }: { formik: StageFormik; accounts?: AccountsResult }) {
  const value = String(getIn(formik.values, 'payload.account') ?? '');
  const [freeText, setFreeText] = React.useState(false);
  const listed = accounts?.accounts ?? [];
  const useSelect = !freeText && listed.length > 0 && (value === '' || listed.includes(value));
  const help = <HelpField content="The Spinnaker Kubernetes account of the cluster. The service maps it to a cluster and the namespaces it may change. SpEL is allowed." />;
  if (useSelect) {
    const options = [{ label: 'Select an account…', value: '' }, ...listed.map((name) => ({ label: name, value: name })), { label: 'Other (type a name or SpEL)…', value: OTHER_ACCOUNT }];
    return (
      <Field
        name="payload.account"
        label="Account"
        help={help}
        input={(props) => (
          <SelectInput
            {...props}
            aria-label="Account"
            options={options}
            onChange={(event: React.ChangeEvent<HTMLSelectElement>) => {
              if (event.target.value === OTHER_ACCOUNT) {
                setFreeText(true);
                formik.setFieldValue('payload.account', '');
              } else if (props.onChange) props.onChange(event);
            }}
          />
        )}
      />
    );
  }
  const note = accounts?.error ?? (accounts ? undefined : 'Loading Kubernetes accounts…');
  return (
    <>
      <Field name="payload.account" label="Account" help={help} input={textInput({ 'aria-label': 'Account', placeholder: 'e.g. prod-k8s or ${trigger.parameters.account}' })} />
      <div className="its-note" data-testid="account-note">
        {note}
        {listed.length > 0 && (
          <button type="button" className="btn btn-link btn-sm" onClick={() => { setFreeText(false); formik.setFieldValue('payload.account', ''); }}>
            Choose from the {listed.length} Kubernetes accounts
          </button>
        )}
      </div>
    </>
  );
}

function Datalist({ id, values }: { id: string; values: string[] }) {
  return (
    <datalist id={id}>
      {values.map((value) => (
        <option key={value} value={value} />
      ))}
    </datalist>
  );
}

function RouteFields({ formik }: { formik: StageFormik }) {
  const route = (getIn(formik.values, 'payload.route') ?? { protocol: 'http' }) as RouteDraft;
  const protocol = ['http', 'tls', 'tcp'].includes(route.protocol) ? route.protocol : 'http';
  const by = route.index !== undefined && route.index !== '' ? 'index' : protocol === 'http' ? 'name' : 'port';
  const setRoute = (next: RouteDraft) => formik.setFieldValue('payload.route', next);
  const byOptions = protocol === 'http' ? ['name', 'index'] : ['port', 'index'];
  return (
    <div className="its-route">
      <Field
        name="payload.route.protocol"
        label="Route"
        help={<HelpField content="HTTP routes are picked by name (it survives reordering) or position; Istio's TLS and TCP routes have no name, so pick them by the port of one of their match blocks, or position." />}
        input={(props) => (
          <SelectInput
            {...props}
            aria-label="Route protocol"
            options={[{ label: 'HTTP', value: 'http' }, { label: 'TLS', value: 'tls' }, { label: 'TCP', value: 'tcp' }]}
            onChange={(event: React.ChangeEvent<HTMLSelectElement>) => {
              const next = event.target.value;
              setRoute(next === 'http' ? { protocol: next, name: '' } : { protocol: next, port: '' });
            }}
          />
        )}
      />
      <div className="sp-formItem its-field">
        <div className="sp-formItem__left" />
        <div className="sp-formItem__right its-route-by">
          <label className="its-inline-label">
            by{' '}
            <select
              className="form-control input-sm its-route-by-select"
              aria-label="Select the route by"
              value={by}
              onChange={(event) => {
                const next = event.target.value;
                setRoute(next === 'name' ? { protocol, name: '' } : next === 'port' ? { protocol, port: '' } : { protocol, index: 0 });
              }}
            >
              {byOptions.map((option) => (
                <option key={option} value={option}>
                  {option}
                </option>
              ))}
            </select>
          </label>
          {by === 'name' && <Field cell name="payload.route.name" input={textInput({ 'aria-label': 'Route name', placeholder: 'e.g. primary' })} />}
          {by === 'port' && <Field cell name="payload.route.port" input={numberTextInput(formik, { 'aria-label': 'Route port', placeholder: 'e.g. 443' })} />}
          {by === 'index' && <Field cell name="payload.route.index" input={numberTextInput(formik, { 'aria-label': 'Route index', placeholder: '0' })} />}
        </div>
      </div>
      <GroupMessage
        formik={formik}
        path="payload.route"
        testId="route-message"
        touchedPaths={['payload.route.name', 'payload.route.index', 'payload.route.port']}
      />
    </div>
  );
}

function destinationTitle(destination: { host?: string; subset?: string; label?: string }, index: number): string {
  if (destination.label) return destination.label;
  if (destination.subset || destination.host) return defaultLabel({ host: destination.host ?? '', subset: destination.subset });
  return `#${index + 1}`;
}

function DestinationsTable({ formik, live }: { formik: StageFormik; live?: LiveLookup }) {
  const payload = getIn(formik.values, 'payload') as PayloadDraft;
  const destinations = payload.destinations ?? [];
  const hosts = live?.state === 'loaded' ? live.live.hosts : [];
  const subsets = live?.state === 'loaded' ? live.live.subsets : [];
  return (
    <div className="its-section">
      <h5 className="its-heading">
        Destinations <HelpField content={`The route's destinations to weigh (at most ${LIMITS.maxDestinations}). A short host such as "checkout" matches checkout.<namespace>.svc.cluster.local. Destinations the route lacks are added; ones it has but this list lacks are an error unless "Remove unlisted destinations" is on.`} />
      </h5>
      <table className="table table-condensed its-table" aria-label="Destinations">
        <thead>
          <tr>
            <th>Host</th>
            <th>Subset</th>
            <th>Port</th>
            <th>Label</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {destinations.map((destination, i) => (
            <React.Fragment key={i}>
              <tr data-testid={`destination-row-${i}`}>
                <td>
                  <Field cell name={`payload.destinations[${i}].host`} input={textInput({ 'aria-label': `Host of destination ${i + 1}`, placeholder: 'checkout', list: 'its-live-hosts' })} />
                </td>
                <td>
                  <Field cell name={`payload.destinations[${i}].subset`} input={textInput({ 'aria-label': `Subset of destination ${i + 1}`, placeholder: 'canary', list: 'its-live-subsets' })} />
                </td>
                <td className="its-narrow">
                  <Field cell name={`payload.destinations[${i}].port`} input={numberTextInput(formik, { 'aria-label': `Port of destination ${i + 1}` })} />
                </td>
                <td>
                  <Field cell name={`payload.destinations[${i}].label`} input={textInput({ 'aria-label': `Label of destination ${i + 1}`, placeholder: destinationTitle({ ...destination, label: '' }, i) })} />
                </td>
                <td className="its-actions">
                  <RemoveButton label={`Remove destination ${i + 1}`} disabled={destinations.length <= 1} onClick={() => formik.setFieldValue('payload', removeDestination(payload, i))} />
                </td>
              </tr>
              {typeof getIn(formik.errors, `payload.destinations[${i}].${CONTAINER_MESSAGE_KEY}`) === 'string' && (
                <tr>
                  <td colSpan={5}>
                    <GroupMessage formik={formik} path={`payload.destinations[${i}]`} />
                  </td>
                </tr>
              )}
            </React.Fragment>
          ))}
        </tbody>
      </table>
      <GroupMessage formik={formik} path="payload.destinations" />
      <button
        type="button"
        className="btn btn-block btn-sm add-new"
        disabled={destinations.length >= LIMITS.maxDestinations}
        onClick={() => formik.setFieldValue('payload', addDestination(payload))}
      >
        <span className="glyphicon glyphicon-plus-sign" /> Add destination
      </button>
      <Datalist id="its-live-hosts" values={hosts} />
      <Datalist id="its-live-subsets" values={subsets} />
    </div>
  );
}

function SumIndicator({ weights, index }: { weights: unknown[]; index: number }) {
  const { sum, hasExpression, invalid } = sumWeights(weights as Array<number | string>);
  let text: string;
  let state: string;
  if (hasExpression) {
    text = 'SpEL: summed at run time';
    state = 'spel';
  } else if (invalid || sum === undefined) {
    text = 'not all numbers';
    state = 'bad';
  } else if (sum === 100) {
    text = '= 100 ✓';
    state = 'ok';
  } else {
    text = `= ${sum} (${sum < 100 ? `add ${100 - sum}` : `remove ${sum - 100}`})`;
    state = 'bad';
  }
  return (
    <span className={`its-sum its-sum-${state}`} data-testid={`sum-${index}`} aria-label={`Sum of step ${index + 1}`}>
      {text}
    </span>
  );
}

function StepsEditor({ formik }: { formik: StageFormik }) {
  const payload = getIn(formik.values, 'payload') as PayloadDraft;
  const destinations = payload.destinations ?? [];
  const steps = payload.steps ?? [];
  return (
    <div className="its-section">
      <h5 className="its-heading">
        Steps{' '}
        <HelpField content={`Each step sets one whole-number weight per destination, summing to 100, then holds it for the pause (90s, 10m, 1h30m or seconds; at most 7 days). The pause after the last step is a bake time before the stage succeeds. Weights and pauses accept SpEL. At most ${LIMITS.maxSteps} steps.`} />
      </h5>
      <table className="table table-condensed its-table its-steps" aria-label="Steps">
        <thead>
          <tr>
            <th>Step</th>
            {destinations.map((destination, j) => (
              <th key={j} className="its-weight-head">
                {destinationTitle(destination, j)}
              </th>
            ))}
            <th>Sum</th>
            <th>Pause</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {steps.map((step, i) => (
            <React.Fragment key={i}>
              <tr data-testid={`step-row-${i}`}>
                <td className="its-step-number">{i + 1}</td>
                {destinations.map((destination, j) => (
                  <td key={j} className="its-weight">
                    <Field
                      cell
                      name={`payload.steps[${i}].weights[${j}]`}
                      input={numberTextInput(formik, { 'aria-label': `Weight of ${destinationTitle(destination, j)} in step ${i + 1}` })}
                    />
                  </td>
                ))}
                <td>
                  <SumIndicator weights={Array.isArray(step.weights) ? step.weights : []} index={i} />
                </td>
                <td className="its-pause">
                  <Field cell name={`payload.steps[${i}].pause`} input={textInput({ 'aria-label': `Pause after step ${i + 1}`, placeholder: 'e.g. 10m' })} />
                </td>
                <td className="its-actions">
                  <RemoveButton label={`Remove step ${i + 1}`} disabled={steps.length <= 1} onClick={() => formik.setFieldValue('payload', removeStep(payload, i))} />
                </td>
              </tr>
              {(['', '.weights'] as const).map((suffix) =>
                typeof getIn(formik.errors, `payload.steps[${i}]${suffix}.${CONTAINER_MESSAGE_KEY}`) === 'string' ? (
                  <tr key={suffix}>
                    <td colSpan={destinations.length + 4}>
                      <GroupMessage formik={formik} path={`payload.steps[${i}]${suffix}`} testId={`step-message-${i}`} />
                    </td>
                  </tr>
                ) : null,
              )}
            </React.Fragment>
          ))}
        </tbody>
      </table>
      <GroupMessage formik={formik} path="payload.steps" />
      <button
        type="button"
        className="btn btn-block btn-sm add-new"
        disabled={steps.length >= LIMITS.maxSteps}
        onClick={() => formik.setFieldValue('payload', addStep(payload))}
      >
        <span className="glyphicon glyphicon-plus-sign" /> Add step
      </button>
    </div>
  );
}

function describeLiveRoute(route: LiveRoute): string {
  const weights = route.destinations.map((d) => `${d.host}${d.subset ? `/${d.subset}` : ''}${d.port ? `:${d.port}` : ''} ${d.weight}`).join(', ');
  return `${route.description}: ${weights || 'no weighted destinations'}`;
}

function sameSelector(route: RouteDraft, live: LiveRoute): boolean {
  const { selector } = live;
  if (route.protocol !== selector.protocol) return false;
  if (selector.name !== undefined) return route.name === selector.name;
  if (selector.port !== undefined) return Number(route.port) === selector.port;
  return Number(route.index) === selector.index && (route.name === undefined || route.name === '');
}

/** The service's own pre-flight (route selection and destination matching) run against the live route. */
function liveCheck(payload: PayloadDraft, spec: unknown): { ok: boolean; message: string } | undefined {
  const validation = validateShiftSpec(cleanPayload(payload), { allowExpressions: true });
  if (!validation.ok) return undefined;
  const normalized = validation.spec;
  if (isExpression(normalized.virtualService)) return undefined;
  const selection = selectRoute(spec, normalized.route, normalized.virtualService);
  if (!selection.ok) return { ok: false, message: selection.problem.message };
  if (normalized.destinations.some((d) => isExpression(d.host) || isExpression(d.subset))) {
    return { ok: true, message: `The route is ${selection.selected.description}; SpEL destinations are matched at run time.` };
  }
  const plan = planShift(normalized, selection.selected);
  if (!plan.ok) return { ok: false, message: plan.problems.map((p: Problem) => p.message).join('; ') };
  const added = plan.plan.added.map((i) => normalized.destinations[i].label);
  const pruned = plan.plan.pruned.map((d) => d.destination.host + (d.destination.subset ? `/${d.destination.subset}` : ''));
  const notes = [added.length ? `adds ${added.join(', ')}` : '', pruned.length ? `removes ${pruned.join(', ')}` : ''].filter(Boolean);
  return {
    ok: true,
    message: `Matches ${selection.selected.description}; weights now ${plan.plan.originalWeights.join('/')}${notes.length ? `; the first step ${notes.join(' and ')}` : ''}.`,
  };
}

function LivePanel({ formik, lookup }: { formik: StageFormik; lookup: LiveLookup }) {
  const payload = getIn(formik.values, 'payload') as PayloadDraft;
  if (lookup.state === 'idle') {
    return (
      <div className="its-live its-live-idle" data-testid="live-status">
        {lookup.reason}
      </div>
    );
  }
  if (lookup.state === 'loading') {
    return (
      <div className="its-live" data-testid="live-status">
        Reading VirtualService {payload.namespace}/{payload.virtualService}…
      </div>
    );
  }
  if (lookup.state === 'unavailable') {
    return (
      <div className="its-live its-live-unavailable" data-testid="live-status">
        <span className="fa fa-info-circle" /> {lookup.reason}
      </div>
    );
  }
  const { routes } = lookup.live;
  const selectedIndex = routes.findIndex((route) => sameSelector(payload.route ?? { protocol: 'http' }, route));
  const selected = selectedIndex >= 0 ? routes[selectedIndex] : undefined;
  const check = liveCheck(payload, lookup.spec);
  const useDestinations = () => {
    if (!selected) return;
    const next: PayloadDraft = JSON.parse(JSON.stringify(payload));
    next.destinations = selected.destinations.map(({ host, subset, port }) => ({ host, ...(subset ? { subset } : {}), ...(port ? { port } : {}) }));
    const count = next.destinations.length;
    next.steps = next.steps.map((step) => ({ ...step, weights: Array.from({ length: count }, (_, j) => step.weights[j] ?? 0) }));
    formik.setFieldValue('payload', next);
  };
  return (
    <div className="its-live its-live-loaded" data-testid="live-status">
      <div className="sp-formItem its-field">
        <div className="sp-formItem__left">
          <div className="sp-formLabel">Live routes</div>
        </div>
        <div className="sp-formItem__right">
          <select
            className="form-control input-sm"
            aria-label="Route in the live VirtualService"
            value={selectedIndex >= 0 ? String(selectedIndex) : ''}
            onChange={(event) => {
              const route = routes[Number(event.target.value)];
              if (route) formik.setFieldValue('payload.route', { ...route.selector });
            }}
          >
            <option value="">{routes.length ? `Pick one of ${routes.length} routes…` : 'The VirtualService has no routes'}</option>
            {routes.map((route, i) => (
              <option key={i} value={String(i)}>
                {describeLiveRoute(route)}
              </option>
            ))}
          </select>
          {selected && (
            <button type="button" className="btn btn-sm btn-default its-use-destinations" onClick={useDestinations}>
              Use its destinations ({selected.destinations.length})
            </button>
          )}
        </div>
      </div>
      {check && (
        <div className={`its-live-check ${check.ok ? 'its-live-ok' : 'its-live-bad'}`} data-testid="live-check">
          <span className={`fa ${check.ok ? 'fa-check-circle' : 'fa-exclamation-triangle'}`} /> {check.message}
        </div>
      )}
    </div>
  );
}

function OtherProblems({ formik }: { formik: StageFormik }) {
  const values = formik.values as Partial<IStage>;
  const result = validateShiftSpec(values.payload, { allowExpressions: true });
  const other = result.problems.filter((problem) => !isShownField(problem.field));
  if (!other.length) return null;
  return (
    <div className="its-other-problems error-message" data-testid="other-problems">
      {other.map((problem, i) => (
        <div key={i}>
          <span className="fa fa-exclamation-circle" /> {problem.message}
        </div>
      ))}
    </div>
  );
}

function ShiftForm({ formik }: { formik: StageFormik }) {
  const payload = getIn(formik.values, 'payload') as PayloadDraft;
  const accounts = useAccounts();
  const lookup = useLiveVirtualService(payload.account, payload.namespace, payload.virtualService);
  const namespaces = accounts?.namespaces[payload.account] ?? [];
  const timeout = stageTimeout(cleanPayload(payload));
  return (
    <div className="istio-traffic-shift-stage">
      <div className="its-presets">
        <span className="its-presets-label">Presets:</span>
        {PRESETS.map((preset) => (
          <button
            key={preset.id}
            type="button"
            className="btn btn-sm btn-default"
            title={preset.description}
            onClick={() => formik.setFieldValue('payload', preset.apply(payload))}
          >
            {preset.label}
          </button>
        ))}
      </div>

      <AccountField formik={formik} accounts={accounts} />
      <Field
        name="payload.namespace"
        label="Namespace"
        help={<HelpField content="The namespace of the VirtualService. SpEL is allowed." />}
        input={textInput({ 'aria-label': 'Namespace', list: 'its-namespaces', placeholder: 'e.g. shop' })}
      />
      <Datalist id="its-namespaces" values={namespaces} />
      <Field
        name="payload.virtualService"
        label="VirtualService"
        help={<HelpField content="The name of the Istio VirtualService whose route to shift. SpEL is allowed." />}
        input={textInput({ 'aria-label': 'VirtualService', placeholder: 'e.g. checkout' })}
      />
      <LivePanel formik={formik} lookup={lookup} />
      <RouteFields formik={formik} />
      <DestinationsTable formik={formik} live={lookup} />
      <StepsEditor formik={formik} />
      <AnalysisSection formik={formik} />

      <Field
        name="payload.onCancel"
        label="If cancelled"
        help={<HelpField content="What a cancelled pipeline (or a failed or timed-out stage) does to traffic: restore the weights from before the first step, or leave the current ones." />}
        input={(props) => (
          <RadioButtonInput
            {...props}
            inline={true}
            options={CANCEL_OPTIONS}
          />
        )}
      />
      <Field
        name="payload.pruneUnlisted"
        label="Unlisted destinations"
        input={(props) => <CheckboxInput {...props} text="Remove destinations the route has but this stage does not list" />}
      />
      <OtherProblems formik={formik} />
      <div className="its-timeout" data-testid="stage-timeout">
        <strong>Stage timeout:</strong> {timeout.text}{' '}
        <HelpField content="Written to the stage as stageTimeoutMs: Orca would otherwise stop watching the shift after 1 hour. On a timeout the stage fails and Orca cancels the shift." />
      </div>
    </div>
  );
}
