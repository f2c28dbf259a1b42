/**
 * The `{{variable}}`s a custom query template may use. Apart from queries.ts (which renders them,
 * for the service) so the Deck plugin's validator does not bundle the query builders.
 */
export const TEMPLATE_VARIABLES = ['namespace', 'workload', 'interval', 'scope'] as const;

export const TEMPLATE_VARIABLE = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** The `{{variable}}` names a template uses (for validation). */
export function templateVariables(template: string): string[] {
  return [...template.matchAll(TEMPLATE_VARIABLE)].map((m) => m[1]);
}
