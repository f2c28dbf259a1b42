/**
 * The stage editor. Deck renders it inside its stage config (StageConfigWrapper) with the stage
 * object Angular owns; FormikStageConfig keeps the form state, and every change writes back only
 * `payload` (the service's request body) and `stageTimeoutMs`. Each section of the form is its
 * own file: basics, live VirtualService, route, destinations, steps, options.
 */
import React from 'react';
import { FormikStageConfig } from '@spinnaker/core';
import type { IStage, IStageConfigProps } from '@spinnaker/core';
import { savedStageFields } from '@istio-shift/core';
import { EXECUTION_ID_EXPRESSION, PayloadDraft, RESTART_EXPRESSION, inKeyOrderOf, newPayload, stageTimeout, withoutBlanks } from '../model';
import { validateIstioTrafficShiftStage } from '../validate';
import { StageFormik, getIn } from './fields';
import { BasicsSection, useAccounts } from './BasicsSection';
import { LivePanel, useLiveVirtualService } from './LivePanel';
import { RouteSection } from './RouteSection';
import { DestinationsSection } from './DestinationsSection';
import { StepsSection } from './StepsSection';
import { AnalysisSection } from './AnalysisSection';
import { OptionsSection } from './OptionsSection';

/**
 * The fields this editor owns in the stage, derived from the form values by core's rule (the one
 * the pipeline generator uses too). `restartedAt` is always Orca's restart marker, so "Restart
 * stage" is a new attempt, never the old shift again.
 */
export function savedFields(values: Partial<IStage>, refId: IStage['refId'], stored?: unknown): { payload: PayloadDraft; stageTimeoutMs: number } {
  const draft = (values.payload || newPayload(String(refId))) as PayloadDraft;
  const saved = savedStageFields({ ...draft, restartedAt: RESTART_EXPRESSION }, String(refId));
  // The stored payload's key order (a generated or saved stage), so an unedited stage saves byte-identical.
  return stored === undefined ? saved : { ...saved, payload: inKeyOrderOf(stored, saved.payload) };
}

/** The stage as the form starts: a new payload for a new stage; the stageRef always this stage's refId. */
export function initialStage(stage: IStage): IStage {
  const existing = stage.payload as PayloadDraft | undefined;
  const fresh = withoutBlanks(newPayload(String(stage.refId)));
  const payload: PayloadDraft = existing && typeof existing === 'object' ? { ...fresh, ...existing } : fresh;
  payload.stageRef = String(stage.refId);
  payload.executionId = payload.executionId || EXECUTION_ID_EXPRESSION;
  payload.restartedAt = RESTART_EXPRESSION;
  if (!payload.route || typeof payload.route !== 'object') payload.route = { protocol: 'http' };
  if (!Array.isArray(payload.destinations)) payload.destinations = [];
  if (!Array.isArray(payload.steps)) payload.steps = [];
  return { ...stage, payload, stageTimeoutMs: stageTimeout(payload).stageTimeoutMs };
}

export function IstioTrafficShiftStageConfig(props: IStageConfigProps) {
  const { stage, updateStage } = props;
  const initial = React.useMemo(() => initialStage(stage), []);
  // The payload as stored when the editor opened: its key order is kept (Deck compares JSON as text).
  const stored = React.useMemo(() => (stage.payload && typeof stage.payload === 'object' ? JSON.parse(JSON.stringify(stage.payload)) : undefined), []);
  React.useEffect(() => {
    // A new stage, a copied stage (new refId) or one edited as JSON gets its derived fields now.
    updateStage(savedFields(initial, stage.refId, stored));
  }, []);
  const onChange = React.useCallback((values: IStage) => updateStage(savedFields(values, stage.refId, stored)), [stage.refId]);
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

function ShiftForm({ formik }: { formik: StageFormik }) {
  const payload = getIn(formik.values, 'payload') as PayloadDraft;
  const accounts = useAccounts();
  const lookup = useLiveVirtualService(payload.account, payload.namespace, payload.virtualService);
  return (
    <div className="istio-traffic-shift-stage">
      <BasicsSection formik={formik} accounts={accounts} />
      <LivePanel formik={formik} lookup={lookup} />
      <RouteSection formik={formik} />
      <DestinationsSection formik={formik} live={lookup} />
      <StepsSection formik={formik} />
      <AnalysisSection formik={formik} />
      <OptionsSection formik={formik} />
    </div>
  );
}
