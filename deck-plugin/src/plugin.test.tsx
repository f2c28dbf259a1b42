/**
 * The plugin against the real @spinnaker/core 0.29.1 in jsdom: registration next to core's
 * preconfigured-webhook entry (both orders), the editor's behaviour, and the execution details.
 */
import React from 'react';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { AccountService, ManifestReader, Registry, registerPluginExtensions } from '@spinnaker/core';
import type { Application, IAccountDetails, IExecutionStage, IManifest, IPipeline, IStage, IStageTypeConfig } from '@spinnaker/core';
import { RESTART_EXPRESSION, validateShiftSpec } from '@istio-shift/core';
import { inFormLanguage } from './formLanguage';
import { plugin, istioTrafficShiftStage } from './index';
import { IstioTrafficShiftExecutionDetails } from './execution/IstioTrafficShiftExecutionDetails';
import runningStage from '../test/fixtures/orca-stage-context.json';
import terminalStage from '../test/fixtures/orca-stage-context-terminal.json';
import canceledStage from '../test/fixtures/orca-stage-context-canceled.json';
import rejectedStage from '../test/fixtures/orca-stage-context-rejected.json';

const KEY = 'istioTrafficShift';
const RESERVED = ['requisiteStageRefIds', 'refId', 'isNew', 'name', 'type'];

type RegistryInternals = { stageTypes: IStageTypeConfig[]; registerStage: (config: IStageTypeConfig) => void; getStageConfig: ((stage: Partial<IStage>) => IStageTypeConfig) & { cache: Map<string, unknown> } };
const registry = Registry.pipeline as unknown as RegistryInternals;

/** What core's webhookStage.ts registers for each entry of GET /webhooks/preconfigured. */
const coreWebhookEntry = (): IStageTypeConfig =>
  ({
    label: 'Istio Traffic Shift',
    description: 'from Orca',
    key: KEY,
    alias: 'preconfiguredWebhook',
    addAliasToConfig: true,
    producesArtifacts: true,
    restartable: true,
    controller: 'WebhookStageCtrl',
    controllerAs: '$ctrl',
    templateUrl: 'core/src/pipeline/config/stages/webhook/webhookStage.html',
    executionDetailsUrl: 'core/src/pipeline/config/stages/webhook/webhookExecutionDetails.html',
    validators: [],
    configuration: { preconfiguredProperties: ['url'], waitForCompletion: true, parameters: [] },
  }) as unknown as IStageTypeConfig;

function resetRegistry() {
  registry.stageTypes = registry.stageTypes.filter((config) => config.key !== KEY);
  delete (registry as Partial<RegistryInternals>).registerStage; // back to PipelineRegistry.prototype.registerStage
  delete (registry as unknown as Record<string, unknown>).__istioTrafficShiftGuarded;
  registry.getStageConfig.cache.clear();
}

const entries = () => Registry.pipeline.getConfigurableStageTypes([]).filter((config) => config.label === 'Istio Traffic Shift');

describe('registration next to core\'s preconfigured webhook of the same type', () => {
  beforeEach(resetRegistry);

  it('core first: the plugin removes core\'s entry and is the only one', async () => {
    Registry.pipeline.registerStage(coreWebhookEntry());
    expect(Registry.pipeline.getStageConfig({ type: KEY } as IStage).component).toBeUndefined(); // cached: core's Angular UI
    await registerPluginExtensions(plugin);
    expect(entries()).toEqual([istioTrafficShiftStage]);
    expect(Registry.pipeline.getStageConfig({ type: KEY } as IStage).component).toBe(istioTrafficShiftStage.component);
    expect(Registry.pipeline.getStageConfig({ type: KEY, alias: 'preconfiguredWebhook' } as IStage).component).toBe(istioTrafficShiftStage.component);
  });

  it('plugin first: core\'s late registration is dropped, other registrations still work', async () => {
    await registerPluginExtensions(plugin);
    Registry.pipeline.registerStage(coreWebhookEntry());
    Registry.pipeline.registerStage({ key: 'notifyChangeBoard', label: 'Notify change board', alias: 'preconfiguredWebhook' } as IStageTypeConfig);
    expect(entries()).toEqual([istioTrafficShiftStage]);
    expect(Registry.pipeline.getStageConfig({ type: KEY } as IStage).component).toBe(istioTrafficShiftStage.component);
    expect(Registry.pipeline.getStageConfig({ type: 'notifyChangeBoard' } as IStage).label).toBe('Notify change board');
  });

  it('registers what Orca needs: alias preconfiguredWebhook saved into the stage', () => {
    expect(istioTrafficShiftStage).toMatchObject({ key: KEY, label: 'Istio Traffic Shift', alias: 'preconfiguredWebhook', addAliasToConfig: true });
    expect(istioTrafficShiftStage.executionDetailsSections!.map((section) => section.title)).toEqual(['istioTrafficShift', 'taskStatus']);
  });
});

