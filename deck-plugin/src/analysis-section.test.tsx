/**
 * The analysis section inside the real editor (real @spinnaker/core 0.29.1 in jsdom), and the
 * judgement tables inside the real execution view, from core's judgeStep output.
 */
import React from 'react';
import { fireEvent, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { AccountService, HelpContentsRegistry, ManifestReader } from '@spinnaker/core';
import type { Application, IExecutionStage, IPipeline, IStage } from '@spinnaker/core';
import { ANALYSIS_DEFAULTS, ERRORS_JUDGE_DEFAULTS, EVIDENCE_DEFAULTS, referenceAnalysis, validateShiftSpec } from '@istio-shift/core';
import { istioTrafficShiftStage } from './index';
import { IstioTrafficShiftExecutionDetails } from './execution/IstioTrafficShiftExecutionDetails';
import { analysisFailedStage, insufficientDataStage } from '../test/fixtures/analysis';

const RESERVED = ['requisiteStageRefIds', 'refId', 'isNew', 'name', 'type'];
const PAYLOAD = {
  account: 'prod-k8s',
  namespace: 'shop',
  virtualService: 'checkout',
  route: { protocol: 'http', name: 'primary' },
  destinations: [{ host: 'checkout', subset: 'release' }, { host: 'checkout', subset: 'baseline' }, { host: 'checkout', subset: 'canary' }],
  steps: [{ weights: [80, 10, 10], pause: '10m' }, { weights: [34, 33, 33], pause: '20m' }, { weights: [100, 0, 0] }],
  onCancel: 'rollback',
  pruneUnlisted: false,
  executionId: '${execution.id}',
  stageRef: '2',
};

beforeEach(() => {
  jest.spyOn(AccountService, 'listAccounts').mockResolvedValue([]);
  jest.spyOn(ManifestReader, 'getManifest').mockRejectedValue({ status: 404, data: { message: 'Manifest not found' } });
});
afterEach(() => jest.restoreAllMocks());

function renderEditor(payload: object = PAYLOAD) {
  const stage = { refId: '2', requisiteStageRefIds: ['1'], type: 'istioTrafficShift', name: 'Shift', alias: 'preconfiguredWebhook', payload: JSON.parse(JSON.stringify(payload)) } as IStage;
  const updateStage = jest.fn((changes: Record<string, unknown>) => {
    Object.keys(changes).forEach((key) => RESERVED.includes(key) || (stage[key] = changes[key]));
  });
  const Component = istioTrafficShiftStage.component!;
  render(<Component application={{ name: 'shop' } as Application} stage={stage} pipeline={{ stages: [stage] } as unknown as IPipeline} updateStage={updateStage} updateStageField={updateStage} stageFieldUpdated={() => undefined} />);
  return { stage, user: userEvent.setup() };
}

const section = () => within(screen.getByTestId('analysis-section'));
const text = (value: unknown) => (value === undefined ? '' : String(value));
const input = (label: string) => section().getByLabelText(label) as HTMLInputElement;
const messageAt = (place: string) => screen.queryByTestId(`analysis-message-${place}`)?.textContent?.trim();
/** A threshold row shows the bounds it uses; another one is added from its "+ bound" list. */
const addBound = (metric: number, key: string) => fireEvent.change(section().getByLabelText(`Metric ${metric} add a threshold bound`), { target: { value: key } });
async function replace(user: ReturnType<typeof userEvent.setup>, label: string, text: string) {
  await user.clear(input(label));
  if (text) await user.type(input(label), text);
}

describe('the analysis section of the editor', () => {
  it('is off for a new shift; one click fills the reference preset with scopes from the destinations', async () => {
    const { stage, user } = renderEditor();
    await screen.findByTestId('analysis-section');
    expect(stage.payload).not.toHaveProperty('analysis');
    expect(section().getByText(/Off: the steps are not judged/)).toBeTruthy();
    await user.click(section().getByRole('button', { name: 'Use the reference preset' }));
    expect(stage.payload.analysis).toEqual(referenceAnalysis({ canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } }));
    expect(stage.payload.analysis).toMatchObject({ groups: { istio: 60, kubernetes: 40 }, thresholds: { pass: 75, marginal: 50 }, warmup: '1m', onFailure: 'rollback' });
    expect(validateShiftSpec(stage.payload, { allowExpressions: true }).problems).toEqual([]);
    expect(input('Canary workload').value).toBe('checkout-canary');
    expect(input('Weight of group istio').value).toBe('60');
    expect(screen.getAllByTestId(/^analysis-metric-\d+$/)).toHaveLength(7);
    expect(screen.getByTestId('analysis-step-2').textContent).toContain('no pause: not analysed');
    expect(screen.queryAllByTestId(/^analysis-message-/)).toEqual([]);
  });

  it('adds and removes metric rows; custom metrics get a query input', async () => {
    const { stage, user } = renderEditor({ ...PAYLOAD, analysis: referenceAnalysis({ canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } }) });
    await screen.findByTestId('analysis-section');
    await user.click(section().getByRole('button', { name: 'Add metric' }));
    expect(stage.payload.analysis.metrics).toHaveLength(8);
    expect(stage.payload.analysis.metrics[7]).toEqual({ name: 'latency-p50', metric: 'latency-p50', judge: { type: 'statistical' } });
    fireEvent.change(section().getByLabelText('Metric 8 metric'), { target: { value: 'custom' } });
    expect(stage.payload.analysis.metrics[7]).toMatchObject({ name: 'custom', metric: 'custom', query: '' });
    expect(messageAt('analysis.metrics[7].query')).toMatch(/^Metric 8, query is required for a custom metric/);
    await user.click(section().getByRole('button', { name: 'Remove metric 2' }));
    expect(stage.payload.analysis.metrics.map((m: { name: string }) => m.name)).toEqual(['success-rate', 'cpu', 'memory', 'restarts', 'readiness', 'oom-killed', 'custom']);
    expect(screen.getAllByTestId(/^analysis-metric-\d+$/)).toHaveLength(7);
  });

  it('shows the shared validator\'s problems on the right inputs, in the form\'s words', async () => {
    const { stage, user } = renderEditor({ ...PAYLOAD, analysis: referenceAnalysis({ canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } }) });
    await screen.findByTestId('analysis-section');
    await replace(user, 'Metrics source', 'http://prometheus:9090');
    addBound(6, 'min');
    addBound(6, 'max');
    await replace(user, 'Metric 6 threshold min', '5');
    await replace(user, 'Metric 6 threshold max', '1');
    await replace(user, 'Baseline workload', 'checkout-canary');
    fireEvent.change(section().getByLabelText('Metric 2 judge'), { target: { value: 'threshold' } });
    addBound(2, 'maxRatio');
    await replace(user, 'Metric 2 threshold max ratio', 'x1.2');
    expect(messageAt('analysis.source')).toMatch(/^Metrics source "http:\/\/prometheus:9090" looks like an address: give the name of a metrics source configured in the stage service/);
    expect(messageAt('analysis.metrics[5].judge.min')).toBe('Metric 6, threshold min (5) is above Metric 6, threshold max (1): swap them');
    expect(messageAt('analysis.metrics[1].judge.maxRatio')).toBe('Metric 2, threshold max ratio must be a number (got "x1.2"): give a bound on canary mean / baseline mean, e.g. 1.2');
    expect(messageAt('analysis')).toBe('Baseline scope is the same workload as the canary (shop/checkout-canary): compare the canary with a separate baseline Deployment');
    expect(input('Metrics source').getAttribute('aria-invalid')).toBe('true');
    // The stage's validateFn fails too, and the raw messages are not repeated under the form.
    expect(JSON.stringify(istioTrafficShiftStage.validateFn!(stage, {} as never))).toContain('analysis');
    expect(screen.queryByTestId('other-problems')).toBeNull();
    // Fixing the inputs clears the messages.
    await replace(user, 'Metrics source', 'prometheus');
    await replace(user, 'Metric 6 threshold min', '');
    await replace(user, 'Metric 6 threshold max', '');
    await replace(user, 'Baseline workload', 'checkout-baseline');
    await replace(user, 'Metric 2 threshold max ratio', '1.2');
    expect(screen.queryAllByTestId(/^analysis-message-/)).toEqual([]);
    expect(stage.payload.analysis.metrics[1].judge).toEqual({ type: 'threshold', maxRatio: 1.2 });
  });

  it('sets the mode, alpha and the evidence rules with labelled inputs; the service\'s defaults are the placeholders', async () => {
    const preset = referenceAnalysis({ canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } });
    delete preset.evidence;
    delete preset.alpha;
    const { stage, user } = renderEditor({ ...PAYLOAD, analysis: preset });
    await screen.findByTestId('analysis-section');
    const select = (label: string) => section().getByLabelText(label) as HTMLSelectElement;
    expect(select('Mode').value).toBe('sequential');
    expect(Array.from(select('Mode').options).map((o) => o.value)).toEqual(['sequential', 'fixed']);
    fireEvent.change(select('Mode'), { target: { value: 'fixed' } });
    expect(stage.payload.analysis.mode).toBe('fixed');
    expect([input('Alpha'), input('Minimum canary requests'), input('Minimum canary traffic share'), input('Minimum points per metric'), input('Wait for evidence up to')].map((i) => [i.value, i.placeholder])).toEqual([
      ['', String(ANALYSIS_DEFAULTS.alpha)],
      ['', String(EVIDENCE_DEFAULTS.minRequests)],
      ['', String(EVIDENCE_DEFAULTS.minTrafficShare)],
      ['', String(EVIDENCE_DEFAULTS.minPoints)],
      ['', 'one window'],
    ]);
    await user.type(input('Alpha'), '0.5');
    expect(messageAt('analysis.alpha')).toMatch(/^Alpha is 0\.5; it must be between 0\.000001 and 0\.2/);
    await replace(user, 'Alpha', '0.005');
    await user.type(input('Minimum canary requests'), '200');
    await user.type(input('Minimum canary traffic share'), '0.25');
    await user.type(input('Minimum points per metric'), '2.5');
    expect(messageAt('analysis.evidence.minPoints')).toBe('Minimum points per metric must be a whole number (got 2.5)');
    await replace(user, 'Minimum points per metric', '4');
    await user.type(input('Wait for evidence up to'), '10m');
    expect(select('On too little evidence').value).toBe('fail');
    fireEvent.change(select('On too little evidence'), { target: { value: 'hold' } });
    expect(stage.payload.analysis).toMatchObject({ mode: 'fixed', alpha: 0.005, evidence: { minRequests: 200, minTrafficShare: 0.25, minPoints: 4, extendUpTo: '10m', onInsufficient: 'hold' } });
    expect(screen.queryAllByTestId(/^analysis-message-/)).toEqual([]);
    expect(validateShiftSpec(stage.payload, { allowExpressions: true }).problems).toEqual([]);
    // Emptied, a rule goes back to the service's default.
    await replace(user, 'Minimum canary requests', '');
    expect(stage.payload.analysis.evidence).not.toHaveProperty('minRequests');
  });

  it('offers the errors judge for success rate only, with max ratio and max increase; threshold judges take max increase', async () => {
    const analysis = referenceAnalysis({ canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } });
    // A deprecated failAfterSamples from an older pipeline: no input, and kept as it is.
    analysis.metrics[1].failAfterSamples = 4;
    const { stage, user } = renderEditor({ ...PAYLOAD, analysis });
    await screen.findByTestId('analysis-section');
    const options = (label: string) => Array.from((section().getByLabelText(label) as HTMLSelectElement).options).map((o) => o.value);
    expect((section().getByLabelText('Metric 1 judge') as HTMLSelectElement).value).toBe('errors');
    expect(options('Metric 1 judge')).toEqual(['statistical', 'threshold', 'errors']);
    expect(options('Metric 2 judge')).toEqual(['statistical', 'threshold']);
    const preset = analysis.metrics[0].judge as { maxRatio: number; maxIncrease: number };
    expect([input('Metric 1 errors max ratio').value, input('Metric 1 errors max increase').value]).toEqual([String(preset.maxRatio), String(preset.maxIncrease)]);
    expect(input('Metric 5 threshold max increase').value).toBe(String((analysis.metrics[4].judge as { maxIncrease: number }).maxIncrease));
    expect(input('Metric 6 threshold max decrease').value).toBe(text((analysis.metrics[5].judge as { maxDecrease?: number }).maxDecrease));
    expect(section().queryByLabelText(/fail after/i)).toBeNull();
    await replace(user, 'Metric 1 errors max ratio', '0.5');
    expect(messageAt('analysis.metrics[0].judge.maxRatio')).toMatch(/^Metric 1, errors max ratio is 0\.5; it must be between 1 and 1000/);
    await replace(user, 'Metric 1 errors max ratio', '3');
    await replace(user, 'Metric 5 threshold max increase', '1');
    expect(stage.payload.analysis.metrics[0].judge).toEqual({ type: 'errors', maxRatio: 3, maxIncrease: 0.1 });
    expect(stage.payload.analysis.metrics[4].judge).toEqual({ type: 'threshold', maxIncrease: 1 });
    expect(stage.payload.analysis.metrics[1].failAfterSamples).toBe(4);
    // Switching success rate to a statistical judge and back starts each judge afresh (defaults as placeholders).
    fireEvent.change(section().getByLabelText('Metric 1 judge'), { target: { value: 'statistical' } });
    expect(stage.payload.analysis.metrics[0].judge).toEqual({ type: 'statistical' });
    fireEvent.change(section().getByLabelText('Metric 1 judge'), { target: { value: 'errors' } });
    expect(stage.payload.analysis.metrics[0].judge).toEqual({ type: 'errors' });
    expect([input('Metric 1 errors max ratio').placeholder, input('Metric 1 errors max increase').placeholder]).toEqual([String(ERRORS_JUDGE_DEFAULTS.maxRatio), String(ERRORS_JUDGE_DEFAULTS.maxIncrease)]);
    // Changing the metric away from success rate takes its default judge; errors is no longer offered.
    fireEvent.change(section().getByLabelText('Metric 1 metric'), { target: { value: 'latency-p95' } });
    expect(stage.payload.analysis.metrics[0].judge).toEqual({ type: 'statistical' });
    expect(options('Metric 1 judge')).toEqual(['statistical', 'threshold']);
    expect(screen.queryAllByTestId(/^analysis-message-/)).toEqual([]);
  });

  it('an errors judge on another metric (from a JSON edit) stays on offer, with the validator\'s message', async () => {
    const analysis = referenceAnalysis({ canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } });
    analysis.metrics[1].judge = { type: 'errors' };
    renderEditor({ ...PAYLOAD, analysis });
    await screen.findByTestId('analysis-section');
    expect((section().getByLabelText('Metric 2 judge') as HTMLSelectElement).value).toBe('errors');
    expect(messageAt('analysis.metrics[1].judge.type')).toMatch(/^Metric 2, judge type errors judges request and 5xx counts, which only the success-rate metric has/);
  });

  it('takes each scope\'s optional pod labels as key=value text; empty leaves the Deployment\'s selector', async () => {
    const { stage, user } = renderEditor({ ...PAYLOAD, analysis: referenceAnalysis({ canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } }) });
    await screen.findByTestId('analysis-section');
    expect(input('Canary pod labels').value).toBe('');
    expect(stage.payload.analysis.scopes.canary).not.toHaveProperty('podSelector');
    await user.type(input('Canary pod labels'), 'app=checkout, track=canary');
    expect(input('Canary pod labels').value).toBe('app=checkout, track=canary');
    expect(stage.payload.analysis.scopes.canary).toEqual({ workload: 'checkout-canary', podSelector: { app: 'checkout', track: 'canary' } });
    expect(messageAt('analysis.scopes.canary.podSelector')).toBeUndefined();
    // A bad label value gets the shared validator's message, in the form's words, under the input.
    await replace(user, 'Baseline pod labels', 'app=check out');
    expect(messageAt('analysis.scopes.baseline.podSelector')).toBe(
      validateShiftSpec({ ...stage.payload }, { allowExpressions: true }).problems.find((p) => p.field === 'analysis.scopes.baseline.podSelector.app')!.message.replace('analysis.scopes.baseline.podSelector.app', 'Baseline pod selector label app'),
    );
    expect(input('Baseline pod labels').getAttribute('aria-invalid')).toBe('true');
    // Text that is not key=value pairs: the message speaks of the input's notation (issue 16, item 7).
    await replace(user, 'Baseline pod labels', 'checkout');
    expect(messageAt('analysis.scopes.baseline.podSelector')).toBe('Baseline pod labels must be key=value pairs separated by commas, such as app=checkout, track=canary');
    // Emptied: the key goes, and the service uses the Deployment's selector again.
    await replace(user, 'Baseline pod labels', '');
    expect(stage.payload.analysis.scopes.baseline).toEqual({ workload: 'checkout-baseline' });
    expect(messageAt('analysis.scopes.baseline.podSelector')).toBeUndefined();
  });

  it('skips analysis of a paused step, and turning analysis off removes the block and the skips', async () => {
    const { stage, user } = renderEditor({ ...PAYLOAD, analysis: referenceAnalysis({ canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } }) });
    await screen.findByTestId('analysis-section');
    await user.click(section().getByLabelText('Skip analysis of step 1'));
    expect(stage.payload.steps[0]).toEqual({ weights: [80, 10, 10], pause: '10m', analysis: { skip: true } });
    await user.click(section().getByRole('button', { name: 'Turn analysis off' }));
    expect(stage.payload).not.toHaveProperty('analysis');
    expect(stage.payload.steps[0]).toEqual({ weights: [80, 10, 10], pause: '10m' });
  });
});

