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

type Segment = string | number;

function segmentsOf(field: string): Segment[] {
  const segments: Segment[] = [];
  for (const match of field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) segments.push(match[2] !== undefined ? Number(match[2]) : match[1]);
  return segments;
}

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** A field path in the form's words: `steps[1].weights[2]` -> "step 2, weight 3", `route.name` -> "route name". */
export function fieldWords(field: string, payload?: unknown): string {
  if (field === '') return 'the shift spec';
  // Analysis paths read the payload for their labels (a metric's judge type, say).
  if (isAnalysisPath(field)) return formMessage(field, payload);
  const [head, index, child, childIndex, ...rest] = segmentsOf(field);
  if ((head === 'steps' || head === 'destinations') && typeof index === 'number') {
    const row = `${head === 'steps' ? 'step' : 'destination'} ${index + 1}`;
    if (child === undefined) return row;
    if (child === 'weights' && typeof childIndex === 'number' && rest.length === 0) return `${row}, weight ${childIndex + 1}`;
    return [row, child, childIndex, ...rest].filter((s) => s !== undefined).join(' ');
  }
  const words = segmentsOf(field).map((s) => (typeof s === 'string' ? FIELD_WORDS[s] ?? s : String(s + 1)));
  return words.join(' ');
}

const isAnalysisPath = (field: string) => /^analysis(\.|\[|$)/.test(field) || /^steps\[\d+\]\.analysis/.test(field);

/** The row a field belongs to ("step 2", "destination 3"), for problems about a whole row. */
function rowOf(field: string): string {
  const [head, index] = segmentsOf(field);
  return typeof index === 'number' ? fieldWords(`${head}[${index}]`) : fieldWords(field);
}

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

const ROW_PATH = /\b(steps|destinations)\[(\d+)\](?:\.(weights|pause|host|subset|port|label|weight)(?:\[(\d+)\])?)?/g;
const ROUTE_PATH = /\broute\.(name|port|index|protocol)\b/g;

function rowWords(list: string, index: string, child?: string, childIndex?: string): string {
  const row = `${list === 'steps' ? 'step' : 'destination'} ${Number(index) + 1}`;
  if (!child) return row;
  if (child === 'weights' && childIndex !== undefined) return `${row}, weight ${Number(childIndex) + 1}`;
  return `${row} ${child}`;
}

/**
 * A message without a code (see the top of this file), its paths in the form's words:
 * `steps[1].weights[2] is 120` -> `Step 2, weight 3 is 120`; other text is kept as it is.
 */
export function inFormLanguage(message: string): string {
  // Analysis paths first: the row words below would turn `steps[1].analysis.skip` into "step 2.analysis.skip".
  const words = formMessage(message)
    // "steps[0].weights has 2 weights" reads better as "Step 1 has 2 weights".
    .replace(/\bsteps\[(\d+)\]\.weights has\b/g, (_m, i: string) => `step ${Number(i) + 1} has`)
    .replace(ROW_PATH, (_m, list: string, index: string, child?: string, childIndex?: string) => rowWords(list, index, child, childIndex))
    .replace(ROUTE_PATH, (_m, key: string) => `route ${key}`)
    .replace(/\b(virtualService|abandonAfter)\b/g, (word: string) => FIELD_WORDS[word]);
  return capitalized(words);
}
