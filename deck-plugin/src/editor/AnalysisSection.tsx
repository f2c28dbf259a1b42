/**
 * The "Automated analysis" section of the stage editor: where the metrics come from, which
 * workloads are canary and baseline, the metrics and how each is judged, the score thresholds,
 * the timing and what a failed judgement does. It edits `payload.analysis` (and each step's
 * `analysis.skip`) and shows the shared validator's problems on the inputs they are about, in the
 * form's words. The operations and the wording live in ../analysis-model.ts.
 *
 * The layout is the one of Deck's own stage editors (read from spinnaker/deck 3f2418ea and
 * spinnaker/deck-kayenta 63c49b54, see docs/deck-plugin.md): a `form-horizontal` of core's
 * StageConfigField rows (label and help on the left, `col-md-3 sm-label-right`), help texts
 * registered in core's HelpContentsRegistry as Deck's help.contents does, the custom PromQL
 * query in a full-width monospace TextAreaInput (`code`, as the Webhook stage's payload), a
 * "Fails on" direction per metric as Kayenta's metric editor has, and On failure as radio
 * buttons, so no option is cut off.
 */
import React from 'react';
import { HelpContentsRegistry, HelpField, RadioButtonInput, StageConfigField, TextAreaInput } from '@spinnaker/core';
import { ANALYSIS_DEFAULTS, ERRORS_JUDGE_DEFAULTS, EVIDENCE_DEFAULTS, FAIL_DIRECTIONS } from '@istio-shift/core';
import type { FailDirection } from '@istio-shift/core';
import {
  AnalysisDraft,
  AnalysisProblem,
  JUDGE_BOUNDS,
  JudgeType,
  METRIC_KINDS,
  METRIC_LABELS,
  MetricDraft,
  addMetric,
  analysisOf,
  analysisProblems,
  applyReferencePreset,
  changeDirection,
  changeJudgeType,
  changeMetricKind,
  directionOf,
  formatPodSelector,
  judgeTypeOf,
  judgeTypesFor,
  parseDecimal,
  parsePodSelector,
  queryCheckMessages,
  removeAnalysis,
  removeMetric,
  setStepSkip,
  shownBounds,
  stepAnalysisState,
  usedGroups,
} from '../analysis-model';
import { cleanPayload } from '../model';
import type { PayloadDraft } from '../model';
import type { StageFormik } from './fields';
import { AddRowButton, RemoveButton } from './fields';

const SOURCE_HELP =
  'The name of a metrics source configured in the stage service (for example prometheus), never an address: the service decides where it reads metrics. ' +
  'The service lists its sources at GET /v1/metrics-sources, but Deck talks only to Gate and cannot reach the service, so type the name your operators gave it.';
const SCOPE_HELP =
  "The Deployments whose pods serve the canary and the baseline, as Istio's destination_workload names them. " +
  'Defaults come from the destinations: the one whose subset or label is "canary" (else the last) and the one named "baseline" (else the first other), ' +
  'each as host-subset (checkout + canary -> checkout-canary), or the host alone without a subset. The namespace defaults to the VirtualService\'s.';
const POD_LABELS_HELP =
  'Optional: the pod labels the pod status metrics (restarts, readiness, OOM kills) and CPU/memory read, written key=value,key=value (for example app=checkout,track=canary). ' +
  "Empty means the labels the workload's Deployment selects its pods with (its spec.selector.matchLabels), which is right unless other pods share them.";
const TIMING_HELP =
  "Each analysed step's pause is its warm-up (not judged, the canary settles) plus its analysis window, sampled every interval; the window must hold two intervals. Write 30s, 1m or 1m30s.";
const METRICS_HELP =
  'Built-in metrics need no PromQL (request metrics from Istio, CPU and memory from cAdvisor, restarts, readiness and OOM kills from the pod status). ' +
  'A custom query may use {{namespace}}, {{workload}}, {{interval}} and {{scope}} and must return one series. ' +
  'Threshold judges bound the canary (min/max), canary ÷ baseline (ratios) or canary - baseline (max increase, e.g. 0 restarts more than the baseline; max decrease, e.g. 0 for readiness). ' +
  'Statistical ones compare canary and baseline interval by interval (and with a Mann-Whitney test at the window\'s end) and fail only beyond the allowed change (e.g. 1.2 = +20%). ' +
  `The errors judge (success rate only) compares the window's 5xx counts: it fails when the canary's error rate is significantly above max ratio × the baseline's (default ${ERRORS_JUDGE_DEFAULTS.maxRatio}) and more than max increase percentage points above it (default ${ERRORS_JUDGE_DEFAULTS.maxIncrease}). ` +
  'A failing critical metric fails the step at once.';
