/**
 * The preconfigured webhook exactly as docs/orca.md tells operators to configure it, so end-to-end
 * tests run against what the documentation says and fail when the two drift apart.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { PreconfiguredWebhook } from './driver';

export const ORCA_DOC_PATH = path.resolve(__dirname, '../../docs/orca.md');

/** The environment variable the documented block reads the bearer token from. */
export const TOKEN_ENV_VAR = 'ISTIO_TRAFFIC_SHIFT_TOKEN';

/** The first ```yaml fenced block of docs/orca.md, verbatim. */
export function readDocumentedYaml(docPath: string = ORCA_DOC_PATH): string {
  const text = fs.readFileSync(docPath, 'utf8');
  const m = /^```ya?ml[^\n]*\n([\s\S]*?)^```/m.exec(text);
  if (!m) throw new Error(`${docPath} has no \`\`\`yaml block`);
  return m[1];
}

/**
 * Spring's property placeholder resolution as Spring Boot applies it to orca-local.yml:
 * `${NAME}` and `${NAME:default}` resolve from `env`; anything unresolvable (such as the SpEL
 * `${webhook.body.cancelUrl}`) is left untouched for Orca's expression evaluator. Note that a `:`
 * inside `${...}` is Spring's default separator, so such a SpEL expression would be mangled.
 */
export function resolveSpringPlaceholders<T>(value: T, env: Record<string, string>): T {
  const resolve = (s: string): string =>
    s.replace(/\$\{([^{}]*)\}/g, (whole, inner: string) => {
      const sep = inner.indexOf(':');
      const name = sep >= 0 ? inner.slice(0, sep) : inner;
      if (Object.prototype.hasOwnProperty.call(env, name)) return env[name];
      if (sep >= 0) return inner.slice(sep + 1);
      return whole;
    });
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return resolve(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}

/** `webhook.preconfigured[0]` of the documented block, parsed but not resolved. */
export function documentedPreconfiguredWebhook(docPath: string = ORCA_DOC_PATH): PreconfiguredWebhook {
  const doc = parseYaml(readDocumentedYaml(docPath)) as { webhook?: { preconfigured?: PreconfiguredWebhook[] } } | undefined;
  const entry = doc?.webhook?.preconfigured?.[0];
  if (!entry) throw new Error(`the first yaml block of ${docPath} has no webhook.preconfigured[0]`);
  return entry;
}

/**
 * The documented entry with the documented host replaced by `baseUrl` (scheme, host and port; the
 * path is kept) and the Spring placeholder for the token resolved to `token`.
 */
export function loadPreconfiguredWebhook(baseUrl: string, token: string): PreconfiguredWebhook {
  const entry = documentedPreconfiguredWebhook();
  const raw = JSON.stringify(entry);
  if (!raw.includes(`\${${TOKEN_ENV_VAR}`)) {
    throw new Error(`docs/orca.md no longer reads the token from \${${TOKEN_ENV_VAR}}; update test/orca/webhook-config.ts`);
  }
  if (typeof entry.url !== 'string') throw new Error('the documented webhook has no url');
  const documentedOrigin = new URL(entry.url).origin;
  const base = baseUrl.replace(/\/+$/, '');
  const rehost = (v: unknown): unknown => {
    if (typeof v === 'string') return v.split(documentedOrigin).join(base);
    if (Array.isArray(v)) return v.map(rehost);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, rehost(x)]));
    }
    return v;
  };
  return rehost(resolveSpringPlaceholders(entry, { [TOKEN_ENV_VAR]: token })) as PreconfiguredWebhook;
}
