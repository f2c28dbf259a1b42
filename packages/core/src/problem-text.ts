/**
 * The English text of a validator problem, from its code and params: written once, so the API's
 * message (field paths as they are) and the Deck form's text (fields in the form's words, through
 * `name`) cannot drift apart. The analysis block's own rules (code `analysis`) have no params to
 * word from: their message is their only text, and this returns undefined for them.
 */
import type { ProblemCode, ProblemParams } from './contract';
import { formatDuration } from './duration';

/**
 * How a text names a field path. `row` asks for the row a field belongs to (`steps[0].weights` ->
 * the form's "step 1"); the API names every path as it is.
 */
export type FieldNamer = (path: string, row?: boolean) => string;

const asIs: FieldNamer = (path) => path;

/** "a, b or c" */
function either(words: readonly string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

export function problemMessage(field: string, code: ProblemCode | undefined, params: ProblemParams = {}, name: FieldNamer = asIs): string | undefined {
  const f = name(field);
  // Each code's params are listed in contract.ts.
  const p = params as Record<string, any>;
  const upper = String(p.protocol).toUpperCase();
  switch (code) {
    case 'spec_not_object':
      return `the shift spec must be a JSON object with account, namespace, ${name('virtualService')}, route, destinations and steps`;
    case 'required':
      return `${f} is required: give ${p.hint}`;
    case 'wrong_type': {
      const expected: string = p.expected;
      const what = expected === 'boolean' ? 'true or false' : `${expected === 'object' ? 'an' : 'a'} ${expected}`;
      const got = p.got === undefined ? '' : ` (got ${p.got})`;
      const hint = p.hint === undefined ? '' : expected === 'object' ? ` ${p.hint}` : `: give ${p.hint}`;
      return `${f} must be ${what}${got}${hint}`;
    }
    case 'unevaluated_expression':
      // With a hint: the analysis block, where Orca's SpEL is never evaluated.
      return p.hint === undefined
        ? `${f} is "${p.value}", which looks like a SpEL expression Orca did not evaluate; check the expression in the pipeline, or send a literal value`
        : `${f} is "${p.value}": expressions are not supported in the analysis block; write ${p.hint}`;
    case 'unknown_field':
      return `${f} is not a known field: remove it (known fields: ${(p.known as string[]).map((key) => name(key)).join(', ')})`;
    case 'too_long':
      return `${f} is ${p.length} characters long; shorten it to at most ${p.max}`;
    case 'invalid_format':
      return `${f} "${p.value}" is not valid: give ${p.hint}${p.maxLength === undefined ? '' : ` (at most ${p.maxLength} characters)`}`;
    case 'out_of_range':
      return `${f} is ${p.got}; it must be between ${p.min} and ${p.max}${p.hint === undefined ? '' : ` (${p.hint})`}`;
    case 'not_one_of':
      return `${f} must be one of ${p.allowed.join(', ')} (got ${p.got})`;
    case 'empty':
      return `${f} is empty: give ${p.hint}`;
    case 'too_many':
      return `${f} has ${p.count} entries; at most ${p.max} are allowed`;
    case 'not_a_duration':
      return `${f} ${p.got} is not a duration: write it like ${either(p.examples)}${field === 'abandonAfter' ? '' : ', or as whole seconds'}`;
    case 'pause_too_long':
      return `${f} is longer than ${p.maxSeconds / 86400} days; shorten it (a long bake belongs in a separate stage)`;
    case 'duration_out_of_range':
      return field === 'abandonAfter'
        ? `${f} is ${p.got}s; it must be between ${p.min}s (longer than Orca's 15 s poll interval, with room for a service restart) and ${p.max / 60}m`
        : `${f} is ${formatDuration(p.got)}; it must be between ${formatDuration(p.min)} and ${formatDuration(p.max)}`;
    case 'port_on_http_route':
      return `${f} applies to TLS and TCP routes only: select an HTTP route by name or index`;
    case 'name_on_unnamed_route':
      return `Istio ${upper} routes have no name: select the route by port or index`;
    case 'route_selector':
      return `${f} must give exactly one of ${either(p.choices)} for ${p.protocol === 'http' ? 'an HTTP route (prefer the name: it survives reordering)' : `a ${upper} route`}`;
    case 'duplicate_destination':
      return `${f} repeats ${name(`destinations[${p.first}]`)} (${p.key}): list each destination once`;
    case 'duplicate_label':
      return `${name(`destinations[${p.index}]`)} has the same label "${p.label}" as ${name(`destinations[${p.first}]`)}: give each a distinct label`;
    case 'weight_count':
      return `${name(field, true)} has ${p.count} weights but there are ${p.destinations} destinations: give one weight per destination, in the same order`;
    case 'weight_sum':
      return `${f} sum to ${p.sum}; they must sum to 100 (${p.sum < 100 ? `add ${100 - p.sum}` : `remove ${p.sum - 100}`})`;
    case 'stage_ref_required':
      return `${f} is required with executionId: one execution can run several shift stages, so name the stage (the Deck editor writes its refId)`;
    case 'execution_id_required':
      return `${f} is required with stageRef: in Orca set it to \${execution.id}`;
    default:
      return undefined;
  }
}
