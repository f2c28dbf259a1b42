/** Which route of the VirtualService to shift: HTTP by name or index, TLS/TCP by port or index. */
import React from 'react';
import { HelpField, SelectInput } from '@spinnaker/core';
import { RouteDraft } from '../model';
import { Field, GroupMessage, StageFormik, getIn, textInput } from './fields';

export function RouteSection({ formik }: { formik: StageFormik }) {
  const route = (getIn(formik.values, 'payload.route') || { protocol: 'http' }) as RouteDraft;
  const protocol = ['http', 'tls', 'tcp'].includes(route.protocol) ? route.protocol : 'http';
  const by = route.index !== undefined && route.index !== '' ? 'index' : protocol === 'http' ? 'name' : 'port';
  const setRoute = (next: RouteDraft) => formik.setFieldValue('payload.route', next);
  const byOptions = protocol === 'http' ? ['name', 'index'] : ['port', 'index'];
  return (
    <div className="its-route">
      <Field
        name="payload.route.protocol"
        label="Route"
        help={<HelpField content="An HTTP route by name (it survives reordering) or position; TLS and TCP routes have no name: by the port of one of their match blocks, or position." />}
        input={(props) => (
          <SelectInput
            {...props}
            aria-label="Route protocol"
            options={[{ label: 'HTTP', value: 'http' }, { label: 'TLS', value: 'tls' }, { label: 'TCP', value: 'tcp' }]}
            onChange={(event: React.ChangeEvent<HTMLSelectElement>) => {
              const next = event.target.value;
              setRoute(next === 'http' ? { protocol: next, name: '' } : { protocol: next, port: '' });
            }}
          />
        )}
      />
      <div className="sp-formItem">
        <div className="sp-formItem__left" />
        <div className="sp-formItem__right its-route-by">
          <label className="its-inline-label">
            by{' '}
            <select
              className="form-control input-sm its-route-by-select"
              aria-label="Select the route by"
              value={by}
              onChange={(event) => {
                const next = event.target.value;
                setRoute(next === 'name' ? { protocol, name: '' } : next === 'port' ? { protocol, port: '' } : { protocol, index: 0 });
              }}
            >
              {byOptions.map((option) => (
                <option key={option} value={option}>
                  {option}
                </option>
              ))}
            </select>
          </label>
          {by === 'name' && <Field cell name="payload.route.name" input={textInput({ 'aria-label': 'Route name', placeholder: 'e.g. primary' })} />}
          {by === 'port' && <Field cell name="payload.route.port" input={textInput({ 'aria-label': 'Route port', placeholder: 'e.g. 443' }, formik)} />}
          {by === 'index' && <Field cell name="payload.route.index" input={textInput({ 'aria-label': 'Route index', placeholder: '0' }, formik)} />}
        </div>
      </div>
      <GroupMessage
        formik={formik}
        path="payload.route"
        testId="route-message"
        touchedPaths={['payload.route.name', 'payload.route.index', 'payload.route.port']}
      />
    </div>
  );
}
