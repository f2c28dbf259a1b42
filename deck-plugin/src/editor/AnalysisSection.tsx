/**
 * The "Automated analysis" section of the stage editor. It edits `payload.analysis` (and each
 * step's `analysis.skip`) and shows the shared validator's problems on the inputs they are about,
 * in the form's words; the operations and the wording live in ../analysis-model.ts.
 *
 * The layout is the one of Deck's own stage editors (read from spinnaker/deck 3f2418ea and
 * spinnaker/deck-kayenta 63c49b54, see docs/deck-plugin.md): a `form-horizontal` of core's
 * StageConfigField rows (label and help on the left), help texts registered in core's
 * HelpContentsRegistry as Deck's help.contents does, the custom PromQL query in a full-width
 * monospace TextAreaInput (`code`, as the Webhook stage's payload), a "Fails on" direction per
 * metric as Kayenta's metric editor has, and On failure as radio buttons, so no option is cut off.
 * The rows are a table (ROWS) drawn by one control component, so every input parses, shows and
 * reports its problems the same way.
 */
import React from 'react';
import { HelpContentsRegistry, HelpField, RadioButtonInput, StageConfigField, TextAreaInput } from '@spinnaker/core';
import { ANALYSIS_DEFAULTS, EVIDENCE_DEFAULTS, FAIL_DIRECTIONS } from '@istio-shift/core';
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
  fieldLabel,
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
import { AddRowButton, ErrorLines, RemoveButton, StageFormik, getIn } from './fields';

/**
 * Help texts of the rows, under keys of core's HelpContentsRegistry, which StageConfigField's
 * `helpKey` reads (deck packages/core/src/help/help.contents.ts registers Deck's own the same way;
 * register() keeps an operator's registerOverride). One to three sentences, as Deck's own.
 */
const HELP = {
  source: 'A metrics source configured in the stage service (e.g. prometheus), not an address; ask your operators for its name.',
  scopes: "The canary's and the baseline's Deployments. Default: the destination named canary (else the last) and baseline (else the first other), as host-subset (or the host alone); the namespace defaults to the VirtualService's.",
  podLabels: "Optional labels (key=value,...) of the pods whose status, CPU and memory are read. Empty: the Deployment's selector.",
  timing: "An analysed step's pause is the warm-up (not judged) plus a window of at least two intervals. Write 30s, 1m or 1m30s.",
  score: 'Each group scores the share of its metrics that pass; the step score is their weighted sum. A step passes at the pass score and, between marginal and pass, continues (not on the last analysed step).',
  groups: 'Weights of the metric groups, at most 100 in all; groups without one share the rest equally.',
  onFailure: 'What a failed judgement does to traffic: restore the weights from before the shift, or hold them for a person to decide.',
  mode:
    "Sequential: tests every interval may stop a bad canary before the window ends; fixed: one judgement at its end, as Kayenta. " +
    `Alpha (default ${ANALYSIS_DEFAULTS.alpha}, at most 0.2) is the chance, over a whole step, of rolling back a canary as good as its baseline; in fixed mode, the error-count test's level.`,
  evidence: `No verdict without evidence: at least min requests to the canary (default ${EVIDENCE_DEFAULTS.minRequests}), min traffic share of what its weight should bring (default ${EVIDENCE_DEFAULTS.minTrafficShare}) and min points per statistical metric and scope (default ${EVIDENCE_DEFAULTS.minPoints}). 0 turns the first two off.`,
  insufficient: 'With too little evidence a step waits for more, up to this long (default: one more window), then fails or holds. It never promotes a canary it could not judge.',
  steps: 'Only steps with a pause are judged, during the pause; tick skip to leave one out.',
};
for (const [name, help] of Object.entries(HELP)) HelpContentsRegistry.register(`istioTrafficShift.analysis.${name}`, help);

const METRICS_HELP =
  'A custom query may use {{namespace}}, {{workload}}, {{interval}} and {{scope}}. Threshold judges bound the canary, canary ÷ baseline (ratios) or canary - baseline; ' +
  'statistical ones allow a change (1.2 = +20%); the errors judge compares 5xx rates. A failing critical metric fails the step at once.';
