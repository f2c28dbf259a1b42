/**
 * The validator speaks in JSON paths (`steps[1].weights[2]`), which is right for the service's API
 * and its logs; the editor's form counts from 1 and names rows ("Step 2", "destination 3").
 *
 * The form words a problem from its stable `code` and `params` and its `field` (problemText): the
 * validator's English `message` is for the API's error bodies and may be reworded there without
 * changing a word of the form. Problems without a code the form can word (the analysis block's own
 * rules, code `analysis`, and route or destination matches from the live VirtualService) are shown
 * as their message with the paths in it put in the form's words (inFormLanguage).
 */
import type { Problem, ProblemParams } from '@istio-shift/core';
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

const text = (params: ProblemParams | undefined, key: string): string => {
  const value = params?.[key];
  return Array.isArray(value) ? value.join(', ') : value === undefined ? '' : String(value);
};
const num = (params: ProblemParams | undefined, key: string): number => Number(params?.[key]);
const list = (params: ProblemParams | undefined, key: string): string[] => {
  const value = params?.[key];
  return Array.isArray(value) ? [...(value as readonly string[])] : [];
};

/** "a, b or c" */
function either(words: string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** The row a field belongs to ("step 2", "destination 3"), for problems about a whole row. */
function rowOf(field: string): string {
  const [head, index] = segmentsOf(field);
  return typeof index === 'number' ? fieldWords(`${head}[${index}]`) : fieldWords(field);
}

/** The form's wording of a problem: from its code, params and field; undefined for a code the form has no words for. */
function worded(problem: Problem, payload?: unknown): string | undefined {
  const { field, params } = problem;
  const f = fieldWords(field, payload);
  switch (problem.code) {
    case 'spec_not_object':
      return 'the shift spec must be a JSON object with account, namespace, VirtualService, route, destinations and steps';
    case 'required':
      return `${f} is required: give ${text(params, 'hint')}`;
    case 'wrong_type':
      switch (text(params, 'expected')) {
        case 'string':
          return `${f} must be a string: give ${text(params, 'hint')}`;
        case 'list':
          return `${f} must be a list: give ${text(params, 'hint')}`;
        case 'whole number':
          return `${f} must be a whole number (got ${text(params, 'got')}): give ${text(params, 'hint')}`;
        case 'boolean':
          return `${f} must be true or false (got ${text(params, 'got')})`;
        case 'object':
          return `${f} must be an object ${text(params, 'hint')}`;
        default:
          return undefined;
      }
    case 'unevaluated_expression':
      return `${f} is "${text(params, 'value')}", which looks like a SpEL expression Orca did not evaluate; check the expression in the pipeline, or send a literal value`;
    case 'unknown_field':
      return `${f} is not a known field: remove it (known fields: ${list(params, 'known').map((k) => FIELD_WORDS[k] ?? k).join(', ')})`;
    case 'too_long':
      return `${f} is ${text(params, 'length')} characters long; shorten it to at most ${text(params, 'max')}`;
    case 'invalid_format':
      return `${f} "${text(params, 'value')}" is not valid: give ${text(params, 'hint')}`;
    case 'out_of_range':
      return `${f} is ${text(params, 'got')}; it must be between ${text(params, 'min')} and ${text(params, 'max')}`;
    case 'not_one_of':
      return `${f} must be one of ${text(params, 'allowed')} (got ${text(params, 'got')})`;
    case 'empty':
      return `${f} is empty: give ${text(params, 'hint')}`;
    case 'too_many':
      return `${f} has ${text(params, 'count')} entries; at most ${text(params, 'max')} are allowed`;
    case 'not_a_duration':
      return `${f} ${text(params, 'got')} is not a duration: write it like ${either(list(params, 'examples'))}${field === 'abandonAfter' ? '' : ', or as whole seconds'}`;
    case 'pause_too_long':
      return `${f} is longer than ${num(params, 'maxSeconds') / 86400} days; shorten it (a long bake belongs in a separate stage)`;
    case 'duration_out_of_range':
      return `${f} is ${num(params, 'got')}s; it must be between ${num(params, 'min')}s (longer than Orca's 15 s poll interval, with room for a service restart) and ${num(params, 'max') / 60}m`;
    case 'port_on_http_route':
      return `${f} applies to TLS and TCP routes only: select an HTTP route by name or index`;
    case 'name_on_unnamed_route':
      return `Istio ${text(params, 'protocol').toUpperCase()} routes have no name: select the route by port or index`;
    case 'route_selector': {
      const protocol = text(params, 'protocol');
      const choices = either(list(params, 'choices'));
      return protocol === 'http'
        ? `${f} must give exactly one of ${choices} for an HTTP route (prefer the name: it survives reordering)`
        : `${f} must give exactly one of ${choices} for a ${protocol.toUpperCase()} route`;
    }
    case 'duplicate_destination':
      return `${f} repeats destination ${num(params, 'first') + 1} (${text(params, 'key')}): list each destination once`;
    case 'duplicate_label':
      return `${rowOf(field)} has the same label "${text(params, 'label')}" as destination ${num(params, 'first') + 1}: give each a distinct label`;
    case 'weight_count':
      return `${rowOf(field)} has ${text(params, 'count')} weights but there are ${text(params, 'destinations')} destinations: give one weight per destination, in the same order`;
    case 'weight_sum': {
      const sum = num(params, 'sum');
      return `${f} sum to ${sum}; they must sum to 100 (${sum < 100 ? `add ${100 - sum}` : `remove ${sum - 100}`})`;
    }
    case 'stage_ref_required':
      return `${f} is required with executionId: one execution can run several shift stages, so name the stage (the Deck editor writes its refId)`;
    case 'execution_id_required':
      return `${f} is required with stageRef: in Orca set it to \${execution.id}`;
    default:
      return undefined;
  }
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
  // The analysis block's own rules (code `analysis`) have no params to word from: their message is
  // shown with its paths in the form's words. Its common checks (required, out_of_range, ...) are
  // worded from their code like the rest of the spec's.
  const words = isAnalysisPath(problem.field) && (problem.code === undefined || problem.code === 'analysis') ? undefined : worded(problem, payload);
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
