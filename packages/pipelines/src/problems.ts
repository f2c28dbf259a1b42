/**
 * One thing wrong with a team's input, said so that they can fix it without reading our code:
 * which file, where in it (a JSON path for the parameter file, a YAML line for manifests), what is
 * wrong and what to do.
 */
export interface InputProblem {
  file: string;
  /** 1-based line, when known. */
  line?: number;
  /** 1-based column, when known (JSON syntax errors). */
  column?: number;
  /** JSON path (`$.steps[0].weights`) or the manifest field (`spec.template.metadata.labels`). */
  path: string;
  message: string;
  fix: string;
}

export function formatProblem(problem: InputProblem): string {
  const where = `${problem.file}${problem.line ? `:${problem.line}${problem.column ? `:${problem.column}` : ''}` : ''}`;
  return `${where}: ${problem.path}: ${problem.message}\n    fix: ${problem.fix}`;
}

export function formatProblems(problems: InputProblem[]): string {
  return problems.map(formatProblem).join('\n');
}

/** `/steps/0/weights` -> `$.steps[0].weights`. */
export function pointerToPath(pointer: string): string {
  if (!pointer) return '$';
  return (
    '$' +
    pointer
      .split('/')
      .slice(1)
      .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((key) => (/^\d+$/.test(key) ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`))
      .join('')
  );
}

/** 1-based line and column of a character offset in `text` (JSON.parse reports offsets). */
export function positionAt(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}