const DIRECTION_HELP = "The change against the baseline that fails the metric, as Kayenta's \"Fail on\"; a statistical judge allows only that one.";
// Through HelpField `content`, not the registry: HelpContentsRegistry.getHelpField replaces {{...}}.
const QUERY_HELP = 'PromQL returning one series per scope; {{namespace}}, {{workload}}, {{interval}} and {{scope}} are filled in. Prometheus checks it when the shift is created.';

type Options = Array<[string, string]>;
/** How a control parses what is typed (a duration stays text: the validator reads it); radios are buttons. */
type Kind = 'text' | 'number' | 'duration' | 'podSelector' | 'radios';
/** A control in a row: its inline label, its field under `analysis.`, placeholder, kind, options (a select or radios), its own aria-label. */
type Cell = [inline: string | undefined, field: string, placeholder?: string, kind?: Kind, options?: Options, label?: string];

const NS = "the VirtualService's";
const SELECTOR = "the Deployment's selector";
const ROWS = (groups: string[]): Array<[label: string, help: keyof typeof HELP, cells: Cell[]]> => [
  ['Metrics source', 'source', [[undefined, 'source', 'prometheus']]],
  ['Canary', 'scopes', [['workload', 'scopes.canary.workload', 'checkout-canary'], ['namespace', 'scopes.canary.namespace', NS]]],
  ['Baseline', 'scopes', [['workload', 'scopes.baseline.workload', 'checkout-baseline'], ['namespace', 'scopes.baseline.namespace', NS]]],
  ['Pod labels', 'podLabels', [['canary', 'scopes.canary.podSelector', SELECTOR, 'podSelector', undefined, 'Canary pod labels'], ['baseline', 'scopes.baseline.podSelector', SELECTOR, 'podSelector', undefined, 'Baseline pod labels']]],
  ['Timing', 'timing', [['warm-up', 'warmup', '1m', 'duration'], ['interval', 'interval', '30s', 'duration']]],
  ['Score', 'score', [['pass', 'thresholds.pass', '75', 'number'], ['marginal', 'thresholds.marginal', '50', 'number']]],
  ['Group weights', 'groups', groups.map((group): Cell => [group, `groups.${group}`, 'share', 'number'])],
  ['On failure', 'onFailure', [[undefined, 'onFailure', undefined, 'radios', [['rollback', 'Roll back to the weights before the shift'], ['hold', 'Hold the current weights']]]]],
  ['Mode', 'mode', [['mode', 'mode', undefined, 'text', [['sequential', 'Sequential (may stop early)'], ['fixed', 'Fixed window (Kayenta)']]], ['alpha', 'alpha', String(ANALYSIS_DEFAULTS.alpha), 'number']]],
  [
    'Evidence needed',
    'evidence',
    [
      ['min requests', 'evidence.minRequests', String(EVIDENCE_DEFAULTS.minRequests), 'number'],
      ['min traffic share', 'evidence.minTrafficShare', String(EVIDENCE_DEFAULTS.minTrafficShare), 'number'],
      ['min points', 'evidence.minPoints', String(EVIDENCE_DEFAULTS.minPoints), 'number'],
    ],
  ],
  ['Too little evidence', 'insufficient', [['wait up to', 'evidence.extendUpTo', 'one window', 'duration'], ['then', 'evidence.onInsufficient', undefined, 'text', [['fail', 'Fail the step'], ['hold', 'Hold the weights']]]]],
];

const PARSE: Partial<Record<Kind, (raw: string) => unknown>> = { number: parseDecimal, podSelector: parsePodSelector };
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

interface Context {
  formik: StageFormik;
  problems: AnalysisProblem[];
}

const Messages = ({ c, place }: { c: Context; place: string }) => (
  <ErrorLines className="its-analysis-message" testId={`analysis-message-${place}`} lines={c.problems.filter((p) => p.place === place).map((p) => p.message)} />
);

