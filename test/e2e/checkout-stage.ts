/**
 * The checkout example's Istio Traffic Shift stage, built by core's buildShiftStage: exactly what
 * the Deck editor saves (type + alias, the payload with ${execution.id}, the stage's refId and the
 * restart marker, and the timeout derived from the pauses).
 */
import { PayloadDraft, StepDraft, buildShiftStage } from '@istio-shift/core';
import { StageJson } from '../orca/driver';

export interface CheckoutStageOptions {
  account: string;
  namespace: string;
  virtualService: string;
  steps: StepDraft[];
  refId: string;
  /** Other payload fields: abandonAfter, onCancel, analysis… */
  payload?: Partial<PayloadDraft>;
}

export function checkoutStage(options: CheckoutStageOptions): StageJson {
  const draft: PayloadDraft = {
    account: options.account,
    namespace: options.namespace,
    virtualService: options.virtualService,
    route: { protocol: 'http', name: 'primary' },
    destinations: ['release', 'baseline', 'canary'].map((subset) => ({ host: 'checkout', subset })),
    steps: options.steps,
    onCancel: 'rollback',
    pruneUnlisted: false,
    executionId: '',
    stageRef: '',
    ...options.payload,
  };
  return { ...buildShiftStage(draft, options.refId, `Shift ${options.virtualService}`), requisiteStageRefIds: [] };
}