describe('the analysis section reads like Deck\'s own stage editors (issue 16, item 5)', () => {
  const preset = () => referenceAnalysis({ canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } });
  const select = (label: string) => section().getByLabelText(label) as HTMLSelectElement;
  const options = (label: string) => Array.from(select(label).options).map((o) => o.value);
  const queryChecks = (index: number) => screen.queryByTestId(`analysis-query-check-${index}`)?.textContent?.trim();

  it('lays each field out as a StageConfigField row: a label, help text from the registry, the inputs named', async () => {
    renderEditor({ ...PAYLOAD, analysis: preset() });
    await screen.findByTestId('analysis-section');
    const rows = Array.from(screen.getByTestId('analysis-section').querySelectorAll('.form-horizontal > .form-group'));
    const labels = rows.map((row) => row.querySelector('label.col-md-3.sm-label-right .label-text')?.textContent?.trim());
    expect(labels).toEqual(['Metrics source', 'Canary', 'Baseline', 'Pod labels', 'Timing', 'Score', 'Group weights', 'On failure', 'Mode', 'Evidence needed', 'Too little evidence', 'Steps analysed']);
    // Every row has its help ("?") and every control in it is named.
    rows.forEach((row) => expect(row.querySelector('label .help-field')).not.toBeNull());
    for (const name of ['source', 'scopes', 'podLabels', 'timing', 'score', 'groups', 'onFailure', 'mode', 'evidence', 'insufficient', 'steps']) {
      expect(HelpContentsRegistry.getHelpField(`istioTrafficShift.analysis.${name}`)).toMatch(/^\S.{40,}/);
    }
    const controls = rows.flatMap((row) => Array.from(row.querySelectorAll('input:not([type=radio]), select, textarea')));
    expect(controls.filter((control) => !control.getAttribute('aria-label'))).toEqual([]);
    // Inputs sharing a row carry a visible label of their own.
    const inline = (label: string) => input(label).closest('label.its-inline-label')?.querySelector('.its-inline-text')?.textContent;
    expect([inline('Canary workload'), inline('Canary namespace'), inline('Warm-up'), inline('Interval'), inline('Pass score'), inline('Marginal score')]).toEqual(['workload', 'namespace', 'warm-up', 'interval', 'pass', 'marginal']);
  });

  it('offers On failure as radio buttons with their whole text, as the stage\'s "If cancelled" does', async () => {
    const { stage, user } = renderEditor({ ...PAYLOAD, analysis: preset() });
    await screen.findByTestId('analysis-section');
    const group = within(section().getByRole('radiogroup', { name: 'On failure' }));
    expect(group.getAllByRole('radio').map((radio) => [(radio as HTMLInputElement).value, radio.closest('label')!.textContent!.trim(), (radio as HTMLInputElement).checked])).toEqual([
      ['rollback', 'Roll back to the weights before the shift', true],
      ['hold', 'Hold the current weights', false],
    ]);
    await user.click(group.getByRole('radio', { name: 'Hold the current weights' }));
    expect(stage.payload.analysis.onFailure).toBe('hold');
  });

  it('has a "Fails on" direction per metric with the values the contract allows; a statistical row shows the allowed change of its direction', async () => {
    const { stage, user } = renderEditor({ ...PAYLOAD, analysis: preset() });
    await screen.findByTestId('analysis-section');
    expect(options('Metric 2 fails on')).toEqual(['increase', 'decrease', 'either']);
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => select(`Metric ${n} fails on`).value)).toEqual(preset().metrics.map((m) => m.direction));
    expect(section().queryByLabelText('Metric 2 statistical allowed decrease')).toBeNull();
    fireEvent.change(select('Metric 2 fails on'), { target: { value: 'either' } });
    expect(stage.payload.analysis.metrics[1]).toMatchObject({ direction: 'either', judge: { type: 'statistical', allowedIncrease: 1.2 } });
    await user.type(input('Metric 2 statistical allowed decrease'), '0.8');
    expect(stage.payload.analysis.metrics[1].judge).toEqual({ type: 'statistical', allowedIncrease: 1.2, allowedDecrease: 0.8 });
    // Back to increase: the allowed decrease goes with its input (the validator would reject it).
    fireEvent.change(select('Metric 2 fails on'), { target: { value: 'increase' } });
    expect(stage.payload.analysis.metrics[1]).toMatchObject({ direction: 'increase', judge: { type: 'statistical', allowedIncrease: 1.2 } });
    expect(stage.payload.analysis.metrics[1].judge).not.toHaveProperty('allowedDecrease');
    expect(section().queryByLabelText('Metric 2 statistical allowed decrease')).toBeNull();
    // A new custom metric fails either way unless told (core's DEFAULT_DIRECTION), and saves no direction until changed.
    await user.click(section().getByRole('button', { name: 'Add metric' }));
    fireEvent.change(select('Metric 8 metric'), { target: { value: 'custom' } });
    expect(select('Metric 8 fails on').value).toBe('either');
    expect(stage.payload.analysis.metrics[7]).not.toHaveProperty('direction');
    expect(screen.queryAllByTestId(/^analysis-message-analysis\.metrics\[1\]/)).toEqual([]);
  });

  it('keeps a threshold row on one line: the bounds it uses, and a list to add another', async () => {
    const { stage, user } = renderEditor({ ...PAYLOAD, analysis: preset() });
    await screen.findByTestId('analysis-section');
    const bounds = (n: number) => Array.from(screen.getByTestId(`analysis-metric-${n - 1}`).querySelectorAll('.its-bounds input')).map((i) => i.getAttribute('aria-label'));
    expect(bounds(5)).toEqual(['Metric 5 threshold max increase']);
    expect(bounds(6)).toEqual(['Metric 6 threshold max decrease']);
    expect(options('Metric 5 add a threshold bound')).toEqual(['', 'min', 'max', 'minRatio', 'maxRatio', 'maxDecrease']);
    addBound(5, 'max');
    expect(bounds(5)).toEqual(['Metric 5 threshold max', 'Metric 5 threshold max increase']);
    await user.type(input('Metric 5 threshold max'), '3');
    expect(stage.payload.analysis.metrics[4].judge).toEqual({ type: 'threshold', max: 3, maxIncrease: 0 });
  });

  it('takes a custom query in a full-width monospace text area and checks the PromQL as it is typed, in the form\'s words', async () => {
    const { stage, user } = renderEditor({ ...PAYLOAD, analysis: preset() });
    await screen.findByTestId('analysis-section');
    await user.click(section().getByRole('button', { name: 'Add metric' }));
    fireEvent.change(select('Metric 8 metric'), { target: { value: 'custom' } });
    const query = section().getByLabelText('PromQL query of metric 8') as HTMLTextAreaElement;
    expect(query.tagName).toBe('TEXTAREA');
    expect(query.className).toMatch(/\bTextAreaInput form-control code\b/);
    // user-event reads [ and { as key names: [[ and {{ type one of each.
    await user.type(query, 'sum(rat(x[[5m]');
    expect(queryChecks(7)).toBe('Metric 8, query, column 5: rat is not a PromQL function or aggregation (did you mean rate?) Metric 8, query, column 8: the ( opened here is never closed: add a )');
    await user.type(query, ')');
    expect(queryChecks(7)).toBe('Metric 8, query, column 5: rat is not a PromQL function or aggregation (did you mean rate?) Metric 8, query, column 4: the ( opened here is never closed: add a )');
    expect(query.getAttribute('aria-invalid')).toBe('true');
    // Pasted whole: the example query of the placeholder passes.
    fireEvent.change(query, { target: { value: 'sum(rate(http_errors_total{namespace="{{namespace}}",pod=~"{{workload}}-.*"}[{{interval}}]))' } });
    expect(stage.payload.analysis.metrics[7].query).toBe('sum(rate(http_errors_total{namespace="{{namespace}}",pod=~"{{workload}}-.*"}[{{interval}}]))');
    expect(queryChecks(7)).toBeUndefined();
    expect(query.getAttribute('aria-invalid')).toBe('false');
    expect(messageAt('analysis.metrics[7].query')).toBeUndefined();
  });
});