interface ControlProps {
  c: Context;
  /** The validator's field under `payload`, e.g. `analysis.metrics[1].judge.max`. */
  field: string;
  label: string;
  placeholder?: string;
  kind?: Kind;
  options?: Options;
  /** What it shows when not the stored value (a judge type, a default direction). */
  value?: string;
  /** Instead of storing the value at `field`. */
  onChange?: (value: any) => void;
  onEdit?: () => void;
}

/**
 * One control bound to `payload.<field>`, with its problems under it: a select or radio buttons
 * (an unset value shows the first option), else a text input whose text is parsed by its kind (an
 * emptied input removes the key). The text is kept as typed while it means the stored value, so
 * "0.0" on the way to "0.005", or a trailing comma of a pod selector, is not shown back changed;
 * another change of the payload (a preset, an undo) wins over it.
 */
function Control({ c, field, label, placeholder, kind = 'text', options, value, onChange, onEdit }: ControlProps) {
  const path = `payload.${field}`;
  const stored = getIn(c.formik.values, path);
  const bad = c.problems.some((p) => p.place === field);
  const [draft, setDraft] = React.useState<string>();
  const store: (next: unknown) => void = onChange || ((next) => c.formik.setFieldValue(path, next));
  const current = value || formatPodSelector(stored) || (options && options[0][0]);
  const common = { className: `form-control input-sm${bad ? ' its-invalid' : ''}`, 'aria-label': label, 'aria-invalid': bad };
  const parse = PARSE[kind] || ((raw: string) => raw || undefined);
  return (
    <div className={`its-cell its-${kind}`} role={kind === 'radios' ? 'radiogroup' : undefined} aria-label={kind === 'radios' ? label : undefined}>
      {kind === 'radios' ? (
        <RadioButtonInput
          name={`its-${field}`}
          inline={true}
          // react-select's Option type is not installed, so core's option type does not resolve here.
          options={options!.map(([v, text]) => ({ value: v, label: text })) as never}
          value={current}
          onChange={(event: React.ChangeEvent<HTMLInputElement>) => store(event.target.value)}
        />
      ) : options ? (
        <select {...common} value={current} onChange={(event) => store(event.target.value || undefined)}>
          {options.map(([v, text]) => (
            <option key={v} value={v}>
              {text}
            </option>
          ))}
        </select>
      ) : (
        <input
          type="text"
          {...common}
          placeholder={placeholder}
          inputMode={kind === 'number' ? 'decimal' : undefined}
          value={draft !== undefined && same(parse(draft), stored) ? draft : formatPodSelector(stored)}
          onChange={(event) => {
            setDraft(event.target.value);
            if (onEdit) onEdit();
            store(parse(event.target.value));
          }}
        />
      )}
      <Messages c={c} place={field} />
    </div>
  );
}

/** A labelled control inside a row holding several (workload and namespace, pass and marginal ...). */
const Inline = ({ label, children }: { label?: string; children: React.ReactNode }) =>
  label ? (
    <label className="its-inline-label">
      <span className="its-inline-text">{label}</span>
      {children}
    </label>
  ) : (
    <>{children}</>
  );

/**
 * A metric's bounds on one line: the ones it uses (shownBounds), and for a threshold judge a list to
 * add another; its state is the bounds added and not yet filled in (keyed by the judge type, so a new
 * judge starts afresh).
 */
