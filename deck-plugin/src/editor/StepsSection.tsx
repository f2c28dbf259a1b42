/** The steps table: one row per step, a weight per destination, the running sum and the pause. */
import React from 'react';
import { HelpField } from '@spinnaker/core';
import { LIMITS } from '@istio-shift/core';
import { PayloadDraft, addStep, destinationTitle, removeStep, sumWeights } from '../model';
import { pauseTimingText } from '../crossField';
import { AddRowButton, Field, GroupMessage, RemoveButton, StageFormik, getIn, hasGroupMessage, textInput } from './fields';

const HELP =
  'A whole-number weight per destination, summing to 100, held for the pause (90s, 10m, 1h30m or seconds; at most 7 days); ' +
  `the last pause is a bake time before the stage succeeds. SpEL is allowed. At most ${LIMITS.maxSteps} steps.`;

function SumIndicator({ weights, index }: { weights: unknown[]; index: number }) {
  const { sum, hasExpression, invalid } = sumWeights(weights as Array<number | string>);
  let text: string;
  let state: string;
  if (hasExpression) {
    text = 'SpEL: summed at run time';
    state = 'spel';
  } else if (invalid || sum === undefined) {
    text = 'not all numbers';
    state = 'bad';
  } else if (sum === 100) {
    text = '= 100 ✓';
    state = 'ok';
  } else {
    text = `= ${sum} (${sum < 100 ? `add ${100 - sum}` : `remove ${sum - 100}`})`;
    state = 'bad';
  }
  return (
    <span className={`its-sum its-sum-${state}`} data-testid={`sum-${index}`} aria-label={`Sum of step ${index + 1}`}>
      {text}
    </span>
  );
}

/** The row's own messages (about the step, about its weights together) under the row; field messages sit under their inputs. */
const GROUPS = [
  { suffix: '', testId: (i: number) => `step-row-message-${i}` },
  { suffix: '.weights', testId: (i: number) => `step-message-${i}` },
];

export function StepsSection({ formik }: { formik: StageFormik }) {
  const payload = getIn(formik.values, 'payload') as PayloadDraft;
  const destinations = payload.destinations || [];
  const steps = payload.steps || [];
  return (
    <div className="its-section">
      <h5 className="its-heading">
        Steps <HelpField content={HELP} />
      </h5>
      <table className="table table-condensed its-table" aria-label="Steps">
        <thead>
          <tr>
            <th>Step</th>
            {destinations.map((destination, j) => (
              <th key={j} className="its-weight-head">
                {destinationTitle(destination, j)}
              </th>
            ))}
            <th>Sum</th>
            <th>Pause</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {steps.map((step, i) => (
            <React.Fragment key={i}>
              <tr data-testid={`step-row-${i}`}>
                <td className="its-step-number">{i + 1}</td>
                {destinations.map((destination, j) => (
                  <td key={j} className="its-weight">
                    <Field
                      cell
                      name={`payload.steps[${i}].weights[${j}]`}
                      input={textInput({ 'aria-label': `Weight of ${destinationTitle(destination, j)} in step ${i + 1}` }, formik)}
                    />
                  </td>
                ))}
                <td>
                  <SumIndicator weights={Array.isArray(step.weights) ? step.weights : []} index={i} />
                </td>
                <td className="its-pause">
                  <Field
                    cell
                    name={`payload.steps[${i}].pause`}
                    touched={pauseTimingText(payload, i) !== undefined}
                    input={textInput({ 'aria-label': `Pause after step ${i + 1}`, placeholder: 'e.g. 10m' })} />
                </td>
                <td className="its-actions">
                  <RemoveButton label={`Remove step ${i + 1}`} disabled={steps.length <= 1} onClick={() => formik.setFieldValue('payload', removeStep(payload, i))} />
                </td>
              </tr>
              {GROUPS.filter(({ suffix }) => hasGroupMessage(formik, `payload.steps[${i}]${suffix}`)).map(({ suffix, testId }) => (
                <tr key={suffix}>
                  <td colSpan={destinations.length + 4}>
                    <GroupMessage formik={formik} path={`payload.steps[${i}]${suffix}`} testId={testId(i)} />
                  </td>
                </tr>
              ))}
            </React.Fragment>
          ))}
        </tbody>
      </table>
      <GroupMessage formik={formik} path="payload.steps" />
      <AddRowButton label="Add step" disabled={steps.length >= LIMITS.maxSteps} onClick={() => formik.setFieldValue('payload', addStep(payload))} />
    </div>
  );
}