describe('the judgement tables of the execution view', () => {
  it('shows each judged step\'s metrics, the overall score and why analysis rolled the shift back', () => {
    const stage = analysisFailedStage() as unknown as IExecutionStage;
    render(<IstioTrafficShiftExecutionDetails stage={stage} name="istioTrafficShift" current="istioTrafficShift" application={{} as Application} execution={{} as never} provider="" detailsSections={[]} config={{} as never} />);
    expect(screen.getByTestId('analysis-overall').textContent).toBe('Fail, score 0');
    expect(screen.getByTestId('analysis-failure').textContent).toMatch(/^Analysis failed the shift: step 2 failed analysis: canary 5xx .*\(critical\).*; score 0\/75$/);
    expect(screen.getByTestId('judgement-1').querySelector('h6')!.textContent).toBe('Step 1: Pass, score 100 (pass 75, marginal 50)');
    expect(screen.getByTestId('judgement-2').querySelector('h6')!.textContent).toBe('Step 2: Fail, score 0 (pass 75, marginal 50) — forced to 0 by a failing critical metric');
    const cells = (name: string) => Array.from(screen.getByTestId(`judgement-2-${name}`).querySelectorAll('td')).map((td) => td.textContent);
    expect(cells('success-rate')).toEqual(['success-rate critical', expect.stringMatching(/^91\.\d%523 of 6,075 failed$/), expect.stringMatching(/^99\.\d%11 of 5,980 failed$/), expect.stringMatching(/^5xx ×4\d\.?\d?$/), 'Low', 'istio 0 (0/2, weight 60)']);
    expect(cells('latency-p99')).toEqual(['latency-p99', expect.stringMatching(/^4\d\d ms$/), expect.stringMatching(/^1\d\d ms$/), expect.stringMatching(/^\+1\d\d%$/), 'High', 'istio 0 (0/2, weight 60)']);
    expect(cells('restarts')).toEqual(['restarts critical', '0', '0', '—', 'Pass', 'kubernetes 100 (5/5, weight 40)']);
    expect(screen.getByTestId('judgement-2-success-rate').className).toBe('its-judge-row-failed');
    expect(screen.getByTestId('judgement-2-success-rate').getAttribute('title')).toBeTruthy();
  });

  const renderDetails = (stage: unknown) =>
    render(<IstioTrafficShiftExecutionDetails stage={stage as IExecutionStage} name="istioTrafficShift" current="istioTrafficShift" application={{} as Application} execution={{} as never} provider="" detailsSections={[]} config={{} as never} />);
  const occurrences = (text: string) => document.body.textContent!.split(text).length - 1;

  it('labels the rollback by the analysis failure that caused it and says why once', () => {
    const stage = analysisFailedStage();
    const failure = (stage.context.webhook.monitor.body as unknown as { failure: { message: string } }).failure.message;
    renderDetails(stage);
    expect(screen.getByTestId('rollback').textContent).toBe('On analysis failure: weights restored to 100/0/0 (release/baseline/canary)');
    expect(screen.queryByTestId('failure-reasons')).toBeNull();
    // Said once (issue 16, item 4): the failure box says why, the rollback line what happened to traffic.
    const why = failure.replace('; weights restored to 100/0/0 (release/baseline/canary)', '');
    expect(occurrences(why)).toBe(1);
    expect(screen.getByTestId('analysis-failure').textContent).toBe(`Analysis failed the shift: ${why}`);
  });

  it('labels a rollback after too little evidence, and shows the service\'s message once', () => {
    const stage = insufficientDataStage();
    const failure = (stage.context.webhook.monitor.body as unknown as { failure: { message: string } }).failure.message;
    renderDetails(stage);
    expect(screen.getByTestId('rollback').textContent).toBe('With too little evidence to judge: weights restored to 100/0/0 (release/baseline/canary)');
    // The gate's problems are listed once, in step 1's evidence panel; the box names the step (issue 16, item 4).
    expect(failure).toMatch(/^step 1 has too little evidence to judge: /);
    expect(screen.getByTestId('analysis-failure').textContent).toBe("Too little evidence to judge the canary: step 1 has too little evidence to judge; step 1's evidence below says what is missing");
    expect(screen.queryByTestId('failure-reasons')).toBeNull();
    expect(screen.getByTestId('judgement-1').getAttribute('data-state')).toBe('insufficient');
  });

  it('says when analysis could not run, and labels a rollback after abandonment as such', () => {
    const unavailable = analysisFailedStage();
    const body = unavailable.context.webhook.monitor.body as unknown as Record<string, unknown>;
    body.failure = { reason: 'ANALYSIS_UNAVAILABLE', message: 'step 2 analysis could not run: prometheus answered 503; weights restored to 100/0/0 (release/baseline/canary)' };
    const { unmount } = renderDetails(unavailable);
    expect(screen.getByTestId('analysis-failure').textContent).toBe('Analysis could not run: step 2 analysis could not run: prometheus answered 503');
    expect(screen.getByTestId('rollback').textContent).toMatch(/^When analysis could not run: weights restored/);
    expect(screen.queryByTestId('failure-reasons')).toBeNull();
    unmount();

    const abandoned = analysisFailedStage();
    const abandonedBody = abandoned.context.webhook.monitor.body as unknown as Record<string, unknown>;
    abandonedBody.failure = { reason: 'ABANDONED', message: 'no status poll for 2m: the pipeline stopped watching' };
    renderDetails(abandoned);
    expect(screen.getByTestId('rollback').textContent).toBe('On abandonment: weights restored to 100/0/0 (release/baseline/canary)');
    expect(screen.queryByTestId('analysis-failure')).toBeNull();
    expect(screen.getByTestId('failure-reasons').textContent).toBe('Why it failedno status poll for 2m: the pipeline stopped watching');
  });
});