const MODE_HELP =
  'Sequential (default): every interval, anytime-valid tests may stop a bad canary before the window ends; over a whole step, all looks and all metrics, ' +
  'the chance of rolling back a canary as good as its baseline stays below alpha. Fixed: one judgement over the whole window at its end, as Kayenta does. ' +
  `Alpha (default ${ANALYSIS_DEFAULTS.alpha}, from 0.000001 to 0.2) is that chance; in fixed mode it is the error-count test's level. Pod health and the evidence rules apply in both modes.`;
const EVIDENCE_HELP =
  `No verdict without evidence: a step passes only when the canary received at least min requests (default ${EVIDENCE_DEFAULTS.minRequests}; 0: no minimum), ` +
  `at least min traffic share of what its weight should bring next to the baseline's (default ${EVIDENCE_DEFAULTS.minTrafficShare}: at equal weights, that share of the baseline's requests; less points at a broken route or selector; 0: not checked), ` +
  `and every statistical metric has min points in each scope (default ${EVIDENCE_DEFAULTS.minPoints}).`;
const INSUFFICIENT_HELP =
  'With too little evidence the step has no verdict and waits past its window for more, up to this long (default: one more window; write 30s, 10m or 1h). ' +
  'Then it fails the step (default) or holds the weights for a person to decide. It never promotes a canary it could not judge.';
const SCORE_HELP =
  'Each group scores the share of its metrics that pass; the step score is the weighted sum. A step passes at the pass score; between marginal and pass it continues, except on the last analysed step.';

const STEPS_HELP = 'A step is judged during its pause. Steps without a pause (such as a final 100/0/0) are not analysed; tick skip to leave out a paused one.';
const GROUPS_HELP = 'Weights of the metric groups, summing to at most 100; groups without a weight share the rest equally.';
const ON_FAILURE_HELP = 'What a failed judgement does to traffic: restore the weights from before the shift, or hold the current ones for a person to decide.';
const SECTION_HELP = "Judge the canary against the baseline during each step's pause and roll back (or hold) when it fails, like Kayenta's canary analysis.";
const DIRECTION_HELP =
  "Which change of the canary against the baseline fails the metric, as Kayenta's \"Fail on\": increase (latency, CPU, restarts), decrease (success rate, readiness) or either. " +
  'A statistical judge then takes the allowed change of that direction only. Threshold bounds apply whatever the direction.';
// Through core's HelpField `content`, not the registry: HelpContentsRegistry.getHelpField replaces {{...}}.
const QUERY_HELP =
  'A PromQL query template returning one series per scope. {{namespace}}, {{workload}}, {{interval}} and {{scope}} are replaced for the canary and for the baseline. ' +
  'Brackets, quotes and function names are checked as you type; the service checks the whole query with Prometheus when the shift is created.';

/**
 * Help texts under keys of core's HelpContentsRegistry, which StageConfigField's `helpKey` reads
 * (deck packages/core/src/help/help.contents.ts registers Deck's own the same way). register()
 * keeps an operator's registerOverride.
 */
const HELP_KEYS = {
  source: SOURCE_HELP,
  scopes: SCOPE_HELP,
  podLabels: POD_LABELS_HELP,
  timing: TIMING_HELP,
  score: SCORE_HELP,
  groups: GROUPS_HELP,
  onFailure: ON_FAILURE_HELP,
  mode: MODE_HELP,
  evidence: EVIDENCE_HELP,
  insufficient: INSUFFICIENT_HELP,
  steps: STEPS_HELP,
} as const;
const helpKey = (name: keyof typeof HELP_KEYS) => `istioTrafficShift.analysis.${name}`;
for (const [name, text] of Object.entries(HELP_KEYS)) HelpContentsRegistry.register(helpKey(name as keyof typeof HELP_KEYS), text);

function getIn(source: unknown, path: string): unknown {
  return path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), source);
}

