/**
 * The top of the editor: the presets, and which VirtualService to change (account, namespace,
 * name). Accounts come from Gate; a name or SpEL can always be typed instead.
 */
import React from 'react';
import { HelpField, SelectInput } from '@spinnaker/core';
import { PRESETS, PayloadDraft } from '../model';
import { AccountsResult, loadKubernetesAccounts } from '../live';
import { Datalist, Field, StageFormik, getIn, textInput } from './fields';

const OTHER_ACCOUNT = '__istio_other_account__';

export function useAccounts(): AccountsResult | undefined {
  const [accounts, setAccounts] = React.useState<AccountsResult>();
  React.useEffect(() => {
    let live = true;
    loadKubernetesAccounts().then((result) => live && setAccounts(result));
    return () => {
      live = false;
    };
  }, []);
  return accounts;
}

function Presets({ formik }: { formik: StageFormik }) {
  const payload = getIn(formik.values, 'payload') as PayloadDraft;
  return (
    <div className="its-presets">
      <strong>Presets:</strong>
      {PRESETS.map((preset) => (
        <button
          key={preset.id}
          type="button"
          className="btn btn-sm btn-default"
          title={preset.description}
          onClick={() => formik.setFieldValue('payload', preset.apply(payload))}
        >
          {preset.label}
        </button>
      ))}
    </div>
  );
}

function AccountField({ formik, accounts }: { formik: StageFormik; accounts?: AccountsResult }) {
  const value = String(getIn(formik.values, 'payload.account') || '');
  const [freeText, setFreeText] = React.useState(false);
  const listed = (accounts && accounts.accounts) || [];
  const useSelect = !freeText && listed.length > 0 && (value === '' || listed.includes(value));
  const help = <HelpField content="The Kubernetes account of the cluster; the service maps it to a cluster and the namespaces it may change. SpEL is allowed." />;
  if (useSelect) {
    const options = [{ label: 'Select an account…', value: '' }, ...listed.map((name) => ({ label: name, value: name })), { label: 'Other (type a name or SpEL)…', value: OTHER_ACCOUNT }];
    return (
      <Field
        name="payload.account"
        label="Account"
        help={help}
        input={(props) => (
          <SelectInput
            {...props}
            aria-label="Account"
            options={options}
            onChange={(event: React.ChangeEvent<HTMLSelectElement>) => {
              if (event.target.value === OTHER_ACCOUNT) {
                setFreeText(true);
                formik.setFieldValue('payload.account', '');
              } else if (props.onChange) props.onChange(event);
            }}
          />
        )}
      />
    );
  }
  const note = accounts ? accounts.error : 'Loading Kubernetes accounts…';
  return (
    <>
      <Field name="payload.account" label="Account" help={help} input={textInput({ 'aria-label': 'Account', placeholder: 'e.g. prod-k8s or ${trigger.parameters.account}' })} />
      <div className="its-note" data-testid="account-note">
        {note}
        {listed.length > 0 && (
          <button type="button" className="btn btn-link btn-sm" onClick={() => { setFreeText(false); formik.setFieldValue('payload.account', ''); }}>
            Choose from the {listed.length} Kubernetes accounts
          </button>
        )}
      </div>
    </>
  );
}

export function BasicsSection({ formik, accounts }: { formik: StageFormik; accounts?: AccountsResult }) {
  const account = String(getIn(formik.values, 'payload.account') || '');
  const namespaces = (accounts && accounts.namespaces[account]) || [];
  return (
    <>
      <Presets formik={formik} />
      <AccountField formik={formik} accounts={accounts} />
      <Field
        name="payload.namespace"
        label="Namespace"
        help={<HelpField content="The namespace of the VirtualService. SpEL is allowed." />}
        input={textInput({ 'aria-label': 'Namespace', list: 'its-namespaces', placeholder: 'e.g. shop' })}
      />
      <Datalist id="its-namespaces" values={namespaces} />
      <Field
        name="payload.virtualService"
        label="VirtualService"
        help={<HelpField content="The Istio VirtualService whose route to shift. SpEL is allowed." />}
        input={textInput({ 'aria-label': 'VirtualService', placeholder: 'e.g. checkout' })}
      />
    </>
  );
}
