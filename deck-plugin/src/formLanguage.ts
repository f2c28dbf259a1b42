/**
 * The validator speaks in JSON paths (`steps[1].weights[2]`), which is right for the service's API
 * and its logs; the editor's form counts from 1 and names rows ("Step 2", "destination 3").
 *
 * The form words a problem from its stable `code` and `params` and its `field` (problemText), with
 * core's one wording of each code (problem-text.ts) and the fields named in the form's words: the
 * validator's `message` is never read for them. Problems without a code the form can word (the analysis block's own
 * rules, code `analysis`, and route or destination matches from the live VirtualService) are shown
 * as their message with the paths in it put in the form's words (inFormLanguage).
 */
import type { Problem } from '@istio-shift/core';
import { problemMessage } from '@istio-shift/core';
import { formMessage, inputWords } from './analysis-model';
import { crossFieldText } from './crossField';

const FIELD_WORDS: Record<string, string> = { virtualService: 'VirtualService', abandonAfter: 'abandon after' };

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

const ROW_PATH = /\b(steps|destinations)\[(\d+)\](?:\.(\w+)(?:\[(\d+)\])?)?/g;

/** The paths in a text in the form's words: `steps[1].weights[2]` -> "step 2, weight 3", `route.name` -> "route name". */
function pathWords(text: string): string {
  return text
    .replace(ROW_PATH, (_m, list: string, index: string, child?: string, childIndex?: string) => {
      const row = `${list === 'steps' ? 'step' : 'destination'} ${Number(index) + 1}`;
      if (!child) return row;
      return child === 'weights' && childIndex !== undefined ? `${row}, weight ${Number(childIndex) + 1}` : `${row} ${child}`;
    })
    .replace(/\broute\.(\w+)/g, 'route $1')
    .replace(/\b(virtualService|abandonAfter)\b/g, (word: string) => FIELD_WORDS[word]);
}

const isAnalysisPath = (field: string) => /^analysis(\.|\[|$)/.test(field) || /^steps\[\d+\]\.analysis/.test(field);

/** A field path in the form's words; analysis paths read the payload for their labels (a metric's judge type, say). */
export function fieldWords(field: string, payload?: unknown): string {
  if (field === '') return 'the shift spec';
  return isAnalysisPath(field) ? formMessage(field, payload) : pathWords(field);
}

/** The row a field belongs to ("step 2", "destination 3"), for problems about a whole row. */
const rowOf = (field: string) => fieldWords(field.replace(/^(\w+\[\d+\]).*/, '$1'));

/**
 * A problem in the form's words, from its code and params: `{field: 'steps[1].weights[2]', code:
 * 'out_of_range', params: {got: 120, min: 0, max: 100}}` -> "Step 2, weight 3 is 120; it must be
 * between 0 and 100". A problem without a code the form knows is shown as inFormLanguage(message).
 */
export function problemText(problem: Problem, payload?: unknown): string {
  // A step's pause against the analysis timing: worded from the payload's values (./crossField).
  const cross = payload === undefined ? undefined : crossFieldText(problem, payload);
  if (cross !== undefined) return cross;
  // The analysis section's wording for inputs whose notation is not the JSON's (pod labels as key=value).
  const input = inputWords(problem);
  if (input !== undefined) return input;
  // The analysis block's own rules (code `analysis`) have no params to word from (problemMessage
  // gives undefined): their message is shown with its paths in the form's words.
  const words = problemMessage(problem.field, problem.code, problem.params, (path, row) => (row ? rowOf(path) : fieldWords(path, payload)));
  return words === undefined ? inFormLanguage(problem.message) : capitalized(words);
}

/**
 * A message without a code (see the top of this file), its paths in the form's words:
 * `steps[1].weights[2] is 120` -> `Step 2, weight 3 is 120`; other text is kept as it is.
 */
export function inFormLanguage(message: string): string {
  // Analysis paths first: the row words below would turn `steps[1].analysis.skip` into "step 2.analysis.skip".
  // "steps[0].weights has 2 weights" reads better as "Step 1 has 2 weights".
  const words = formMessage(message).replace(/\bsteps\[(\d+)\]\.weights has\b/g, (_m, i: string) => `step ${Number(i) + 1} has`);
  return capitalized(pathWords(words));
}
