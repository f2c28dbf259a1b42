import { FAILURE_REASONS, PROBLEM_CODES, RESTART_TIME_HEADER, ROLLBACK_RESULTS, SHIFT_PHASES, STEP_RESULTS, shiftSpecJsonSchema } from '@istio-shift/core';

/** The OpenAPI 3 document the service serves at /openapi.json. */
export function openApiDocument(baseUrl: string): Record<string, unknown> {
  const error = { $ref: '#/components/responses/Error' };
  const shiftParams = ['account', 'namespace', 'virtualService', 'id'].map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
  const status = { description: 'The shift', content: { 'application/json': { schema: { $ref: '#/components/schemas/ShiftStatus' } } } };
  return {
    // 3.1: its schema objects are JSON Schema, so the create body's schema is the generated one as it is.
    openapi: '3.1.0',
    info: { title: 'Istio Traffic Shift stage service', version: '0.1.0', description: 'Shifts Istio VirtualService route weights in steps; called by Spinnaker Orca webhook stages.' },
    servers: [{ url: baseUrl }],
    security: [{ bearer: [] }],
    paths: {
      '/v1/shifts': {
        post: {
          summary: 'Start a shift (idempotent for the same executionId, stageRef and restart time)',
          parameters: [{ name: RESTART_TIME_HEADER, in: 'header', required: false, description: "Orca's restart time of the stage (epoch ms) or null; replaces the body's restartedAt (docs/orca.md, Restart stage)", schema: { type: 'string', pattern: '^(\\d{1,16}|null)$' } }],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ShiftSpec' } } } },
          responses: {
            '202': { ...status, description: 'Started; Location holds the absolute status URL', headers: { Location: { schema: { type: 'string', format: 'uri' } } } },
            '200': { ...status, description: 'A retried create: the existing shift' },
            '400': error, '401': error, '403': error, '404': error, '409': error, '413': error, '422': error, '503': error,
          },
        },
      },
      '/v1/shifts/{account}/{namespace}/{virtualService}/{id}': {
        get: { summary: 'Status of a shift: a poll, which renews its watch lease and advances it when a pause has ended', parameters: shiftParams, responses: { '200': status, '400': error, '401': error, '403': error, '404': error, '409': error, '503': error } },
      },
      '/v1/metrics-sources': {
        get: { summary: "The metrics sources (names, never addresses) that the token's accounts may use in an analysis block", responses: { '200': { description: '{"sources": [{"name", "type", "accounts"}]}' }, '401': error } },
      },
      '/v1/shifts/rejected/cancel': {
        post: { summary: "The cancelUrl of a rejected create's answer: does nothing (Orca calls cancelUrl after every TERMINAL stage)", responses: { '200': { description: 'nothing to cancel' }, '401': error } },
      },
      '/v1/shifts/{account}/{namespace}/{virtualService}/{id}/cancel': {
        post: { summary: 'Cancel a shift: restores the weights from before the first step (or holds). Idempotent; a no-op for ended or unknown shifts.', parameters: shiftParams, responses: { '200': status, '400': error, '401': error, '403': error, '409': error, '503': error } },
      },
      '/healthz': { get: { summary: 'Liveness (no authentication)', security: [], responses: { '200': { description: 'alive' } } } },
      '/readyz': { get: { summary: 'Readiness (no authentication)', security: [], responses: { '200': { description: 'ready' }, '503': { description: 'starting, stopping, or an account\'s API server unreachable (named in the message)' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format' }, '401': error } } },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      responses: {
        Error: {
          description: 'An error; message says what to fix, problems lists each invalid field',
          content: { 'application/json': { schema: { type: 'object', properties: { error: { type: 'object', properties: { status: { type: 'integer' }, code: { type: 'string' }, message: { type: 'string' }, problems: { type: 'array', items: { $ref: '#/components/schemas/Problem' } } } } } } } },
        },
      },
      schemas: {
        // Generated from the validator's rules (core spec-schema.ts): it cannot drift from what a create accepts.
        ShiftSpec: shiftSpecJsonSchema(),
        Problem: {
          type: 'object',
          required: ['field', 'message'],
          properties: {
            field: { type: 'string', description: 'the path of the field, e.g. steps[1].weights[2]' },
            message: { type: 'string', description: 'what to fix, in English (may be reworded between versions)' },
            code: { type: 'string', enum: [...PROBLEM_CODES], description: 'stable: what is wrong; word the problem from this and params, not from message' },
            params: { type: 'object', description: 'the numbers and names of the problem, by code (e.g. out_of_range: got, min, max)' },
          },
        },
        ShiftStatus: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            status: { type: 'string', enum: [...SHIFT_PHASES] },
            message: { type: 'string' },
            percentComplete: { type: 'integer' },
            statusUrl: { type: 'string', format: 'uri' },
            cancelUrl: { type: 'string', format: 'uri' },
            currentStep: { type: 'integer' },
            totalSteps: { type: 'integer' },
            currentWeights: { type: 'array', items: { type: 'integer' } },
            originalWeights: { type: 'array', items: { type: 'integer' } },
            steps: { type: 'array', items: { type: 'object' } },
            failure: { type: 'object', properties: { reason: { type: 'string', enum: [...FAILURE_REASONS] }, message: { type: 'string' } } },
            rollback: { type: 'object', properties: { result: { type: 'string', enum: [...ROLLBACK_RESULTS] }, message: { type: 'string' } } },
            analysis: {
              type: 'object',
              description: 'the latest analysis judgement (each step\'s in steps[i].analysis)',
              properties: { score: { type: 'number' }, result: { type: 'string', enum: [...STEP_RESULTS] }, step: { type: 'integer' } },
            },
            restartedAt: { type: 'integer' },
            attempts: { type: 'array', description: 'every attempt of this Orca stage (Restart stage), oldest first', items: { type: 'object', properties: { id: { type: 'string' }, restartedAt: { type: 'integer' }, status: { type: 'string', enum: [...SHIFT_PHASES] }, message: { type: 'string' } } } },
            watch: { type: 'object', properties: { abandonAfterSeconds: { type: 'integer' }, lastPolledAt: { type: 'string', format: 'date-time' } } },
          },
        },
      },
    },
  };
}
