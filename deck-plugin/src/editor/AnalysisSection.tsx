/**
 * The "Automated analysis" section of the stage editor: where the metrics come from, which
 * workloads are canary and baseline, the metrics and how each is judged, the score thresholds,
 * the timing and what a failed judgement does. It edits `payload.analysis` (and each step's
 * `analysis.skip`) and shows the shared validator's problems on the inputs they are about, in the
 * form's words. The operations and the wording live in ../analysis-model.ts.
 */
import React from 'react';
import { HelpField } from '@spinnaker/core';
import { ANALYSIS_DEFAULTS, ERRORS_JUDGE_DEFAULTS, EVIDENCE_DEFAULTS } from '@istio-shift/core';
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
  changeJudgeType,
  changeMetricKind,
  formatPodSelector,
  judgeTypeOf,
  judgeTypesFor,
  parseDecimal,
  parsePodSelector,
  removeAnalysis,
  removeMetric,
  setStepSkip,
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
  'each as <host>-<subset> (checkout + canary -> checkout-canary), or the host alone without a subset. The namespace defaults to the VirtualService\'s.';
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
}

/**
 * A text input bound to `payload.<field>`; numbers are stored as numbers, an emptied input removes the key.
 * A numeric input keeps the text as typed while it means the stored number, so "0.0" on the way to
 * "0.005" is not shown back as "0".
 */
function AnalysisInput({ formik, problems, field, label, placeholder, numeric, className }: InputProps) {
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
          formik.setFieldValue(path, numeric ? parseDecimal(raw) : raw === '' ? undefined : raw);
        }}
      />
      <Messages problems={problems} place={field} />
    </div>
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

function Row({ label, help, children }: { label: string; help?: string; children: React.ReactNode }) {
  return (
    <div className="sp-formItem its-field">
      <div className="sp-formItem__left">
        <div className="sp-formLabel">
          {label} {help && <HelpField content={help} />}
        </div>
      </div>
      <div className="sp-formItem__right its-analysis-inputs">{children}</div>
    </div>
  );
}

