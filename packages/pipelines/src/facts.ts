/**
 * The Spinnaker facts table (spinnaker-facts.json) as code: which stage types, stage fields,
 * pipeline fields and trigger forms the generator may emit, each backed by the Spinnaker source
 * that defines it. Rendered pipelines are checked against it (tests), the pipeline simulator
 * refuses any stage type it does not hold, and docs/pipelines.md shows it (renderFactsMarkdown).
 */
import facts from './spinnaker-facts.json';

export interface FactSource {
  repo: string;
  path: string;
  symbol: string;
  commit: string;
}
export interface FieldFact {
  name: string;
  source: FactSource;
}
export interface StageTypeFact {
  type: string;
  source: FactSource;
  fields: FieldFact[];
}
export interface TriggerFact {
  type: string;
  fields: string[];
  source: FactSource;
}
export interface SpinnakerFacts {
  commits: Record<string, string>;
  stageTypes: StageTypeFact[];
  stageFields: FieldFact[];
  pipelineFields: FieldFact[];
  triggerTypes: TriggerFact[];
  /**
   * What Orca does to a stage's context that the Istio Traffic Shift stage depends on: when
   * expressions are evaluated and stored, what Restart stage keeps, what a cancel uses.
   */
  orcaStageContract: FieldFact[];
  /**
   * What Orca and Kubernetes do with a Run Job stage on "Restart stage" and on a lost pod: what the
   * CLI's choice between resuming and starting a new attempt rests on (docs/run-job.md).
   */
  runJobContract: FieldFact[];
  /** The SpEL shapes the generator writes (stageEnabled, preconditions) and what Orca does with them. */
  expressions: FieldFact[];
  /** The Gate calls `pipelines apply` makes and what answers them (the test stand-in serves only these). */
  gateEndpoints: FieldFact[];
  /** How image artifacts are named, matched, bound and defaulted (docker-image.ts, trigger-check.ts). */
  artifacts: FieldFact[];
}

export const SPINNAKER_FACTS: SpinnakerFacts = facts;

/** Stage types Orca resolves for what the generator emits. */
export const KNOWN_STAGE_TYPES: readonly string[] = SPINNAKER_FACTS.stageTypes.map((s) => s.type);

/** Everything in `pipeline` the facts table does not hold, one line each (empty = all backed). */
export function checkAgainstFacts(pipeline: { name?: unknown; stages?: unknown; triggers?: unknown; [key: string]: unknown }): string[] {
  const problems: string[] = [];
  const where = `pipeline ${JSON.stringify(pipeline.name)}`;
  const pipelineFields = new Set(SPINNAKER_FACTS.pipelineFields.map((f) => f.name));
  for (const key of Object.keys(pipeline)) if (!pipelineFields.has(key)) problems.push(`${where}: pipeline field "${key}" is not in the facts table`);
  const common = new Set(SPINNAKER_FACTS.stageFields.map((f) => f.name));
  for (const stage of (pipeline.stages ?? []) as Array<Record<string, unknown>>) {
    const fact = SPINNAKER_FACTS.stageTypes.find((s) => s.type === stage.type);
    if (!fact) {
      problems.push(`${where}: stage "${String(stage.name)}" has type "${String(stage.type)}", which Orca does not register (known: ${KNOWN_STAGE_TYPES.join(', ')})`);
      continue;
    }
    const own = new Set(fact.fields.map((f) => f.name));
    for (const key of Object.keys(stage)) if (!common.has(key) && !own.has(key)) problems.push(`${where}: stage "${String(stage.name)}" (${fact.type}): field "${key}" is not in the facts table`);
  }
  for (const trigger of (pipeline.triggers ?? []) as Array<Record<string, unknown>>) {
    const fact = SPINNAKER_FACTS.triggerTypes.find((t) => t.type === trigger.type);
    if (!fact) {
      problems.push(`${where}: trigger type "${String(trigger.type)}" is not in the facts table`);
      continue;
    }
    for (const key of Object.keys(trigger)) if (!fact.fields.includes(key)) problems.push(`${where}: ${fact.type} trigger field "${key}" is not in the facts table`);
  }
  return problems;
}

const cite = (s: FactSource) => `${s.repo}@${s.commit} \`${s.path}\` (${s.symbol})`;
const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The facts table as the markdown block docs/pipelines.md carries between FACTS_BEGIN and FACTS_END. */
export function renderFactsMarkdown(): string {
  const rows: string[] = ['| Element | Name | Defined by (repo@commit, path, symbol) |', '|---|---|---|'];
  for (const stage of SPINNAKER_FACTS.stageTypes) {
    rows.push(`| stage type | \`${stage.type}\` | ${cell(cite(stage.source))} |`);
    for (const field of stage.fields) rows.push(`| \`${stage.type}\` field | \`${field.name}\` | ${cell(cite(field.source))} |`);
  }
  for (const field of SPINNAKER_FACTS.stageFields) rows.push(`| any stage field | \`${field.name}\` | ${cell(cite(field.source))} |`);
  for (const field of SPINNAKER_FACTS.pipelineFields) rows.push(`| pipeline field | \`${field.name}\` | ${cell(cite(field.source))} |`);
  for (const trigger of SPINNAKER_FACTS.triggerTypes) rows.push(`| trigger | \`${trigger.type}\`: ${trigger.fields.map((f) => `\`${f}\``).join(', ')} | ${cell(cite(trigger.source))} |`);
  for (const expression of SPINNAKER_FACTS.expressions) rows.push(`| expression | ${cell(expression.name)} | ${cell(cite(expression.source))} |`);
  for (const endpoint of SPINNAKER_FACTS.gateEndpoints) rows.push(`| Gate call | ${cell(endpoint.name)} | ${cell(cite(endpoint.source))} |`);
  for (const artifact of SPINNAKER_FACTS.artifacts) rows.push(`| image artifact | ${cell(artifact.name)} | ${cell(cite(artifact.source))} |`);
  for (const fact of SPINNAKER_FACTS.orcaStageContract) rows.push(`| Orca stage contract | ${cell(fact.name)} | ${cell(cite(fact.source))} |`);
  for (const fact of SPINNAKER_FACTS.runJobContract) rows.push(`| Run Job contract | ${cell(fact.name)} | ${cell(cite(fact.source))} |`);
  return rows.join('\n');
}

export const FACTS_BEGIN = '<!-- spinnaker-facts:begin (generated from packages/pipelines/src/spinnaker-facts.json by `node packages/pipelines/scripts/facts-doc.js`; do not edit) -->';
export const FACTS_END = '<!-- spinnaker-facts:end -->';

/** `doc` with the block between the markers replaced by the current table (appended if absent). */
export function withFactsTable(doc: string): string {
  const block = `${FACTS_BEGIN}\n${renderFactsMarkdown()}\n${FACTS_END}`;
  const begin = doc.indexOf(FACTS_BEGIN);
  const end = doc.indexOf(FACTS_END);
  if (begin < 0 || end < 0) return `${doc.replace(/\n*$/, '\n')}\n## Spinnaker facts: every stage type and field the generator emits\n\n${block}\n`;
  return doc.slice(0, begin) + block + doc.slice(end + FACTS_END.length);
}