function Bounds({ c, metric, index }: { c: Context; metric: MetricDraft; index: number }) {
  const [added, setAdded] = React.useState<string[]>([]);
  const judgeType = judgeTypeOf(metric.judge);
  const shown = shownBounds(metric, added);
  const more = judgeType === 'threshold' ? JUDGE_BOUNDS.threshold.filter((bound) => !shown.some((s) => s.key === bound.key)) : [];
  return (
    <div className="its-bounds">
      {shown.map(({ key, label, placeholder }) => (
        <Inline key={key} label={label}>
          <Control
            c={c}
            field={`analysis.metrics[${index}].judge.${key}`}
            label={`Metric ${index + 1} ${judgeType} ${label}`}
            kind="number"
            placeholder={placeholder}
            onEdit={() => setAdded((keys) => (keys.includes(key) ? keys : [...keys, key]))}
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
function QueryRow({ c, metric, index }: { c: Context; metric: MetricDraft; index: number }) {
  const field = `analysis.metrics[${index}].query`;
  const id = `its-analysis-query-${index}`;
  const checks = queryCheckMessages(index, metric.query);
  const bad = checks.length > 0 || c.problems.some((p) => p.place === field);
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
          value={metric.query || ''}
          onChange={(event: React.ChangeEvent<HTMLTextAreaElement>) => c.formik.setFieldValue(`payload.${field}`, event.target.value || undefined)}
        />
        <ErrorLines className="its-analysis-message" testId={`analysis-query-check-${index}`} lines={checks} />
        <Messages c={c} place={field} />
      </td>
    </tr>
  );
}

const DIRECTIONS: Options = FAIL_DIRECTIONS.map((direction) => [direction, direction]);
const KINDS: Options = METRIC_KINDS.map((kind) => [kind, METRIC_LABELS[kind]]);
const NO_DATA: Options = [['', 'fail'], ['pass', 'pass'], ['wait', 'wait']];

function MetricRow({ c, payload, metric, index, names }: { c: Context; payload: PayloadDraft; metric: MetricDraft; index: number; names: string[] }) {
  const base = `analysis.metrics[${index}]`;
  const n = index + 1;
  const judgeType = judgeTypeOf(metric.judge);
  const set = (next: unknown, at = '') => c.formik.setFieldValue(`payload.${base}${at}`, next);
  const control = (key: string, label: string, extra: Partial<ControlProps> = {}) => <Control c={c} field={`${base}.${key}`} label={`Metric ${n} ${label}`} {...extra} />;
  // [class of the cell, its content], in the order of the table's head.
  const cells: Array<[string, React.ReactNode]> = [
    ['its-step-number', n],
    ['its-metric-name', control('name', 'name')],
    ['its-metric-kind', control('metric', 'metric', { options: KINDS, onChange: (kind) => set(changeMetricKind(metric, kind as MetricDraft['metric'], names)) })],
    ['its-metric-group', control('group', 'group', { placeholder: metric.metric === 'custom' ? 'custom' : 'default' })],
    ['its-metric-direction', control('direction', 'fails on', { options: DIRECTIONS, value: directionOf(metric), onChange: (direction) => set(changeDirection(metric, direction as never)) })],
    [
      'its-narrow its-center',
      <>
        <input type="checkbox" aria-label={`Metric ${n} critical`} checked={metric.critical === true} onChange={(event) => set(event.target.checked || undefined, '.critical')} />
        <Messages c={c} place={`${base}.critical`} />
      </>,
    ],
    ['its-metric-nodata', control('nodata', 'no data', { options: NO_DATA })],
    [
      'its-metric-judge',
      <>
        {control('judge.type', 'judge', {
          options: judgeTypesFor(metric).map((type) => [type, type === 'errors' ? 'errors (5xx)' : type]),
          value: judgeType,
          onChange: (type) => set(changeJudgeType(metric.judge, type as JudgeType), '.judge'),
        })}
        <Messages c={c} place={`${base}.judge`} />
      </>,
    ],
    ['its-analysis-bounds', <Bounds key={judgeType} c={c} metric={metric} index={index} />],
    ['its-actions', <RemoveButton label={`Remove metric ${n}`} disabled={names.length <= 1} onClick={() => c.formik.setFieldValue('payload', removeMetric(payload, index))} />],
  ];
  return (
    <>
      <tr data-testid={`analysis-metric-${index}`}>
        {cells.map(([className, content]) => (
          <td key={className} className={className}>
            {content}
          </td>
        ))}
      </tr>
      {metric.metric === 'custom' && <QueryRow c={c} metric={metric} index={index} />}
      {c.problems.some((p) => p.place === base) && (
        <tr>
          <td />
          <td colSpan={9}>
            <Messages c={c} place={base} />
          </td>
        </tr>
      )}
    </>
  );
}

/** One row of the form: core's StageConfigField (Deck's stage editor row), its help from the registry. */
const Row = ({ label, help, children }: { label: string; help: string; children: React.ReactNode }) => (
  <StageConfigField label={label} helpKey={`istioTrafficShift.analysis.${help}`} fieldColumns={9}>
    <div className="its-analysis-inputs">{children}</div>
  </StageConfigField>
);

function StepsAnalysis({ c, payload }: { c: Context; payload: PayloadDraft }) {
  return (
    <div className="form-horizontal its-analysis-form">
      <Row label="Steps analysed" help="steps">
      <ul className="its-analysis-steps list-unstyled">
        {(payload.steps || []).map((step, i) => {
          const state = stepAnalysisState(step);
          return (
            <li key={i} data-testid={`analysis-step-${i}`}>
              <strong>Step {i + 1}</strong>{' '}
              {state === 'no-pause' ? (
                <span className="its-note">no pause: not analysed</span>
              ) : (
                <label className="its-inline-label">
                  <input type="checkbox" aria-label={`Skip analysis of step ${i + 1}`} checked={state === 'skipped'} onChange={(event) => c.formik.setFieldValue('payload', setStepSkip(payload, i, event.target.checked))} /> skip
                  analysis (pause {String(step.pause)})
                </label>
              )}
              <Messages c={c} place={`steps[${i}].analysis`} />
            </li>
          );
        })}
      </ul>
      </Row>
    </div>
  );
}

export function AnalysisSection({ formik }: { formik: StageFormik }) {
  const payload = getIn(formik.values, 'payload') as PayloadDraft;
  const analysis = analysisOf(payload) as AnalysisDraft | undefined;
  const problems = React.useMemo(() => (analysis ? analysisProblems(cleanPayload(payload)) : []), [payload, analysis]);
  const c = { formik, problems };
  const button = (text: string, change: (payload: PayloadDraft) => PayloadDraft, title?: string) => (
    <button type="button" className="btn btn-sm btn-default" title={title} onClick={() => formik.setFieldValue('payload', change(payload))}>
      {text}
    </button>
  );
  const preset = button('Use the reference preset', applyReferencePreset, 'Istio 60 / Kubernetes 40, pass 75, marginal 50, 1m warm-up, 30s interval; roll back on failure');
  const metrics = analysis && Array.isArray(analysis.metrics) ? analysis.metrics : [];
  const names = metrics.map((m) => m.name);
  return (
    <div className="its-section its-analysis" data-testid="analysis-section">
      <h5 className="its-heading">
        Automated analysis <HelpField content="Judges the canary against the baseline in each step's pause, like Kayenta, and rolls back or holds when it fails." />
      </h5>
      {!analysis ? (
        <p className="its-note">Off: the steps are not judged. {preset}</p>
      ) : (
        <>
          <div className="its-presets">
            {preset}
            {button('Turn analysis off', removeAnalysis)}
          </div>
          <div className="form-horizontal its-analysis-form">
          {ROWS(usedGroups(analysis)).map(([label, help, cells]) => (
            <Row key={label} label={label} help={help}>
              {cells.map(([inline, field, placeholder, kind, options, aria]) => (
                <Inline key={field} label={inline}>
                  <Control c={c} field={`analysis.${field}`} label={aria || fieldLabel(`analysis.${field}`)} placeholder={placeholder} kind={kind} options={options} />
                </Inline>
              ))}
            </Row>
          ))}
          </div>
          <h5 className="its-heading">
            Metrics <HelpField content={METRICS_HELP} />
          </h5>
          <table className="table table-condensed its-table its-analysis-metrics" aria-label="Analysis metrics">
            <thead>
              <tr>
                {['#', 'Name', 'Metric', 'Group', 'Fails on', 'Critical', 'No data', 'Judge', 'Bounds', ''].map((head) => (
                  <th key={head}>{head === 'Fails on' ? <>Fails on <HelpField content={DIRECTION_HELP} /></> : head}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {metrics.map((metric, i) => (
                <MetricRow key={i} c={c} payload={payload} metric={metric} index={i} names={names} />
              ))}
            </tbody>
          </table>
          <AddRowButton label="Add metric" onClick={() => formik.setFieldValue('payload', addMetric(payload))} />
          <StepsAnalysis c={c} payload={payload} />
          <Messages c={c} place="analysis" />
        </>
      )}
    </div>
  );
}
