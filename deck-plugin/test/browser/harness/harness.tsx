/**
 * A page that runs the real @spinnaker/core 0.29.1 (with its React 16.14) the way Deck does, minus
 * Deck's app shell: it bootstraps the Angular modules that load plugins and register preconfigured
 * webhooks, so Deck's own code fetches /plugin-manifest.json and Gate's manifest, exposes
 * window.spinnaker.plugins.sharedLibraries, import()s the plugin and registers it. The pipeline
 * editor part replays Deck's StageConfigCtrl.selectStage and StageConfigWrapper (not exported by
 * core; copied from 0.29.1, see docs/deck-plugin.md), and saving goes through core's
 * PipelineConfigService.savePipeline.
 */
import * as angular from 'angular';
import { defaultsDeep, extend, omit } from 'lodash';
import React from 'react';
import ReactDOM from 'react-dom';
import {
  ApplicationModelBuilder,
  PipelineConfigService,
  Registry,
  robotToHuman,
} from '@spinnaker/core';
import type { Application, IExecution, IExecutionStage, IPipeline, IStage, IStageTypeConfig } from '@spinnaker/core';

const RESERVED = ['requisiteStageRefIds', 'refId', 'isNew', 'name', 'type'];

interface HarnessState {
  ready: boolean;
  error?: string;
  savedBody?: unknown;
}

const state: HarnessState = { ready: false };
let app: Application | undefined;
/** Core's test application; it needs the Angular services, so it is created after bootstrap. */
const application = () => (app = app ?? ApplicationModelBuilder.createApplicationForTests('shop'));

/** Deck's StageConfigWrapper (0.29.1): updateStage merges without rerendering; updateStageField also forces an update. */
class StageConfigWrapper extends React.Component<Record<string, unknown> & { component: React.ComponentType<Record<string, unknown>>; updateStageField: (changes: object) => void }> {
  override render() {
    const { component: Component, updateStageField, ...rest } = this.props;
    return (
      <Component
        updateStage={updateStageField}
        updateStageField={(changes: object) => {
          updateStageField(changes);
          this.forceUpdate();
        }}
        {...rest}
      />
    );
  }
}

function configurableStageTypes(): IStageTypeConfig[] {
  return Registry.pipeline.getConfigurableStageTypes([]);
}