function MetricRow({ formik, problems, metric, index, names }: { formik: StageFormik; problems: AnalysisProblem[]; metric: MetricDraft; index: number; names: string[] }) {
  const base = `analysis.metrics[${index}]`;
  const n = index + 1;
  const payload = getIn(formik.values, 'payload') as PayloadDraft;
  const judgeType = judgeTypeOf(metric.judge);
  const input = (field: string, label: string, extra: Partial<InputProps> = {}) => <AnalysisInput formik={formik} problems={problems} field={`${base}.${field}`} label={`Metric ${n} ${label}`} {...extra} />;
  return (
    <>
      <tr data-testid={`analysis-metric-${index}`}>
        <td className="its-step-number">{n}</td>
        <td>{input('name', 'name')}</td>
        <td>
          <Select
            formik={formik}
            field={`${base}.metric`}
            label={`Metric ${n} metric`}
            options={METRIC_KINDS.map((kind) => [kind, METRIC_LABELS[kind]])}
            onChange={(kind) => formik.setFieldValue(`payload.${base}`, changeMetricKind(metric, kind as MetricDraft['metric'], names))}
          />
          <Messages problems={problems} place={`${base}.metric`} />
        </td>
        <td>{input('group', 'group', { placeholder: metric.metric === 'custom' ? 'custom' : 'default' })}</td>
        <td className="its-narrow">
          <input
            type="checkbox"
            aria-label={`Metric ${n} critical`}
            checked={metric.critical === true}
            onChange={(event) => formik.setFieldValue(`payload.${base}.critical`, event.target.checked || undefined)}
          />
          <Messages problems={problems} place={`${base}.critical`} />
        </td>
        <td>
          <Select formik={formik} field={`${base}.nodata`} label={`Metric ${n} no data`} options={[['', 'fail'], ['pass', 'pass'], ['wait', 'wait']]} />
          <Messages problems={problems} place={`${base}.nodata`} />
        </td>
        <td>
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
          {JUDGE_BOUNDS[judgeType].map((bound) => (
            <label key={bound.key} className="its-inline-label">
              {bound.label}
              {input(`judge.${bound.key}`, `${judgeType} ${bound.label}`, { numeric: true, className: 'its-bound', placeholder: bound.placeholder })}
            </label>
          ))}
        </td>
        <td className="its-actions">
          <RemoveButton label={`Remove metric ${n}`} disabled={names.length <= 1} onClick={() => formik.setFieldValue('payload', removeMetric(payload, index))} />
        </td>
      </tr>
      {metric.metric === 'custom' && (
        <tr>
          <td />
          <td colSpan={8}>{input('query', 'query', { placeholder: 'sum(rate(http_errors_total{namespace="{{namespace}}",pod=~"{{workload}}-.*"}[{{interval}}]))' })}</td>
        </tr>
      )}
      {problems.some((p) => p.place === base) && (
        <tr>
          <td />
          <td colSpan={8}>
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
    <Row label="Steps analysed" help="A step is judged during its pause. Steps without a pause (such as a final 100/0/0) are not analysed; tick skip to leave out a paused one.">
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
  if (!analysis) {
    return (
      <div className="its-section its-analysis" data-testid="analysis-section">
        <h5 className="its-heading">
          Automated analysis <HelpField content="Judge the canary against the baseline during each step's pause and roll back (or hold) when it fails, like Kayenta's canary analysis." />
        </h5>
        <p className="its-note">Off: the steps are not judged. {preset}</p>
      </div>
    );
  }
  const input = (field: string, label: string, extra: Partial<InputProps> = {}) => <AnalysisInput formik={formik} problems={problems} field={field} label={label} {...extra} />;
  const metrics = Array.isArray(analysis.metrics) ? analysis.metrics : [];
  const names = metrics.map((m) => m.name);
  return (
    <div className="its-section its-analysis" data-testid="analysis-section">
      <h5 className="its-heading">
        Automated analysis <HelpField content="Judge the canary against the baseline during each step's pause and roll back (or hold) when it fails, like Kayenta's canary analysis." />
      </h5>
      <div className="its-presets">
        {preset}
        <button type="button" className="btn btn-sm btn-default" onClick={() => formik.setFieldValue('payload', removeAnalysis(payload))}>
          Turn analysis off
        </button>
      </div>
      <Row label="Metrics source" help={SOURCE_HELP}>
        {input('analysis.source', 'Metrics source', { placeholder: 'prometheus' })}
      </Row>
      <Row label="Canary" help={SCOPE_HELP}>
        {input('analysis.scopes.canary.workload', 'Canary workload', { placeholder: 'checkout-canary' })}
        {input('analysis.scopes.canary.namespace', 'Canary namespace', { placeholder: 'namespace of the VirtualService' })}
      </Row>
      <Row label="Baseline">
        {input('analysis.scopes.baseline.workload', 'Baseline workload', { placeholder: 'checkout-baseline' })}
        {input('analysis.scopes.baseline.namespace', 'Baseline namespace', { placeholder: 'namespace of the VirtualService' })}
      </Row>
      <Row label="Pod labels (optional)" help={POD_LABELS_HELP}>
        <PodSelectorInput formik={formik} problems={problems} scope="canary" />
        <PodSelectorInput formik={formik} problems={problems} scope="baseline" />
      </Row>
      <Row label="Warm-up / interval" help={TIMING_HELP}>
        {input('analysis.warmup', 'Warm-up', { placeholder: '1m' })}
        {input('analysis.interval', 'Interval', { placeholder: '30s' })}
      </Row>
      <Row label="Score to pass / marginal" help={SCORE_HELP}>
        {input('analysis.thresholds.pass', 'Pass score', { numeric: true, placeholder: '75' })}
        {input('analysis.thresholds.marginal', 'Marginal score', { numeric: true, placeholder: '50' })}
      </Row>
      <Row label="Group weights" help="Weights of the metric groups, summing to at most 100; groups without a weight share the rest equally.">
        {usedGroups(analysis).map((group) => (
          <label key={group} className="its-inline-label">
            {group}
            {input(`analysis.groups.${group}`, `Weight of group ${group}`, { numeric: true, placeholder: 'share', className: 'its-bound' })}
          </label>
        ))}
      </Row>
      <Row label="On failure" help="What a failed judgement does to traffic: restore the weights from before the shift, or hold the current ones for a person to decide.">
        <Select formik={formik} field="analysis.onFailure" label="On failure" options={[['rollback', 'Roll back to the weights before the shift'], ['hold', 'Hold the current weights']]} />
      </Row>
      <Row label="Mode / alpha" help={MODE_HELP}>
        <label className="its-inline-label">
          mode
          <Select
            formik={formik}
            field="analysis.mode"
            label="Mode"
            value={text(analysis.mode) || 'sequential'}
            options={[['sequential', 'Sequential (may stop early)'], ['fixed', 'Fixed window (Kayenta)']]}
          />
        </label>
        <label className="its-inline-label">
          alpha
          {input('analysis.alpha', 'Alpha', { numeric: true, placeholder: String(ANALYSIS_DEFAULTS.alpha), className: 'its-bound' })}
        </label>
        <Messages problems={problems} place="analysis.mode" />
      </Row>
      <Row label="Evidence needed" help={EVIDENCE_HELP}>
        <label className="its-inline-label">
          min requests
          {input('analysis.evidence.minRequests', 'Minimum canary requests', { numeric: true, placeholder: String(EVIDENCE_DEFAULTS.minRequests), className: 'its-bound' })}
        </label>
        <label className="its-inline-label">
          min traffic share
          {input('analysis.evidence.minTrafficShare', 'Minimum canary traffic share', { numeric: true, placeholder: String(EVIDENCE_DEFAULTS.minTrafficShare), className: 'its-bound' })}
        </label>
        <label className="its-inline-label">
          min points
          {input('analysis.evidence.minPoints', 'Minimum points per metric', { numeric: true, placeholder: String(EVIDENCE_DEFAULTS.minPoints), className: 'its-bound' })}
        </label>
      </Row>
      <Row label="Too little evidence" help={INSUFFICIENT_HELP}>
        <label className="its-inline-label">
          wait up to
          {input('analysis.evidence.extendUpTo', 'Wait for evidence up to', { placeholder: 'one window', className: 'its-duration' })}
        </label>
        <label className="its-inline-label">
          then
          <Select
            formik={formik}
            field="analysis.evidence.onInsufficient"
            label="On too little evidence"
            value={text(analysis.evidence?.onInsufficient) || 'fail'}
            options={[['fail', 'Fail the step'], ['hold', 'Hold the weights']]}
          />
        </label>
        <Messages problems={problems} place="analysis.evidence.onInsufficient" />
      </Row>
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
      <StepsAnalysis formik={formik} problems={problems} payload={payload} />
      <Messages problems={problems} place="analysis" />
    </div>
  );
}
