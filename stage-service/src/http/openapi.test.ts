/**
 * The OpenAPI document restates nothing by hand: the create body's schema is the one generated from
 * the validator's rules, and the status words are the contract's (core contract.ts).
 */
import { FAILURE_REASONS, PROBLEM_CODES, ROLLBACK_RESULTS, SHIFT_PHASES, STEP_RESULTS, shiftSpecJsonSchema } from '@istio-shift/core';
import { openApiDocument } from './openapi';

describe('the OpenAPI document', () => {
  const document = openApiDocument('http://service.test') as any;
  const schemas = document.components.schemas;

  it('serves the generated spec schema as the create body', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(schemas.ShiftSpec).toEqual(shiftSpecJsonSchema());
    expect(document.paths['/v1/shifts'].post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ShiftSpec' });
  });

  it('lists the contract\'s phases, failure reasons, rollback and judgement results and problem codes', () => {
    expect(schemas.ShiftStatus.properties.status.enum).toEqual([...SHIFT_PHASES]);
    expect(schemas.ShiftStatus.properties.failure.properties.reason.enum).toEqual([...FAILURE_REASONS]);
    expect(schemas.ShiftStatus.properties.rollback.properties.result.enum).toEqual([...ROLLBACK_RESULTS]);
    expect(schemas.ShiftStatus.properties.analysis.properties.result.enum).toEqual([...STEP_RESULTS]);
    expect(schemas.Problem.properties.code.enum).toEqual([...PROBLEM_CODES]);
  });
});
