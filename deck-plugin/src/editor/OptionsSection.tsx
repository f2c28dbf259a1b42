/**
 * The options under the tables: what a cancel does to traffic, unlisted destinations, how long
 * the service waits for a status poll, problems with fields the form has no input for, and the
 * stage timeout the editor writes.
 */
import React from 'react';
import { CheckboxInput, HelpField, RadioButtonInput } from '@spinnaker/core';
import type { IStage } from '@spinnaker/core';
import { ABANDON_AFTER_DEFAULT, validateShiftSpec } from '@istio-shift/core';
import { PayloadDraft, cleanPayload, isShownField, stageTimeout } from '../model';
import { problemText } from '../formLanguage';
import { ErrorLines, Field, StageFormik, getIn, textInput } from './fields';

// react-select's Option type is not installed, so core's option type does not resolve here.
const CANCEL_OPTIONS = [
  { label: 'Roll back to the weights before the shift', value: 'rollback' },
  { label: 'Hold the current weights', value: 'hold' },
] as unknown as React.ComponentProps<typeof RadioButtonInput>['options'];

export const ABANDON_AFTER_HELP = `If Orca stops polling for this long (e.g. it was restarted or lost the stage), the service stops the shift and restores traffic. Default ${ABANDON_AFTER_DEFAULT}.`;

/** Problems with fields the form has no input for (e.g. an unknown key from a JSON edit). */
function OtherProblems({ formik }: { formik: StageFormik }) {
  const { problems } = validateShiftSpec((formik.values as Partial<IStage>).payload, { allowExpressions: true });
  const lines = problems.filter((problem) => !isShownField(problem.field)).map((problem) => problemText(problem));
  return <ErrorLines className="its-other-problems" testId="other-problems" lines={lines} />;
}

export function OptionsSection({ formik }: { formik: StageFormik }) {
  const payload = getIn(formik.values, 'payload') as PayloadDraft;
  const timeout = stageTimeout(cleanPayload(payload));
  return (
    <>
      <Field
        name="payload.onCancel"
        label="If cancelled"
        help={<HelpField content="What a cancelled pipeline, or a failed or timed-out stage, does to traffic: restore the weights from before the first step, or keep them." />}
        input={(props) => <RadioButtonInput {...props} inline={true} options={CANCEL_OPTIONS} />}
      />
      <Field
        name="payload.pruneUnlisted"
        label="Unlisted destinations"
        input={(props) => <CheckboxInput {...props} text="Remove destinations the route has but this stage does not list" />}
      />
      <Field
        name="payload.abandonAfter"
        label="Abandon after"
        help={<HelpField content={ABANDON_AFTER_HELP} />}
        input={textInput({ 'aria-label': 'Abandon after', placeholder: ABANDON_AFTER_DEFAULT })}
      />
      <OtherProblems formik={formik} />
      <div className="its-timeout" data-testid="stage-timeout">
        <strong>Stage timeout:</strong> {timeout.text}{' '}
        <HelpField content="Saved as stageTimeoutMs: without it Orca stops watching the shift after 1 hour. On a timeout the stage fails and Orca cancels the shift." />
      </div>
    </>
  );
}
