/**
 * Issue 16, item 6: opening a generated pipeline's shift stage in the editor (no edit) leaves its
 * JSON byte-identical; Deck compares the pipeline's JSON as text, so a reordered key makes it dirty.
 * The stages are the committed examples/checkout/pipelines/*.json; the stage is updated the way
 * Deck's stage controller does (lodash assign of the changes into the stage).
 */
import fs from 'fs';
import path from 'path';
import React from 'react';
import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { AccountService, ManifestReader } from '@spinnaker/core';
import type { Application, IPipeline, IStage } from '@spinnaker/core';
import { istioTrafficShiftStage } from './index';

const DIR = path.join(__dirname, '../../examples/checkout/pipelines');
const stages = fs
  .readdirSync(DIR)
  .filter((file) => file.endsWith('.json'))
  .flatMap((file) => {
    const text = fs.readFileSync(path.join(DIR, file), 'utf8');
    const pipeline = JSON.parse(text) as IPipeline;
    return pipeline.stages.filter((s) => s.type === 'istioTrafficShift').map((s) => [`${file} ${s.name} (refId ${s.refId})`, JSON.stringify(s)] as const);
  });

beforeEach(() => {
  jest.spyOn(AccountService, 'listAccounts').mockResolvedValue([]);
  jest.spyOn(ManifestReader, 'getManifest').mockRejectedValue({ status: 404, data: { message: 'Manifest not found' } });
});
afterEach(() => jest.restoreAllMocks());

function open(json: string) {
  const stage = JSON.parse(json) as IStage;
  // Deck's stage controller: updateStageField = changes => { _.extend(stage, changes); stageFieldUpdated() }.
  const updateStage = jest.fn((changes: Record<string, unknown>) => Object.assign(stage, changes));
  const Component = istioTrafficShiftStage.component!;
  render(<Component application={{ name: 'checkout' } as Application} stage={stage} pipeline={{ stages: [stage] } as unknown as IPipeline} updateStage={updateStage} updateStageField={updateStage} stageFieldUpdated={() => undefined} />);
  return { stage, updateStage };
}

describe('generated shift stages opened in the editor', () => {
  it('finds the committed shift stages', () => expect(stages.length).toBeGreaterThanOrEqual(3));

  it.each(stages)('%s: opened, not edited, its JSON is byte-identical', async (_, json) => {
    const { stage, updateStage } = open(json);
    await screen.findByTestId('analysis-section');
    await act(() => new Promise((resolve) => setTimeout(resolve, 50)));
    expect(updateStage).toHaveBeenCalled();
    expect(JSON.stringify(stage, null, 2)).toBe(JSON.stringify(JSON.parse(json), null, 2));
  });

  it.each(stages.slice(0, 1))('%s: an edit changes only the edited value, keys keep their places', async (_, json) => {
    const { stage } = open(json);
    await screen.findByTestId('analysis-section');
    const pause = screen.getByLabelText('Pause after step 1') as HTMLInputElement;
    const user = userEvent.setup();
    await user.clear(pause);
    await user.type(pause, '7m');
    await act(() => new Promise((resolve) => setTimeout(resolve, 50)));
    const expected = JSON.parse(json);
    expected.payload.steps[0].pause = '7m';
    // The timeout follows the pauses; its key keeps its place.
    expected.stageTimeoutMs = stage.stageTimeoutMs;
    expect(JSON.stringify(stage, null, 2)).toBe(JSON.stringify(expected, null, 2));
  });
});
