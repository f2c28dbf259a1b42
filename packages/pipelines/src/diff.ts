/** A small line diff (LCS) for `check`: what changed between the committed and the rendered JSON. */
export function lineDiff(before: string, after: string, context = 2): string {
  const a = before.split('\n');
  const b = after.split('\n');
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops: { kind: ' ' | '-' | '+'; line: string; at: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ kind: ' ', line: a[i++], at: j++ });
    else if (j < b.length && (i >= a.length || lcs[i][j + 1] >= lcs[i + 1][j])) ops.push({ kind: '+', line: b[j], at: j++ });
    else ops.push({ kind: '-', line: a[i++], at: j });
  }
  const keep = ops.map((op, k) => op.kind !== ' ' || ops.slice(Math.max(0, k - context), k + context + 1).some((o) => o.kind !== ' '));
  const out: string[] = [];
  ops.forEach((op, k) => {
    if (keep[k]) out.push(`${op.kind} ${String(op.at + 1).padStart(4)} | ${op.line}`);
    else if (keep[k - 1]) out.push('  ...');
  });
  return out.join('\n');
}