const text = (value: unknown) => (value === undefined || value === null ? '' : String(value));

function Messages({ problems, place }: { problems: AnalysisProblem[]; place: string }) {
  const here = problems.filter((p) => p.place === place);
  if (here.length === 0) return null;
  return (
    <div className="its-analysis-message error-message" data-testid={`analysis-message-${place}`}>
      {here.map((p, i) => (
        <div key={i}>
          <span className="fa fa-exclamation-circle" /> {p.message}
        </div>
      ))}
    </div>
  );
}

interface InputProps {
  formik: StageFormik;
  problems: AnalysisProblem[];
  /** The validator's field under `payload`, e.g. `analysis.metrics[1].judge.max`. */
  field: string;
  label: string;
  placeholder?: string;
  numeric?: boolean;
  className?: string;
  onEdit?: () => void;
}

/**
 * A text input bound to `payload.<field>`; numbers are stored as numbers, an emptied input removes the key.
 * A numeric input keeps the text as typed while it means the stored number, so "0.0" on the way to
 * "0.005" is not shown back as "0".
 */
function AnalysisInput({ formik, problems, field, label, placeholder, numeric, className, onEdit }: InputProps) {
  const path = `payload.${field}`;
  const bad = problems.some((p) => p.place === field);
  const stored = getIn(formik.values, path);
  const [draft, setDraft] = React.useState<string | undefined>(undefined);
  const shown = numeric && draft !== undefined && parseDecimal(draft) === stored ? draft : text(stored);
  return (
    <div className={`its-cell ${className ?? ''}`}>
      <input
        type="text"
        className={`form-control input-sm${bad ? ' its-invalid' : ''}`}
        aria-label={label}
        aria-invalid={bad}
        placeholder={placeholder}
        inputMode={numeric ? 'decimal' : undefined}
        value={shown}
        onChange={(event) => {
          const raw = event.target.value;
          if (numeric) setDraft(raw);
          onEdit?.();
          formik.setFieldValue(path, numeric ? parseDecimal(raw) : raw === '' ? undefined : raw);
        }}
      />
      <Messages problems={problems} place={field} />
    </div>
  );
}

/** A labelled input inside a StageConfigField row holding several (workload and namespace, pass and marginal ...). */
function Inline({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <label className="its-inline-label">
      <span className="its-inline-text">{label}</span>
      {children}
    </label>
  );
}

/**
 * A scope's optional pod selector as `app=checkout,track=canary` text. The text is kept while the
 * author types (a trailing comma would not survive a round trip through the object); the payload
 * gets the object, or the text itself when it is not key=value pairs (the validator says why).
 */
function PodSelectorInput({ formik, problems, scope }: { formik: StageFormik; problems: AnalysisProblem[]; scope: 'canary' | 'baseline' }) {
  const field = `analysis.scopes.${scope}.podSelector`;
  const path = `payload.${field}`;
  const stored = getIn(formik.values, path);
  const [draft, setDraft] = React.useState(() => formatPodSelector(stored));
  // Another change of the payload (a preset, an undo) wins over what was typed.
  const shown = JSON.stringify(parsePodSelector(draft)) === JSON.stringify(stored) ? draft : formatPodSelector(stored);
  const bad = problems.some((p) => p.place === field);
  const label = `${scope === 'canary' ? 'Canary' : 'Baseline'} pod labels`;
  return (
    <div className="its-cell">
      <input
        type="text"
        className={`form-control input-sm${bad ? ' its-invalid' : ''}`}
        aria-label={label}
        aria-invalid={bad}
        placeholder="the Deployment's selector"
        value={shown}
        onChange={(event) => {
          setDraft(event.target.value);
          formik.setFieldValue(path, parsePodSelector(event.target.value));
        }}
      />
      <Messages problems={problems} place={field} />
    </div>
  );
}

function Select({ formik, field, label, options, value, onChange }: { formik: StageFormik; field: string; label: string; options: Array<[string, string]>; value?: string; onChange?: (value: string) => void }) {
  const path = `payload.${field}`;
  return (
    <select
      className="form-control input-sm"
      aria-label={label}
      value={value ?? text(getIn(formik.values, path))}
      onChange={(event) => (onChange ? onChange(event.target.value) : formik.setFieldValue(path, event.target.value === '' ? undefined : event.target.value))}
    >
      {options.map(([optionValue, optionLabel]) => (
        <option key={optionValue} value={optionValue}>
          {optionLabel}
        </option>
      ))}
    </select>
  );
}

