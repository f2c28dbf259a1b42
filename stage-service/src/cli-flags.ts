/**
 * Flag parsing shared by the CLI's commands: `--name value` options and `--name` switches, every
 * mistake a UsageError that the command prints with its usage line (exit code 2).
 */
export class UsageError extends Error {}

/** For each accepted flag: whether it takes a value or is a switch. */
export type FlagSpec = Record<string, 'value' | 'switch'>;

/** The values given, by flag name without the dashes; switches are `true` when present. */
export function parseFlags(args: string[], spec: FlagSpec, usage: string): Record<string, string | true> {
  const given: Record<string, string | true> = {};
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const kind = flag.startsWith('--') ? spec[flag.slice(2)] : undefined;
    if (!kind) throw new UsageError(`unknown option ${flag}\n${usage}`);
    if (kind === 'switch') {
      given[flag.slice(2)] = true;
      continue;
    }
    const value = args[++i];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    given[flag.slice(2)] = value;
  }
  return given;
}