const ACCOUNTS = [
  { name: 'prod-k8s', type: 'kubernetes', cloudProvider: 'kubernetes', namespaces: ['shop', 'payments'] },
  { name: 'staging-k8s', type: 'kubernetes', cloudProvider: 'kubernetes' },
] as unknown as IAccountDetails[];

const VIRTUAL_SERVICE = {
  account: 'prod-k8s',
  location: 'shop',
  name: 'virtualService.networking.istio.io checkout',
  manifest: {
    kind: 'VirtualService',
    metadata: { name: 'checkout', namespace: 'shop' },
    spec: {
      http: [{ name: 'primary', route: [{ destination: { host: 'checkout', subset: 'release' }, weight: 90 }, { destination: { host: 'checkout', subset: 'canary' }, weight: 10 }] }],
      tcp: [{ match: [{ port: 5432 }], route: [{ destination: { host: 'checkout-db', port: { number: 5432 } } }] }],
    },
  },
} as unknown as IManifest;

let listAccounts: jest.SpyInstance;
let getManifest: jest.SpyInstance;

beforeEach(() => {
  listAccounts = jest.spyOn(AccountService, 'listAccounts').mockResolvedValue(ACCOUNTS);
  getManifest = jest.spyOn(ManifestReader, 'getManifest').mockRejectedValue({ status: 404, data: { message: 'Manifest not found' } });
});
afterEach(() => jest.restoreAllMocks());

/** Renders the editor as Deck's StageConfigWrapper does, with the stage object Deck owns. */
function renderEditor(initial: Partial<IStage> = {}) {
  const stage = { refId: '2', requisiteStageRefIds: ['1'], type: KEY, name: 'Istio Traffic Shift', isNew: true, alias: 'preconfiguredWebhook', ...initial } as IStage;
  const updateStage = jest.fn((changes: Record<string, unknown>) => {
    Object.keys(changes).forEach((key) => RESERVED.includes(key) || (stage[key] = changes[key]));
  });
  const Component = istioTrafficShiftStage.component!;
  render(
    <Component
      application={{ name: 'shop' } as Application}
      stage={stage}
      pipeline={{ stages: [stage] } as unknown as IPipeline}
      updateStage={updateStage}
      updateStageField={updateStage}
      stageFieldUpdated={() => undefined}
    />,
  );
  return { stage, updateStage, user: userEvent.setup() };
}

const input = (label: string) => screen.getByLabelText(label) as HTMLInputElement;
async function replace(user: ReturnType<typeof userEvent.setup>, label: string, text: string) {
  await user.clear(input(label));
  await user.type(input(label), text);
}
const messages = () => Array.from(document.querySelectorAll('.its-message, .its-group-message')).map((node) => node.textContent!.trim());
const problemsOf = (stage: IStage) => validateShiftSpec(stage.payload, { allowExpressions: true }).problems;
/** Pastes text (SpEL has { and [, which user-event's type() reads as key names; pasting is also faster). */
async function paste(user: ReturnType<typeof userEvent.setup>, element: HTMLElement, text: string) {
  await user.click(element);
  await user.paste(text);
}

/** The account field once Gate's accounts arrived (a text input until then). */
async function accountSelect(): Promise<HTMLSelectElement> {
  await waitFor(() => expect(screen.getByLabelText('Account').tagName).toBe('SELECT'));
  return screen.getByLabelText('Account') as HTMLSelectElement;
}