/** One row of the form: core's StageConfigField (Deck's stage editor row), its help from the registry. */
function Row({ label, help, columns = 9, children }: { label: string; help?: keyof typeof HELP_KEYS; columns?: number; children: React.ReactNode }) {
  return (
    <StageConfigField label={label} helpKey={help && helpKey(help)} fieldColumns={columns}>
      <div className="its-analysis-inputs">{children}</div>
    </StageConfigField>
  );
}

// react-select's Option type is not installed, so core's option type does not resolve here.
const radioOptions = (options: Array<[string, string]>) => options.map(([value, label]) => ({ value, label })) as unknown as React.ComponentProps<typeof RadioButtonInput>['options'];
const ON_FAILURE_OPTIONS = radioOptions([
  ['rollback', 'Roll back to the weights before the shift'],
  ['hold', 'Hold the current weights'],
]);

function Radios({ formik, problems, field, label, options, fallback }: { formik: StageFormik; problems: AnalysisProblem[]; field: string; label: string; options: ReturnType<typeof radioOptions>; fallback: string }) {
  return (
    <div className="its-cell" role="radiogroup" aria-label={label}>
      <RadioButtonInput
        name={`its-${field}`}
        inline={true}
        options={options}
        value={text(getIn(formik.values, `payload.${field}`)) || fallback}
        onChange={(event: React.ChangeEvent<HTMLInputElement>) => formik.setFieldValue(`payload.${field}`, event.target.value)}
      />
      <Messages problems={problems} place={field} />
    </div>
  );
}

/**
 * A metric's bounds on one line: the ones it uses (shownBounds), and for a threshold judge a list to
 * add another; its state is the bounds added and not yet filled in (keyed by the judge type, so a new
 * judge starts afresh).
 */
function Bounds({ formik, problems, metric, index }: { formik: StageFormik; problems: AnalysisProblem[]; metric: MetricDraft; index: number }) {
  const [added, setAdded] = React.useState<string[]>([]);
  const judgeType = judgeTypeOf(metric.judge);
  const shown = shownBounds(metric, added);
  const more = judgeType === 'threshold' ? JUDGE_BOUNDS.threshold.filter((bound) => !shown.some((s) => s.key === bound.key)) : [];
  const base = `analysis.metrics[${index}]`;
  return (
    <div className="its-bounds">
      {shown.map((bound) => (
        <Inline key={bound.key} label={bound.label}>
          <AnalysisInput
            formik={formik}
            problems={problems}
            field={`${base}.judge.${bound.key}`}
            label={`Metric ${index + 1} ${judgeType} ${bound.label}`}
            numeric={true}
            className="its-bound"
            placeholder={bound.placeholder}
            onEdit={() => setAdded((keys) => (keys.includes(bound.key) ? keys : [...keys, bound.key]))}
          />
        </Inline>
      ))}
      {more.length > 0 && (
        <select className="form-control input-sm its-add-bound" aria-label={`Metric ${index + 1} add a threshold bound`} value="" onChange={(event) => setAdded([...added, event.target.value])}>
          <option value="">{shown.length ? '+ bound' : 'add a bound'}</option>
          {more.map((bound) => (
            <option key={bound.key} value={bound.key}>
              {bound.label}
            </option>
          ))}
        </select>
      )}
    </div>
  );
}

