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
export function FieldLayout(props: ILayoutProps) {
  const { label, help, input, actions, validation } = props;
  return (
    <div className="sp-formItem its-field">
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
export function CellLayout(props: ILayoutProps) {
  return (
    <div className="its-cell">
      {props.input}
      <Message validation={props.validation} />
    </div>
  );
}

/** A text input whose value is stored as a number when it is one (SpEL and other text stay text). */
export function numberTextInput(formik: StageFormik, extra: Record<string, unknown> = {}) {
  function NumberTextInput(props: IFormInputProps) {
    return (
      <TextInput
        {...props}
        {...extra}
        inputMode="numeric"
        value={props.value ?? ''}
        onChange={(event: React.ChangeEvent<HTMLInputElement>) => formik.setFieldValue(props.name ?? '', parseNumberInput(event.target.value))}
      />
    );
  }
  return NumberTextInput;
}

export function textInput(extra: Record<string, unknown> = {}) {
  function PlainTextInput(props: IFormInputProps) {
    return <TextInput {...props} {...extra} value={props.value ?? ''} />;
  }
  return PlainTextInput;
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
export function Field({ name, label, help, input, cell, touched }: FieldProps) {
  return <FormikFormField name={name} label={label} help={help} input={input} layout={cell ? CellLayout : FieldLayout} touched={touched || undefined} />;
}

/** The trash button of a table row (destinations, steps). */
export function RemoveButton({ label, disabled, onClick }: { label: string; disabled: boolean; onClick: () => void }) {
  return (
    <button type="button" className="btn btn-sm btn-default" aria-label={label} disabled={disabled} onClick={onClick}>
      <span className="glyphicon glyphicon-trash" />
    </button>
  );
}

/** The full-width "Add …" button under a table of rows (destinations, steps, metrics). */
export function AddRowButton({ label, disabled = false, onClick }: { label: string; disabled?: boolean; onClick: () => void }) {
  return (
    <button type="button" className="btn btn-block btn-sm add-new" disabled={disabled} onClick={onClick}>
      <span className="glyphicon glyphicon-plus-sign" /> {label}
    </button>
  );
}

/** The value at a lodash-style path (`payload.steps[1].weights`) of the form's values, errors or touched. */
export function getIn(source: unknown, path: string): unknown {
  return path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), source);
}

function hasTouchedUnder(touched: unknown, path: string): boolean {
  const node = getIn(touched, path);
  if (node === true) return true;
  if (node && typeof node === 'object') return Object.keys(node).some((key) => hasTouchedUnder(node, key));
  return false;
}

/** True when the validator has a message about the group at `path` (a destination, a step's weights). */
export function hasGroupMessage(formik: StageFormik, path: string): boolean {
  return typeof getIn(formik.errors, `${path}.${CONTAINER_MESSAGE_KEY}`) === 'string';
}

/** A message about a whole group (route, a destination, a step's weights), once the group was touched. */
export function GroupMessage({ formik, path, testId, touchedPaths }: { formik: StageFormik; path: string; testId?: string; touchedPaths?: string[] }) {
  const message = getIn(formik.errors, `${path}.${CONTAINER_MESSAGE_KEY}`);
  const touched = (touchedPaths ?? [path]).some((p) => hasTouchedUnder(formik.touched, p));
  if (typeof message !== 'string' || !touched) return null;
  return (
    <div className="its-group-message error-message" data-testid={testId}>
      <span className="fa fa-exclamation-circle" /> {message}
    </div>
  );
}

/** Suggestions for a text input (`list=`): live hosts, subsets, namespaces. */
export function Datalist({ id, values }: { id: string; values: string[] }) {
  return (
    <datalist id={id}>
      {values.map((value) => (
        <option key={value} value={value} />
      ))}
    </datalist>
  );
}