/**
 * Picks an option of a core SelectInput. SelectInput declares its <select> as a component inside
 * render, so every render replaces the element: query and fire in one synchronous step.
 */
const choose = (label: string, value: string) => fireEvent.change(screen.getByLabelText(label), { target: { value } });

async function fillTarget(user: ReturnType<typeof userEvent.setup>) {
  await accountSelect();
  choose('Account', 'prod-k8s');
  await user.type(input('Namespace'), 'shop');
  await user.type(input('VirtualService'), 'checkout');
}

describe('the editor', () => {
  it('gives a new stage its payload: ${execution.id}, its own refId as stageRef, and a timeout', async () => {
    const { stage } = renderEditor();
    await screen.findByLabelText('VirtualService');
    expect(stage.payload).toEqual({
      route: { protocol: 'http' },
      destinations: [{}],
      steps: [{ weights: [100] }],
      onCancel: 'rollback',
      pruneUnlisted: false,
      executionId: '${execution.id}',
      stageRef: '2',
      restartedAt: RESTART_EXPRESSION,
    });
    expect(stage.stageTimeoutMs).toBe(3_600_000);
    // Nothing typed yet, so nothing is flagged yet (SpinFormik marks initial values as touched).
    expect(messages()).toEqual([]);
  });

  it('rewrites a copied stage\'s stageRef to its own refId', async () => {
    const { stage } = renderEditor({ refId: '5', payload: { ...runningStage.context.payload, executionId: '${execution.id}', stageRef: '2' } });
    await screen.findByLabelText('VirtualService');
    expect(stage.payload.stageRef).toBe('5');
    expect(stage.stageTimeoutMs).toBe(6_480_000);
  });

  it('offers the Kubernetes accounts, and free text (SpEL too) through "Other"', async () => {
    const { stage, user } = renderEditor();
    const select = await accountSelect();
    expect(listAccounts).toHaveBeenCalledWith('kubernetes');
    expect(within(select).getAllByRole('option').map((o) => o.textContent)).toEqual(['Select an account…', 'prod-k8s', 'staging-k8s', 'Other (type a name or SpEL)…']);
    choose('Account', 'prod-k8s');
    expect(stage.payload.account).toBe('prod-k8s');
    choose('Account', '__istio_other_account__');
    const text = input('Account');
    expect(text.tagName).toBe('INPUT');
    await paste(user, text, '${trigger.parameters.account}');
    expect(stage.payload.account).toBe('${trigger.parameters.account}');
    expect(messages().filter((m) => m.startsWith('account'))).toEqual([]);
  });

  it('the canary preset fills destinations and steps; every step sums to 100', async () => {
    const { stage, user } = renderEditor();
    await user.type(await screen.findByLabelText('VirtualService'), 'checkout');
    await user.click(screen.getByRole('button', { name: 'Canary with baseline: 80/10/10 -> 34/33/33 -> 100/0/0' }));
    expect(stage.payload.destinations).toEqual([
      { host: 'checkout', subset: 'release' },
      { host: 'checkout', subset: 'baseline' },
      { host: 'checkout', subset: 'canary' },
    ]);
    expect(stage.payload.steps).toEqual([{ weights: [80, 10, 10], pause: '10m' }, { weights: [34, 33, 33], pause: '20m' }, { weights: [100, 0, 0] }]);
    expect([0, 1, 2].map((i) => screen.getByTestId(`sum-${i}`).textContent)).toEqual(['= 100 ✓', '= 100 ✓', '= 100 ✓']);
    expect(input('Weight of baseline in step 2').value).toBe('33');
    await user.click(screen.getByRole('button', { name: 'Linear: 10% steps to 100%' }));
    expect(stage.payload.steps).toHaveLength(10);
    expect(stage.payload.destinations.map((d: { subset: string }) => d.subset)).toEqual(['release', 'canary']);
  });

  it('updates the sum as weights are typed and shows the validator\'s message', async () => {
    const { stage, user } = renderEditor();
    await screen.findByLabelText('VirtualService');
    await user.click(screen.getByRole('button', { name: /^Canary with baseline/ }));
    const canary = input('Weight of canary in step 1');
    await user.clear(canary);
    await user.type(canary, '15');
    expect(screen.getByTestId('sum-0').textContent).toBe('= 105 (remove 5)');
    expect(stage.payload.steps[0].weights).toEqual([80, 10, 15]);
    await user.tab();
    const expected = inFormLanguage(problemsOf(stage).find((p) => p.field === 'steps[0].weights')!.message);
    expect(expected).toBe('Step 1 weights sum to 105; they must sum to 100 (remove 5)');
    expect((await screen.findByTestId('step-message-0')).textContent!.trim()).toBe(expected);
  });

  it('adds and removes destinations (a weight column in every step) and steps', async () => {
    const { stage, user } = renderEditor();
    await screen.findByLabelText('VirtualService');
    await user.click(screen.getByRole('button', { name: /^Canary with baseline/ }));
    await user.click(screen.getByRole('button', { name: 'Add destination' }));
    expect(screen.getAllByLabelText(/^Host of destination/)).toHaveLength(4);
    expect(screen.getAllByLabelText(/^Weight of .* in step/)).toHaveLength(12);
    await user.type(input('Subset of destination 4'), 'shadow');
    expect(screen.getByLabelText('Weight of shadow in step 3')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Remove destination 2' }));
    expect(stage.payload.destinations.map((d: { subset: string }) => d.subset)).toEqual(['release', 'canary', 'shadow']);
    expect(stage.payload.steps.map((s: { weights: number[] }) => s.weights)).toEqual([[80, 10, 0], [34, 33, 0], [100, 0, 0]]);
    await user.click(screen.getByRole('button', { name: 'Add step' }));
    expect(screen.getAllByTestId(/^step-row-/)).toHaveLength(4);
    await user.click(screen.getByRole('button', { name: 'Remove step 1' }));
    expect(stage.payload.steps.map((s: { weights: number[] }) => s.weights)).toEqual([[34, 33, 0], [100, 0, 0], [100, 0, 0]]);
    expect(stage.stageTimeoutMs).toBe(3_600_000);
    await user.type(input('Pause after step 2'), '2h');
    expect(stage.stageTimeoutMs).toBe((1200 + 7200 + 3 * 60 + 900) * 1000);
  });

  it('leaves SpEL alone: stored as typed, no sum, no messages, no live lookup', async () => {
    const { stage, user } = renderEditor();
    await screen.findByLabelText('VirtualService');
    await user.click(screen.getByRole('button', { name: 'Linear: 10% steps to 100%' }));
    const weight = input('Weight of canary in step 1');
    await user.clear(weight);
    await paste(user, weight, '${trigger.parameters.canaryWeight}');
    await user.tab();
    await user.clear(input('Pause after step 1'));
    await paste(user, input('Pause after step 1'), '${trigger.parameters.bake}');
    await paste(user, input('Namespace'), '${trigger.parameters.namespace}');
    await accountSelect();
    choose('Account', 'prod-k8s');
    await user.type(input('VirtualService'), 'checkout');
    expect(stage.payload.steps[0]).toEqual({ weights: [90, '${trigger.parameters.canaryWeight}'], pause: '${trigger.parameters.bake}' });
    expect(stage.payload.namespace).toBe('${trigger.parameters.namespace}');
    expect(screen.getByTestId('sum-0').textContent).toBe('SpEL: summed at run time');
    expect(stage.stageTimeoutMs).toBe((7 * 24 * 3600 + 8 * 300 + 10 * 60 + 900) * 1000);
    expect(screen.getByTestId('live-status').textContent).toBe('The namespace is SpEL, known only when the pipeline runs: type the route and destinations.');
    await waitFor(() => expect(problemsOf(stage).filter((p) => /namespace|steps\[0\]/.test(p.field))).toEqual([]));
    expect(messages().filter((m) => /namespace|steps\[0\]/.test(m))).toEqual([]);
    expect(getManifest).not.toHaveBeenCalled();
  });

  it('shows the validator\'s own messages next to the fields', async () => {
    const { stage, user } = renderEditor();
    await screen.findByLabelText('VirtualService');
    await user.type(input('Namespace'), 'Shop_Prod');
    await user.type(input('Host of destination 1'), 'Checkout Service');
    await user.clear(input('Weight of Checkout Service in step 1'));
    await user.type(input('Weight of Checkout Service in step 1'), '1o0');
    await user.type(input('Pause after step 1'), 'ten minutes');
    await user.tab();
    const problems = problemsOf(stage);
    const expected = ['namespace', 'destinations[0].host', 'steps[0].weights[0]', 'steps[0].pause'].map((field) => inFormLanguage(problems.find((p) => p.field === field)!.message));
    expect(expected[0]).toBe('Namespace "Shop_Prod" is not valid: give a Kubernetes namespace name (lower case letters, digits and -)');
    expect(expected[2]).toBe('Step 1, weight 1 must be a whole number (got "1o0"): give a whole number from 0 to 100');
    await waitFor(() => expect(messages()).toEqual(expect.arrayContaining(expected)));
    // Every message shown is one the service would give for this payload, in the form's words.
    const all = problems.map((p) => inFormLanguage(p.message));
    messages().forEach((message) => expect(all).toContain(message));
  });

  it('reads the live VirtualService and fills the route and destination pickers', async () => {
    getManifest.mockResolvedValue(VIRTUAL_SERVICE);
    const { stage, user } = renderEditor();
    await fillTarget(user);
    const routes = await screen.findByLabelText('Route in the live VirtualService', undefined, { timeout: 3000 });
    expect(getManifest).toHaveBeenLastCalledWith('prod-k8s', 'shop', 'virtualService.networking.istio.io checkout');
    expect(within(routes).getAllByRole('option').map((o) => o.textContent)).toEqual([
      'Pick one of 2 routes…',
      'HTTP route "primary": checkout/release 90, checkout/canary 10',
      'TCP route #0 (port 5432): checkout-db:5432 100',
    ]);
    await user.selectOptions(routes, '0');
    expect(stage.payload.route).toEqual({ protocol: 'http', name: 'primary' });
    await user.click(screen.getByRole('button', { name: 'Use its destinations (2)' }));
    expect(stage.payload.destinations).toEqual([{ host: 'checkout', subset: 'release' }, { host: 'checkout', subset: 'canary' }]);
    expect(stage.payload.steps).toEqual([{ weights: [100, 0] }]);
    expect(screen.getByTestId('live-check').textContent!.trim()).toBe('Matches HTTP route "primary"; weights now 90/10.');
    expect(Array.from(document.querySelectorAll('#its-live-subsets option')).map((o) => o.getAttribute('value'))).toEqual(['canary', 'release']);
    await user.selectOptions(routes, '1');
    expect(stage.payload.route).toEqual({ protocol: 'tcp', port: 5432 });
    expect(input('Route port').value).toBe('5432');
  });

  it('keeps free text and says why when Gate cannot answer', async () => {
    listAccounts.mockRejectedValue({ status: 503, data: { message: 'clouddriver unavailable' } });
    getManifest.mockRejectedValue({ status: 403, data: { message: 'Access denied to account prod-k8s' } });
    const { user } = renderEditor();
    expect((await screen.findByTestId('account-note')).textContent).toBe('Could not list Kubernetes accounts from Gate (HTTP 503: clouddriver unavailable): type the account name');
    await user.type(input('Account'), 'prod-k8s');
    await user.type(input('Namespace'), 'shop');
    await user.type(input('VirtualService'), 'checkout');
    await waitFor(() =>
      expect(screen.getByTestId('live-status').textContent!.trim()).toBe(
        'Could not read VirtualService shop/checkout in account prod-k8s through Gate (HTTP 403: Access denied to account prod-k8s): type the route and destinations',
      ),
    );
    expect(input('Route name')).toBeTruthy();
  });

  it('shows every problem of a step at once: a bad pause and a bad sum', async () => {
    const { user } = renderEditor();
    await screen.findByLabelText('VirtualService');
    await user.click(screen.getByRole('button', { name: /^Canary with baseline/ }));
    await replace(user, 'Weight of canary in step 2', '40');
    await replace(user, 'Pause after step 2', 'twenty minutes');
    await user.tab();
    expect((await screen.findByTestId('step-message-1')).textContent!.trim()).toBe('Step 2 weights sum to 107; they must sum to 100 (remove 7)');
    expect(messages()).toContain('Step 2 pause "twenty minutes" is not a duration: write it like 90s, 10m or 1h30m, or as whole seconds');
    expect(messages().filter((m) => /steps\[|destinations\[/.test(m))).toEqual([]);
  });

  it('"Add destination" copies the host and the port of the last destination', async () => {
    const { stage, user } = renderEditor();
    await screen.findByLabelText('VirtualService');
    await user.type(input('Host of destination 1'), 'checkout');
    await user.type(input('Port of destination 1'), '8080');
    await user.click(screen.getByRole('button', { name: 'Add destination' }));
    expect(input('Port of destination 2').value).toBe('8080');
    expect(stage.payload.destinations).toEqual([{ host: 'checkout', port: 8080 }, { host: 'checkout', port: 8080 }]);
  });

  it('writes an optional abandonAfter, checked by the shared validator', async () => {
    const { stage, user } = renderEditor();
    await screen.findByLabelText('VirtualService');
    expect(input('Abandon after').placeholder).toBe('2m');
    await user.type(input('Abandon after'), '10s');
    await user.tab();
    expect(stage.payload.abandonAfter).toBe('10s');
    await waitFor(() => expect(messages()).toContainEqual(expect.stringMatching(/^Abandon after is 10s; it must be between 30s/)));
    await replace(user, 'Abandon after', '5m');
    expect(stage.payload.abandonAfter).toBe('5m');
    await user.clear(input('Abandon after'));
    expect(stage.payload).not.toHaveProperty('abandonAfter');
    expect(stage.payload.restartedAt).toBe(RESTART_EXPRESSION);
  });

  it('switches the route to TLS/TCP selection by port or index', async () => {
    const { stage, user } = renderEditor();
    await screen.findByLabelText('VirtualService');
    choose('Route protocol', 'tcp');
    await user.type(input('Route port'), '5432');
    expect(stage.payload.route).toEqual({ protocol: 'tcp', port: 5432 });
    choose('Select the route by', 'index');
    expect(stage.payload.route).toEqual({ protocol: 'tcp', index: 0 });
    fireEvent.click(screen.getByLabelText('Hold the current weights'));
    fireEvent.click(screen.getByLabelText('Remove destinations the route has but this stage does not list'));
    await waitFor(() => expect(stage.payload).toMatchObject({ onCancel: 'hold', pruneUnlisted: true }));
  });
});

describe('execution details', () => {
  const renderDetails = (stage: object, execution: object = {}) =>
    render(
      <IstioTrafficShiftExecutionDetails
        name="istioTrafficShift"
        current="istioTrafficShift"
        stage={stage as IExecutionStage}
        application={{} as Application}
        execution={execution as never}
        provider=""
        detailsSections={[]}
        config={istioTrafficShiftStage}
      />,
    );

  it('shows weights as bars, the step timeline and Orca\'s progress line from the recorded context', () => {
    renderDetails(runningStage);
    expect(screen.getByTestId('progress-message').textContent).toBe(runningStage.context.webhook.monitor.progressMessage);
    expect(screen.getAllByRole('meter').map((bar) => bar.getAttribute('aria-valuenow'))).toEqual(['34', '33', '33']);
    expect(screen.getByTestId('timeline-1').textContent).toContain('2026-11-26 10:00:03 UTC');
    expect(screen.getByTestId('timeline-2').className).toBe('its-step-current');
    expect(screen.getByTestId('timeline-3').className).toBe('its-step-pending');
    expect(screen.queryByTestId('failure-reasons')).toBeNull();
  });

  it('shows why a shift failed', () => {
    renderDetails(terminalStage);
    expect(screen.getByTestId('failure-reasons').textContent).toContain(terminalStage.context.webhook.monitor.body.failure!.message);
    expect(screen.getByTestId('timeline-2').textContent).toContain('(stopped here)');
  });

  it('a cancelled stage: Orca\'s status, what the service does next, and no "now" weights', () => {
    renderDetails(canceledStage, { canceledBy: 'alice@example.com', cancellationReason: 'bad canary metrics' });
    expect(screen.getByTestId('shift-status').textContent).toBe('CANCELED');
    expect(screen.getByTestId('service-status').textContent).toBe('RUNNING (its last status before Orca stopped polling)');
    expect(screen.getByTestId('outcome').textContent).toBe(
      'Orca stopped this stage (CANCELED); the service restores the weights from before the shift (release 100, baseline 0, canary 0) ' +
        'when it receives the cancel call, or at the latest 2m after the last status poll (by 2026-11-26 10:50:10 UTC). ' +
        'The weights below are the last ones the service reported, not the current ones.' +
        'Cancelled by alice@example.com: bad canary metrics',
    );
    expect(screen.getByTestId('weights-heading').textContent).toBe('Weights the service last reported (not current)');
    expect(screen.getByTestId('timeline-2').textContent).toContain('2 (last reported)');
    expect(document.body.textContent).not.toMatch(/\(now\)|Weights now/);
    expect(screen.queryByRole('progressbar')).toBeNull();
    expect(screen.queryByTestId('failure-reasons')).toBeNull();
  });

  it('a stage that timed out with onCancel hold and abandonAfter 5m: holds, and says why it failed', () => {
    const stage = JSON.parse(JSON.stringify(canceledStage));
    stage.status = 'TERMINAL';
    stage.context.payload = { ...stage.context.payload, onCancel: 'hold', abandonAfter: '5m' };
    stage.context.exception = {
      exceptionType: 'TimeoutException',
      operation: 'monitorWebhook',
      shouldRetry: false,
      details: { error: 'Unexpected Task Failure', errors: ['Stage Shift checkout timed out after 6480123 ms'] },
    };
    renderDetails(stage);
    expect(screen.getByTestId('shift-status').textContent).toBe('TERMINAL');
    expect(screen.getByTestId('outcome').textContent).toMatch(
      /^Orca ended this stage \(TERMINAL\); the service stops the shift and holds the weights it has then \(last reported: release 34, baseline 33, canary 33\) when it receives the cancel call, or at the latest 5m after the last status poll \(by 2026-11-26 10:53:10 UTC\)\./,
    );
    expect(within(screen.getByTestId('failure-reasons')).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['Stage Shift checkout timed out after 6480123 ms']);
  });

  it('a rejected create: the service\'s answer once, plainly, and no "not reported yet"', () => {
    const stage = JSON.parse(JSON.stringify(rejectedStage));
    // Orca's own texts about the same 422, as an exception too: they restate the answer.
    stage.context.exception = { details: { error: 'Error submitting webhook for execution', errors: ['422 UNPROCESSABLE_ENTITY'] } };
    stage.failureMessage = '422 UNPROCESSABLE_ENTITY';
    renderDetails(stage);
    expect(screen.queryByText(/has not reported a status/)).toBeNull();
    expect(screen.getByTestId('shift-status').textContent).toBe('TERMINAL');
    expect(screen.getByTestId('outcome').textContent).toBe(
      'The service refused to start the shift (HTTP 422 invalid_spec): it changed no traffic. Fix the stage and run the pipeline again.',
    );
    const reasons = within(screen.getByTestId('failure-reasons')).getAllByRole('listitem').map((li) => li.textContent);
    expect(reasons).toEqual(['Step 2 weights sum to 99; they must sum to 100 (add 1)']);
    expect(document.body.textContent!.match(/422 UNPROCESSABLE_ENTITY|status code 422/g)).toBeNull();
  });

  it('a stage Orca ended without any answer from the service says what the service would do', () => {
    renderDetails({ ...rejectedStage, context: { ...rejectedStage.context, webhook: { error: 'An exception occurred for pipeline x performing a request to https://traffic-shift.example.com/v1/shifts. java.net.SocketTimeoutException: Read timed out' } } });
    expect(screen.getByTestId('outcome').textContent).toBe(
      'Orca ended this stage (TERMINAL) without a status from the service. If the service did start the shift, it stops it and restores the weights from before the shift ' +
        'when it receives the cancel call, or at the latest 2m after the last status poll (by 2026-11-26 10:02:03 UTC).',
    );
    expect(screen.getByTestId('failure-reasons').textContent).toContain('Read timed out');
  });
});