/** The custom query: full width, monospace, checked as it is typed (core's checkPromql) and by the shared validator. */
function QueryRow({ formik, problems, metric, index }: { formik: StageFormik; problems: AnalysisProblem[]; metric: MetricDraft; index: number }) {
  const field = `analysis.metrics[${index}].query`;
  const id = `its-analysis-query-${index}`;
  const checks = queryCheckMessages(index, metric.query);
  const bad = checks.length > 0 || problems.some((p) => p.place === field);
  return (
    <tr className="its-query-row">
      <td />
      <td colSpan={9}>
        <label htmlFor={id} className="its-query-label">
          PromQL query of metric {index + 1} <HelpField content={QUERY_HELP} />
        </label>
        <TextAreaInput
          id={id}
          name={id}
          inputClassName={`code input-sm its-query${bad ? ' its-invalid' : ''}`}
          rows={2}
          spellCheck={false}
          aria-invalid={bad}
          placeholder={'sum(rate(http_errors_total{namespace="{{namespace}}",pod=~"{{workload}}-.*"}[{{interval}}]))'}
          value={text(metric.query)}
          onChange={(event: React.ChangeEvent<HTMLTextAreaElement>) => formik.setFieldValue(`payload.${field}`, event.target.value === '' ? undefined : event.target.value)}
        />
        {checks.length > 0 && (
          <div className="its-analysis-message error-message" data-testid={`analysis-query-check-${index}`}>
            {checks.map((message, i) => (
              <div key={i}>
                <span className="fa fa-exclamation-circle" /> {message}
              </div>
            ))}
          </div>
        )}
        <Messages problems={problems} place={field} />
      </td>
    </tr>
  );
}

const DIRECTION_OPTIONS: Array<[FailDirection, string]> = FAIL_DIRECTIONS.map((direction) => [direction, direction]);

function MetricRow({ formik, problems, metric, index, names }: { formik: StageFormik; problems: AnalysisProblem[]; metric: MetricDraft; index: number; names: string[] }) {
  const base = `analysis.metrics[${index}]`;
  const n = index + 1;
  const payload = getIn(formik.values, 'payload') as PayloadDraft;
  const judgeType = judgeTypeOf(metric.judge);
  const set = (next: MetricDraft) => formik.setFieldValue(`payload.${base}`, next);
  const input = (field: string, label: string, extra: Partial<InputProps> = {}) => <AnalysisInput formik={formik} problems={problems} field={`${base}.${field}`} label={`Metric ${n} ${label}`} {...extra} />;
  return (
    <>
      <tr data-testid={`analysis-metric-${index}`}>
        <td className="its-step-number">{n}</td>
        <td className="its-metric-name">{input('name', 'name')}</td>
        <td className="its-metric-kind">
          <Select
            formik={formik}
            field={`${base}.metric`}
            label={`Metric ${n} metric`}
            options={METRIC_KINDS.map((kind) => [kind, METRIC_LABELS[kind]])}
            onChange={(kind) => set(changeMetricKind(metric, kind as MetricDraft['metric'], names))}
          />
          <Messages problems={problems} place={`${base}.metric`} />
        </td>
        <td className="its-metric-group">{input('group', 'group', { placeholder: metric.metric === 'custom' ? 'custom' : 'default' })}</td>
        <td className="its-metric-direction">
          <Select formik={formik} field={`${base}.direction`} label={`Metric ${n} fails on`} value={directionOf(metric)} options={DIRECTION_OPTIONS} onChange={(direction) => set(changeDirection(metric, direction as FailDirection))} />
          <Messages problems={problems} place={`${base}.direction`} />
        </td>
        <td className="its-narrow its-center">
          <input
            type="checkbox"
            aria-label={`Metric ${n} critical`}
            checked={metric.critical === true}
            onChange={(event) => formik.setFieldValue(`payload.${base}.critical`, event.target.checked || undefined)}
          />
          <Messages problems={problems} place={`${base}.critical`} />
        </td>
        <td className="its-metric-nodata">
          <Select formik={formik} field={`${base}.nodata`} label={`Metric ${n} no data`} options={[['', 'fail'], ['pass', 'pass'], ['wait', 'wait']]} />
          <Messages problems={problems} place={`${base}.nodata`} />
        </td>
        <td className="its-metric-judge">
          <Select
            formik={formik}
            field={`${base}.judge.type`}
            label={`Metric ${n} judge`}
            value={judgeType}
            options={judgeTypesFor(metric).map((type) => [type, type === 'errors' ? 'errors (5xx)' : type])}
            onChange={(type) => formik.setFieldValue(`payload.${base}.judge`, changeJudgeType(metric.judge, type as JudgeType))}
          />
          <Messages problems={problems} place={`${base}.judge`} />
          <Messages problems={problems} place={`${base}.judge.type`} />
        </td>
        <td className="its-analysis-bounds">
          <Bounds key={judgeType} formik={formik} problems={problems} metric={metric} index={index} />
        </td>
        <td className="its-actions">
          <RemoveButton label={`Remove metric ${n}`} disabled={names.length <= 1} onClick={() => formik.setFieldValue('payload', removeMetric(payload, index))} />
        </td>
      </tr>
      {metric.metric === 'custom' && <QueryRow formik={formik} problems={problems} metric={metric} index={index} />}
      {problems.some((p) => p.place === base) && (
        <tr>
          <td />
          <td colSpan={9}>
            <Messages problems={problems} place={base} />
          </td>
        </tr>
      )}
    </>
  );
}

