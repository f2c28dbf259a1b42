/** The destinations table: one row per destination of the route to weigh. */
import React from 'react';
import { HelpField } from '@spinnaker/core';
import { LIMITS } from '@istio-shift/core';
import { PayloadDraft, addDestination, destinationTitle, removeDestination } from '../model';
import type { LiveLookup } from '../live';
import { AddRowButton, Datalist, Field, GroupMessage, RemoveButton, StageFormik, getIn, hasGroupMessage, textInput } from './fields';

const HELP =
  `The route's destinations to weigh (at most ${LIMITS.maxDestinations}); a short host (checkout) matches checkout.<namespace>.svc.cluster.local. ` +
  'Missing ones are added; unlisted ones are an error unless "Remove unlisted destinations" is on.';

export function DestinationsSection({ formik, live }: { formik: StageFormik; live?: LiveLookup }) {
  const payload = getIn(formik.values, 'payload') as PayloadDraft;
  const destinations = payload.destinations || [];
  const loaded = live && live.state === 'loaded' ? live.live : { hosts: [], subsets: [] };
  const { hosts, subsets } = loaded;
  return (
    <div className="its-section">
      <h5 className="its-heading">
        Destinations <HelpField content={HELP} />
      </h5>
      <table className="table table-condensed its-table" aria-label="Destinations">
        <thead>
          <tr>
            <th>Host</th>
            <th>Subset</th>
            <th>Port</th>
            <th>Label</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {destinations.map((destination, i) => (
            <React.Fragment key={i}>
              <tr data-testid={`destination-row-${i}`}>
                <td>
                  <Field cell name={`payload.destinations[${i}].host`} input={textInput({ 'aria-label': `Host of destination ${i + 1}`, placeholder: 'checkout', list: 'its-live-hosts' })} />
                </td>
                <td>
                  <Field cell name={`payload.destinations[${i}].subset`} input={textInput({ 'aria-label': `Subset of destination ${i + 1}`, placeholder: 'canary', list: 'its-live-subsets' })} />
                </td>
                <td className="its-narrow">
                  <Field cell name={`payload.destinations[${i}].port`} input={textInput({ 'aria-label': `Port of destination ${i + 1}` }, formik)} />
                </td>
                <td>
                  <Field cell name={`payload.destinations[${i}].label`} input={textInput({ 'aria-label': `Label of destination ${i + 1}`, placeholder: destinationTitle({ ...destination, label: '' }, i) })} />
                </td>
                <td className="its-actions">
                  <RemoveButton label={`Remove destination ${i + 1}`} disabled={destinations.length <= 1} onClick={() => formik.setFieldValue('payload', removeDestination(payload, i))} />
                </td>
              </tr>
              {hasGroupMessage(formik, `payload.destinations[${i}]`) && (
                <tr>
                  <td colSpan={5}>
                    <GroupMessage formik={formik} path={`payload.destinations[${i}]`} />
                  </td>
                </tr>
              )}
            </React.Fragment>
          ))}
        </tbody>
      </table>
      <GroupMessage formik={formik} path="payload.destinations" />
      <AddRowButton label="Add destination" disabled={destinations.length >= LIMITS.maxDestinations} onClick={() => formik.setFieldValue('payload', addDestination(payload))} />
      <Datalist id="its-live-hosts" values={hosts} />
      <Datalist id="its-live-subsets" values={subsets} />
    </div>
  );
}