/** The parts of Deck's pipeline editor around a stage: type selector, name, the stage's own config, save. */
function PipelineEditor({ pipeline }: { pipeline: IPipeline }) {
  const [, setVersion] = React.useState(0);
  const refresh = () => setVersion((v) => v + 1);
  const stage = pipeline.stages[pipeline.stages.length - 1];
  const config = stage.type ? Registry.pipeline.getStageConfig(stage) : null;
  const detailsRef = React.useRef<HTMLDivElement>(null);
  const mounted = React.useRef<string | null>(null);

  // StageConfigCtrl.selectStage (0.29.1): alias, defaults, default name, then render the React component.
  React.useEffect(() => {
    const element = detailsRef.current;
    if (!element || !config || !config.component || mounted.current === stage.type) return;
    if (mounted.current) ReactDOM.unmountComponentAtNode(element);
    mounted.current = stage.type;
    if (config.addAliasToConfig) stage.alias = config.alias;
    if (config.defaults) defaultsDeep(stage, config.defaults);
    if (!stage.name && config.label) stage.name = config.label;
    const stageFieldUpdated = () => refresh();
    const props = {
      application: application(),
      stageFieldUpdated,
      updateStageField: (changes: object) => {
        extend(stage, omit(changes, RESERVED));
        stageFieldUpdated();
      },
      pipeline,
      stage,
      component: config.component,
      configuration: config.configuration,
    };
    ReactDOM.render(<StageConfigWrapper {...props} />, element);
    refresh();
  });

  const types = configurableStageTypes();
  return (
    <div className="harness-pipeline form-horizontal">
      <div className="form-group">
        <label className="col-md-3 sm-label-right" htmlFor="stage-type">
          Type
        </label>
        <div className="col-md-7">
          <select
            id="stage-type"
            className="form-control input-sm"
            value={stage.type ?? ''}
            onChange={(event) => {
              // StageConfigCtrl.selectStageType: set the type, drop everything but the reserved fields.
              stage.type = event.target.value;
              Object.keys(stage).forEach((key) => RESERVED.includes(key) || delete (stage as Record<string, unknown>)[key]);
              refresh();
            }}
          >
            <option value="">Select a stage type…</option>
            {types.map((type, i) => (
              <option key={i} value={type.key}>
                {type.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div className="form-group">
        <label className="col-md-3 sm-label-right" htmlFor="stage-name">
          Stage Name
        </label>
        <div className="col-md-7">
          <input
            id="stage-name"
            className="form-control input-sm"
            value={stage.name ?? ''}
            onChange={(event) => {
              stage.name = event.target.value;
              refresh();
            }}
          />
        </div>
      </div>
      <div className="stage-details" ref={detailsRef} />
      <div className="harness-footer">
        <button
          type="button"
          className="btn btn-primary"
          id="save-pipeline"
          onClick={() => {
            PipelineConfigService.savePipeline(pipeline).then(
              () => (document.getElementById('save-result')!.textContent = 'saved'),
              (error: unknown) => (document.getElementById('save-result')!.textContent = `save failed: ${JSON.stringify(error)}`),
            );
          }}
        >
          Save Changes
        </button>
        <span id="save-result" />
      </div>
      <pre id="stage-json">{JSON.stringify(stage, null, 2)}</pre>
    </div>
  );
}

/** Deck's StepExecutionDetails renders section tabs and every section with `current`; router-free copy. */
function ExecutionDetails({ stage, execution }: { stage: IExecutionStage; execution: IExecution }) {
  const config = Registry.pipeline.getStageConfig(stage);
  const sections = config?.executionDetailsSections ?? [];
  const [current, setCurrent] = React.useState(sections[0]?.title);
  return (
    <div className="execution-details harness-execution">
      <ul className="nav nav-pills">
        {sections.map((section) => (
          <li key={section.title}>
            <a className={`clickable ${section.title === current ? 'active' : ''}`} onClick={() => setCurrent(section.title)}>
              {robotToHuman(section.title)}
            </a>
          </li>
        ))}
      </ul>
      {sections.map((Section) => (
        <Section
          key={Section.title}
          name={Section.title}
          current={current ?? ''}
          application={application()}
          execution={execution}
          stage={stage}
          provider=""
          detailsSections={sections}
          config={config}
        />
      ))}
    </div>
  );
}

const harness = {
  state,
  Registry,
  /** Entries the "Add stage" type selector would list with this label. */
  stageTypeLabels: () => configurableStageTypes().map((type) => type.label),
  registrationsOf: (key: string) =>
    (Registry.pipeline as unknown as { stageTypes: IStageTypeConfig[] }).stageTypes
      .filter((type) => type.key === key)
      .map((type) => ({ label: type.label, alias: type.alias, hasComponent: !!type.component, templateUrl: (type as { templateUrl?: string }).templateUrl })),
  sharedLibraryNames: () => Object.keys((window as unknown as { spinnaker: { plugins: { sharedLibraries: object } } }).spinnaker.plugins.sharedLibraries).sort(),
  /** Opens the pipeline editor with a new stage added after an existing one, as Deck's addStage does. */
  showPipeline() {
    const pipeline = {
      id: 'pipe-1',
      name: 'Deploy checkout',
      application: 'shop',
      index: 0,
      keepWaitingPipelines: false,
      limitConcurrent: true,
      triggers: [],
      parameterConfig: [],
      stages: [{ refId: '1', requisiteStageRefIds: [], type: 'wait', name: 'Wait', waitTime: 30 } as IStage],
    } as unknown as IPipeline;
    const refId = `${Math.max(0, ...pipeline.stages.map((stage) => Number(stage.refId) || 0)) + 1}`;
    pipeline.stages.push({ isNew: true, refId, requisiteStageRefIds: [pipeline.stages[pipeline.stages.length - 1].refId] } as IStage);
    ReactDOM.render(<PipelineEditor pipeline={pipeline} />, document.getElementById('app'));
  },
  /** Shows a recorded stage; `extra` adds execution fields such as Orca's canceledBy and cancellationReason. */
  showExecution(stage: IExecutionStage, extra: Partial<IExecution> = {}) {
    const execution = { id: '01JDXEXEC', application: 'shop', name: 'Deploy checkout', stages: [stage], trigger: { type: 'manual', resolvedExpectedArtifacts: [] }, ...extra } as unknown as IExecution;
    ReactDOM.unmountComponentAtNode(document.getElementById('app')!);
    ReactDOM.render(<ExecutionDetails stage={stage} execution={execution} />, document.getElementById('app'));
  },
};

(window as unknown as { harness: typeof harness }).harness = harness;

// Deck's own bootstrap, reduced to the modules that matter here: ngimport (core's $http/$q),
// core's React bridge and override registry (used by components such as StageFailureMessage),
// the plugin loader (exposes shared libraries, loads manifests, import()s plugins) and the
// preconfigured webhook registration (GET /webhooks/preconfigured).
try {
  angular.bootstrap(document.getElementById('ng-app')!, [
    'bcherny/ngimport',
    'ui.router',
    'spinnaker.core.react',
    'spinnaker.core.override.registry',
    'netflix.spinnaker.plugins',
    'spinnaker.core.pipeline.stage.webhookStage',
  ]);
  state.ready = true;
} catch (error) {
  state.error = String((error as Error)?.stack ?? error);
}
