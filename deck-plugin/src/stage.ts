/**
 * The stage registration. The key is the `type` of the Orca preconfigured webhook (docs/orca.md);
 * `alias` + `addAliasToConfig` make Deck save `"alias": "preconfiguredWebhook"`, which is how Orca
 * finds the preconfigured webhook stage for it.
 */
import { ExecutionDetailsTasks } from '@spinnaker/core';
import type { IStage, IStageTypeConfig } from '@spinnaker/core';
import { IstioTrafficShiftStageConfig } from './editor/IstioTrafficShiftStageConfig';
import { IstioTrafficShiftExecutionDetails } from './execution/IstioTrafficShiftExecutionDetails';
import { STAGE_ALIAS, STAGE_KEY, STAGE_LABEL } from './model';
import { validateIstioTrafficShiftStage } from './validate';

const accountsOf = (stage: IStage): string[] => {
  const { payload, context } = stage || ({} as IStage);
  const account = (payload || {}).account ?? ((context || {}).payload || {}).account;
  return typeof account === 'string' && account ? [account] : [];
};

export const istioTrafficShiftStage: IStageTypeConfig = {
  key: STAGE_KEY,
  label: STAGE_LABEL,
  description: 'Shifts traffic between the destinations of an Istio VirtualService route in steps, with pauses; rolls back if cancelled.',
  alias: STAGE_ALIAS,
  addAliasToConfig: true,
  component: IstioTrafficShiftStageConfig,
  validateFn: validateIstioTrafficShiftStage,
  executionDetailsSections: [IstioTrafficShiftExecutionDetails, ExecutionDetailsTasks],
  configAccountExtractor: accountsOf,
  accountExtractor: accountsOf,
  producesArtifacts: false,
  // The editor writes restartedAt (Orca's restart time), so "Restart stage" runs a new attempt of the shift.
  restartable: true,
};
