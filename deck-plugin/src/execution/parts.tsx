/**
 * The two layouts the execution tab repeats: a list of facts (label, value) and a condensed table
 * with a header row. One component each, so every panel lays out its lines the same way.
 */
import React from 'react';

/** A line of a fact list: label, value and an optional test id for the value; false or '' leaves it out. */
export type FactLine = [string, React.ReactNode, string?] | false | '' | undefined;

export function Facts({ lines, className = 'its-facts' }: { lines: FactLine[]; className?: string }) {
  return (
    <dl className={className}>
      {lines.map(
        (line) =>
          line && (
            <React.Fragment key={line[0]}>
              <dt>{line[0]}</dt>
              <dd data-testid={line[2]}>{line[1]}</dd>
            </React.Fragment>
          ),
      )}
    </dl>
  );
}

/** A Bootstrap condensed table: `head` the column titles (none: no header row), `children` the body's rows. */
export function Table({ label, head, className = '', children }: { label: string; head?: string[]; className?: string; children: React.ReactNode }) {
  return (
    <table className={`table table-condensed ${className}`} aria-label={label}>
      {head && (
        <thead>
          <tr>
            {head.map((title) => (
              <th key={title}>{title}</th>
            ))}
          </tr>
        </thead>
      )}
      <tbody>{children}</tbody>
    </table>
  );
}

/** One row of plain cells. */
export const Cells = ({ cells }: { cells: React.ReactNode[] }) => (
  <>
    {cells.map((cell, i) => (
      <td key={i}>{cell}</td>
    ))}
  </>
);