function StepsAnalysis({ formik, problems, payload }: { formik: StageFormik; problems: AnalysisProblem[]; payload: PayloadDraft }) {
  const steps = payload.steps ?? [];
  return (
    <Row label="Steps analysed" help="steps">
      <ul className="its-analysis-steps list-unstyled">
        {steps.map((step, i) => {
          const state = stepAnalysisState(step);
          return (
            <li key={i} data-testid={`analysis-step-${i}`}>
              <strong>Step {i + 1}</strong>{' '}
              {state === 'no-pause' ? (
                <span className="its-note">no pause: not analysed</span>
              ) : (
                <label className="its-inline-label">
                  <input type="checkbox" aria-label={`Skip analysis of step ${i + 1}`} checked={state === 'skipped'} onChange={(event) => formik.setFieldValue('payload', setStepSkip(payload, i, event.target.checked))} /> skip
                  analysis (pause {String(step.pause)})
                </label>
              )}
              <Messages problems={problems} place={`steps[${i}].analysis`} />
            </li>
          );
        })}
      </ul>
    </Row>
  );
}

export function AnalysisSection({ formik }: { formik: StageFormik }) {
  const payload = getIn(formik.values, 'payload') as PayloadDraft;
  const analysis = analysisOf(payload) as AnalysisDraft | undefined;
  const problems = React.useMemo(() => (analysis ? analysisProblems(cleanPayload(payload)) : []), [payload, analysis]);
  const preset = (
    <button type="button" className="btn btn-sm btn-default" title="Istio 60 / Kubernetes 40, pass 75, marginal 50, 1m warm-up, 30s interval; roll back on failure" onClick={() => formik.setFieldValue('payload', applyReferencePreset(payload))}>
      Use the reference preset
    </button>
  );
  const heading = (
    <h5 className="its-heading">
      Automated analysis <HelpField content={SECTION_HELP} />
    </h5>
  );
  if (!analysis) {
    return (
      <div className="its-section its-analysis" data-testid="analysis-section">
        {heading}
        <p className="its-note">Off: the steps are not judged. {preset}</p>
      </div>
    );
  }
  const input = (field: string, label: string, extra: Partial<InputProps> = {}) => <AnalysisInput formik={formik} problems={problems} field={field} label={label} {...extra} />;
  const number = (field: string, label: string, placeholder?: string) => input(field, label, { numeric: true, placeholder, className: 'its-bound' });
  const metrics = Array.isArray(analysis.metrics) ? analysis.metrics : [];
  const names = metrics.map((m) => m.name);
  return (
    <div className="its-section its-analysis" data-testid="analysis-section">
      {heading}
      <div className="its-presets">
        {preset}
        <button type="button" className="btn btn-sm btn-default" onClick={() => formik.setFieldValue('payload', removeAnalysis(payload))}>
          Turn analysis off
        </button>
      </div>
      <div className="form-horizontal its-analysis-form">
        <Row label="Metrics source" help="source">
          {input('analysis.source', 'Metrics source', { placeholder: 'prometheus' })}
        </Row>
        <Row label="Canary" help="scopes">
          <Inline label="workload">{input('analysis.scopes.canary.workload', 'Canary workload', { placeholder: 'checkout-canary' })}</Inline>
          <Inline label="namespace">{input('analysis.scopes.canary.namespace', 'Canary namespace', { placeholder: "the VirtualService's" })}</Inline>
        </Row>
        <Row label="Baseline" help="scopes">
          <Inline label="workload">{input('analysis.scopes.baseline.workload', 'Baseline workload', { placeholder: 'checkout-baseline' })}</Inline>
          <Inline label="namespace">{input('analysis.scopes.baseline.namespace', 'Baseline namespace', { placeholder: "the VirtualService's" })}</Inline>
        </Row>
        <Row label="Pod labels" help="podLabels">
          <Inline label="canary">
            <PodSelectorInput formik={formik} problems={problems} scope="canary" />
          </Inline>
          <Inline label="baseline">
            <PodSelectorInput formik={formik} problems={problems} scope="baseline" />
          </Inline>
        </Row>
        <Row label="Timing" help="timing">
          <Inline label="warm-up">{input('analysis.warmup', 'Warm-up', { placeholder: '1m', className: 'its-duration' })}</Inline>
          <Inline label="interval">{input('analysis.interval', 'Interval', { placeholder: '30s', className: 'its-duration' })}</Inline>
        </Row>
        <Row label="Score" help="score">
          <Inline label="pass">{number('analysis.thresholds.pass', 'Pass score', '75')}</Inline>
          <Inline label="marginal">{number('analysis.thresholds.marginal', 'Marginal score', '50')}</Inline>
        </Row>
        <Row label="Group weights" help="groups">
          {usedGroups(analysis).map((group) => (
            <Inline key={group} label={group}>
              {number(`analysis.groups.${group}`, `Weight of group ${group}`, 'share')}
            </Inline>
          ))}
        </Row>
        <Row label="On failure" help="onFailure">
          <Radios formik={formik} problems={problems} field="analysis.onFailure" label="On failure" options={ON_FAILURE_OPTIONS} fallback="rollback" />
        </Row>
        <Row label="Mode" help="mode">
          <Inline label="mode">
            <Select
              formik={formik}
              field="analysis.mode"
              label="Mode"
              value={text(analysis.mode) || 'sequential'}
              options={[['sequential', 'Sequential (may stop early)'], ['fixed', 'Fixed window (Kayenta)']]}
            />
          </Inline>
          <Inline label="alpha">{number('analysis.alpha', 'Alpha', String(ANALYSIS_DEFAULTS.alpha))}</Inline>
          <Messages problems={problems} place="analysis.mode" />
        </Row>
        <Row label="Evidence needed" help="evidence">
          <Inline label="min requests">{number('analysis.evidence.minRequests', 'Minimum canary requests', String(EVIDENCE_DEFAULTS.minRequests))}</Inline>
          <Inline label="min traffic share">{number('analysis.evidence.minTrafficShare', 'Minimum canary traffic share', String(EVIDENCE_DEFAULTS.minTrafficShare))}</Inline>
          <Inline label="min points">{number('analysis.evidence.minPoints', 'Minimum points per metric', String(EVIDENCE_DEFAULTS.minPoints))}</Inline>
        </Row>
        <Row label="Too little evidence" help="insufficient">
          <Inline label="wait up to">{input('analysis.evidence.extendUpTo', 'Wait for evidence up to', { placeholder: 'one window', className: 'its-duration' })}</Inline>
          <Inline label="then">
            <Select
              formik={formik}
              field="analysis.evidence.onInsufficient"
              label="On too little evidence"
              value={text(analysis.evidence?.onInsufficient) || 'fail'}
              options={[['fail', 'Fail the step'], ['hold', 'Hold the weights']]}
            />
          </Inline>
          <Messages problems={problems} place="analysis.evidence.onInsufficient" />
        </Row>
      </div>
      <h5 className="its-heading">
        Metrics <HelpField content={METRICS_HELP} />
      </h5>
      <table className="table table-condensed its-table its-analysis-metrics" aria-label="Analysis metrics">
        <thead>
          <tr>
            <th>#</th>
            <th>Name</th>
            <th>Metric</th>
            <th>Group</th>
            <th>
              Fails on <HelpField content={DIRECTION_HELP} />
            </th>
            <th>Critical</th>
            <th>No data</th>
            <th>Judge</th>
            <th>Bounds</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {metrics.map((metric, i) => (
            <MetricRow key={i} formik={formik} problems={problems} metric={metric} index={i} names={names} />
          ))}
        </tbody>
      </table>
      <AddRowButton label="Add metric" onClick={() => formik.setFieldValue('payload', addMetric(payload))} />
      <div className="form-horizontal its-analysis-form">
        <StepsAnalysis formik={formik} problems={problems} payload={payload} />
      </div>
      <Messages problems={problems} place="analysis" />
    </div>
  );
}
