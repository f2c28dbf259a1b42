/**
 * Small building blocks over @spinnaker/core's form components: a layout that prints validator
 * messages as plain text (core's default renders them as Markdown, which would eat the `_` and
 * `[...]` of field paths), and text inputs that store numbers as numbers.
 */
import React from 'react';
import { FormikFormField, TextInput, ValidationMessage } from '@spinnaker/core';
import type { IFormInputProps, ILayoutProps } from '@spinnaker/core';
import type { FormikProps } from 'formik';
import { CONTAINER_MESSAGE_KEY, parseNumberInput } from '../model';

export type StageFormik = FormikProps<Record<string, unknown>>;

function Message({ validation }: Pick<ILayoutProps, 'validation'>) {
  if (!validation || validation.hidden || !validation.messageNode) return null;
  return <ValidationMessage type={validation.category} message={<span className="its-message">{validation.messageNode}</span>} />;
}

/** The layout of Deck's stage forms (sp-formItem), with plain-text messages. */
function FieldLayout({ label, help, input, actions, validation }: ILayoutProps) {
  return (
    <div className="sp-formItem">
      <div className="sp-formItem__left">
        {(label || help) && (
          <div className="sp-formLabel">
            {label} {help}
          </div>
        )}
      </div>
      <div className="sp-formItem__right">
        <div className="sp-form">
          <span className="flex-container-h margin-between-lg field">
            <span className="input">{input}</span>
            {actions}
          </span>
        </div>
        <Message validation={validation} />
      </div>
    </div>
  );
}

/** For table cells: the input and, under it, its message. */
const CellLayout = ({ input, validation }: ILayoutProps) => (
  <div className="its-cell">
    {input}
    <Message validation={validation} />
  </div>
);

/**
 * A text input with these extra attributes; with `formik`, its value is stored as a number when it
 * is one (SpEL and other text stay text).
 */
export function textInput(extra: Record<string, unknown>, formik?: StageFormik) {
  return function PlainTextInput(props: IFormInputProps) {
    const numeric = formik && {
      inputMode: 'numeric' as const,
      onChange: (event: React.ChangeEvent<HTMLInputElement>) => formik.setFieldValue(props.name || '', parseNumberInput(event.target.value)),
    };
    return <TextInput {...props} {...extra} {...numeric} value={props.value ?? ''} />;
  };
}

interface FieldProps {
  name: string;
  label?: React.ReactNode;
  help?: React.ReactNode;
  input: (props: IFormInputProps) => JSX.Element;
  cell?: boolean;
  /** Show the message before the input was touched (a problem another field caused, e.g. the analysis warm-up). */
  touched?: boolean;
}

/** A Formik field with this plugin's layouts; errors come from the stage's validateFn. */
export const Field = ({ name, label, help, input, cell, touched }: FieldProps) => (
  <FormikFormField name={name} label={label} help={help} input={input} layout={cell ? CellLayout : FieldLayout} touched={touched || undefined} />
);

/** The trash button of a table row (destinations, steps, metrics). */
export const RemoveButton = ({ label, disabled, onClick }: { label: string; disabled: boolean; onClick: () => void }) => (
  <button type="button" className="btn btn-sm btn-default" aria-label={label} disabled={disabled} onClick={onClick}>
    <span className="glyphicon glyphicon-trash" />
  </button>
);

/** The full-width "Add …" button under a table of rows (destinations, steps, metrics). */
export const AddRowButton = ({ label, disabled = false, onClick }: { label: string; disabled?: boolean; onClick: () => void }) => (
  <button type="button" className="btn btn-block btn-sm add-new" disabled={disabled} onClick={onClick}>
    <span className="glyphicon glyphicon-plus-sign" /> {label}
  </button>
);

/** Messages in red, one per line, each with Deck's error icon; nothing when there are none. */
export const ErrorLines = ({ lines, className, testId }: { lines: string[]; className: string; testId?: string }) =>
  lines.length ? (
    <div className={`${className} error-message`} data-testid={testId}>
      {lines.map((line, i) => (
        <div key={i}>
          <span className="fa fa-exclamation-circle" /> {line}
        </div>
      ))}
    </div>
  ) : null;

/** The value at a lodash-style path (`payload.steps[1].weights`) of the form's values, errors or touched. */
export function getIn(source: unknown, path: string): unknown {
  return path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), source);
}

function hasTouchedUnder(touched: unknown, path: string): boolean {
  const node = getIn(touched, path);
  return node === true || (!!node && typeof node === 'object' && Object.keys(node).some((key) => hasTouchedUnder(node, key)));
}

/** True when the validator has a message about the group at `path` (a destination, a step's weights). */
export const hasGroupMessage = (formik: StageFormik, path: string) => typeof getIn(formik.errors, `${path}.${CONTAINER_MESSAGE_KEY}`) === 'string';

/** A message about a whole group (route, a destination, a step's weights), once the group was touched. */
export function GroupMessage({ formik, path, testId, touchedPaths = [path] }: { formik: StageFormik; path: string; testId?: string; touchedPaths?: string[] }) {
  const shown = hasGroupMessage(formik, path) && touchedPaths.some((p) => hasTouchedUnder(formik.touched, p));
  return <ErrorLines className="its-group-message" testId={testId} lines={shown ? [getIn(formik.errors, `${path}.${CONTAINER_MESSAGE_KEY}`) as string] : []} />;
}

/** Suggestions for a text input (`list=`): live hosts, subsets, namespaces. */
export const Datalist = ({ id, values }: { id: string; values: string[] }) => (
  <datalist id={id}>
    {values.map((value) => (
      <option key={value} value={value} />
    ))}
  </datalist>
);
