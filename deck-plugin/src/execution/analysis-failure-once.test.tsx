/**
 * Issue 16, item 4: an analysis failure is said once. The failure sentence sits in the analysis
 * box only (not again as the "Result" line), what happened to traffic only on the rollback line,
 * and core's empty "Exception ( Monitor Webhook ) No reason provided." box is not shown under it
 * (Deck marks the stage isFailed with the monitor task TERMINAL; the plugin's own view has the reason).
 */
import React from 'react';
import { render, screen } from '@testing-library/react';
import type { Application, IExecutionStage } from '@spinnaker/core';
import { IstioTrafficShiftExecutionDetails } from './IstioTrafficShiftExecutionDetails';
import { analysisFailedStage, insufficientDataStage } from '../../test/fixtures/analysis';

/**
 * Core's StageFailureMessage needs Deck's Angular injector, which jsdom has not; this stand-in renders
 * what core renders for a failed stage with a TERMINAL task and no message (dist: NO_REASON_PROVIDED).
 */
jest.mock('@spinnaker/core', () => {
  const actual = jest.requireActual('@spinnaker/core');
  const react = jest.requireActual('react');
  return {
    ...actual,
    StageFailureMessage: ({ stage, message }: { stage: { isFailed?: boolean }; message?: string }) =>
      stage.isFailed || message ? react.createElement('div', { className: 'alert alert-danger' }, `Exception ( Monitor Webhook ) ${message || 'No reason provided.'}`) : null,
  };
});

const renderDetails = (stage: unknown) =>
  render(<IstioTrafficShiftExecutionDetails stage={stage as IExecutionStage} name="istioTrafficShift" current="istioTrafficShift" application={{} as Application} execution={{} as never} provider="" detailsSections={[]} config={{} as never} />);
const occurrences = (text: string) => document.body.textContent!.split(text).length - 1;

/** The stage as Deck's ExecutionsTransformer hands it to the view: isFailed, no failureMessage (the service's webhook succeeded). */
function asDeckSees<T extends object>(stage: T): T {
  return { ...stage, isFailed: true, isStopped: false, failureMessage: undefined };
}

describe.each([
  ['analysis failed', analysisFailedStage],
  ['too little evidence', insufficientDataStage],
])('%s: each thing once', (_, make) => {
  it('the failure sentence once, the rollback once, no empty exception box', () => {
    const stage = asDeckSees(make());
    const body = stage.context.webhook.monitor.body as unknown as { failure: { message: string }; rollback: { message: string } };
    const [why] = body.failure.message.split(`; ${body.rollback.message}`);
    renderDetails(stage);
    expect(why).not.toBe('');
    // The whole sentence at most once (too little evidence: the box names the step, see below), never as the Result line.
    expect(occurrences(why)).toBeLessThanOrEqual(1);
    expect(screen.queryByTestId('progress-message')).toBeNull();
    expect(occurrences(body.rollback.message)).toBe(1);
    if (make === analysisFailedStage) expect(screen.getByTestId('analysis-failure').textContent).toMatch(new RegExp(`: ${why.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    expect(screen.getByTestId('rollback').textContent).toMatch(/: weights restored to 100\/0\/0 \(release\/baseline\/canary\)$/);
    expect(document.body.textContent).not.toMatch(/No reason provided|Exception/);
  });
});

describe('too little evidence', () => {
  it("the box names the step and leaves the gate's problems to that step's evidence panel", () => {
    renderDetails(asDeckSees(insufficientDataStage()));
    const problems = Array.from(screen.getByTestId('evidence-problems-1').querySelectorAll('li')).map((li) => li.textContent!);
    expect(problems.length).toBeGreaterThan(0);
    problems.forEach((problem) => expect(occurrences(problem)).toBe(1));
    expect(screen.getByTestId('analysis-failure').textContent).toBe("Too little evidence to judge the canary: step 1 has too little evidence to judge; step 1's evidence below says what is missing");
  });
});
