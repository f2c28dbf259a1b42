/**
 * The validator speaks in JSON paths (`steps[1].weights[2]`), which is right for the service's API
 * and its logs; the editor's form counts from 1 and names rows ("Step 2", "destination 3"). This
 * turns a validator message into the form's words, for display in the editor only. Paths into the
 * analysis block (`analysis.metrics[1].judge.max`, `steps[1].analysis.skip`) take the analysis
 * section's labels ("Metric 2, threshold max", "Step 2, skip analysis") from ./analysis-model.
 */
import { formMessage } from './analysis-model';

const ROW_PATH = /\b(steps|destinations)\[(\d+)\](?:\.(weights|pause|host|subset|port|label|weight)(?:\[(\d+)\])?)?/g;
const ROUTE_PATH = /\broute\.(name|port|index|protocol)\b/g;
const FIELD_WORDS: Record<string, string> = { virtualService: 'VirtualService', abandonAfter: 'abandon after' };

function rowWords(list: string, index: string, child?: string, childIndex?: string): string {
  const row = `${list === 'steps' ? 'step' : 'destination'} ${Number(index) + 1}`;
  if (!child) return row;
  if (child === 'weights' && childIndex !== undefined) return `${row}, weight ${Number(childIndex) + 1}`;
  return `${row} ${child}`;
}

/** `steps[1].weights[2] is 120` -> `Step 2, weight 3 is 120`; other text is kept as it is. */
export function inFormLanguage(message: string): string {
  // Analysis paths first: the row words below would turn `steps[1].analysis.skip` into "step 2.analysis.skip".
  const text = formMessage(message)
    // "steps[0].weights has 2 weights" reads better as "Step 1 has 2 weights".
    .replace(/\bsteps\[(\d+)\]\.weights has\b/g, (_m, i: string) => `step ${Number(i) + 1} has`)
    .replace(ROW_PATH, (_m, list: string, index: string, child?: string, childIndex?: string) => rowWords(list, index, child, childIndex))
    .replace(ROUTE_PATH, (_m, key: string) => `route ${key}`)
    .replace(/\b(virtualService|abandonAfter)\b/g, (word: string) => FIELD_WORDS[word]);
  return text.charAt(0).toUpperCase() + text.slice(1);
}
