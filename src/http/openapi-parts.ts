/**
 * Building blocks of the OpenAPI document (openapi.ts): its types, small constructors, the
 * shared error answers and the component schemas.
 */

import { JOB_STATES, type JobRecord } from '../index.js';

export type Schema = Record<string, unknown>;
export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  /** With `style: 'form'`: the parameter may be repeated (`?state=a&state=b`). */
  explode?: boolean;
  style?: 'form';
  description?: string;
  schema: Schema;
}
export interface Operation {
  summary: string;
  description?: string;
  tags: string[];
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { required: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }>;
}

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
export const jsonBody = (schema: Schema) => ({ 'application/json': { schema } });
export const ok = (description: string, schema: Schema) => ({ description, content: jsonBody(schema) });
export const error = (description: string) => ({ description, content: jsonBody(ref('Error')) });
/**
 * A list query parameter: repeated (`?state=a&state=b`) or comma-separated. The only parameters
 * that may be repeated: the handler refuses any other one given twice (`explode` is what it reads).
 */
export const listQuery = (name: string): Parameter => ({
  name,
  in: 'query',
  style: 'form',
  explode: true,
  description: 'one value, several comma-separated, or the parameter repeated',
  schema: { type: 'array', items: { type: 'string' } },
});
export const path = (name: string, description: string): Parameter => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string' },
});
export const query = (name: string, schema: Schema, description?: string): Parameter => ({
  name,
  in: 'query',
  schema,
  ...(description && { description }),
});
export const object = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  properties,
  required,
});
export const WRITE_ERRORS = {
  '401': error('no or invalid credentials'),
  '403': error('read-only mode, not allowed, or CSRF check failed'),
};
export const NOT_FOUND = { '404': error('no such job or schedule') };
/** Pause/resume of a queue nothing uses (api/operations.ts). */
export const UNKNOWN_QUEUE = {
  '404': error(
    'JOBWIRE_QUEUE_NOT_FOUND: no job, setting or published task uses the queue (details.suggestion, details.known)',
  ),
};
export const BAD = {
  '400': error(
    'a parameter has the wrong type or value, or is one this route does not read, or a single-valued one is repeated (details.field names it)',
  ),
};
/** Routes that read no body (api/params.ts `refuseBody`): a field sent anyway is a 400. */
export const NO_BODY = {
  '400': error(
    'this route takes no body: anything but none or {} is refused (details.field names the field)',
  ),
};
export const PUBLIC: Record<string, string[]>[] = [];
/** Answers every operation behind authentication can give, whatever its route does. */
const AUTHENTICATED_ERRORS = {
  '401': error('no or invalid credentials (JOBWIRE_HTTP_UNAUTHORIZED, with a WWW-Authenticate challenge)'),
  '503': error('the job store is unavailable right now; retry later'),
};

/**
 * `paths` with the 401 and 503 of every operation that needs credentials added where the route
 * does not list them: a client that checks answers against the document meets them on read
 * routes too (a GET without a token is a 401 like a POST).
 */
export function withAuthenticatedErrors<P extends Record<string, Partial<Record<string, Operation>>>>(
  paths: P,
): P {
  for (const operations of Object.values(paths)) {
    for (const operation of Object.values(operations)) {
      if (!operation || operation.security === PUBLIC) continue;
      operation.responses = { ...operation.responses };
      for (const [status, answer] of Object.entries(AUTHENTICATED_ERRORS))
        operation.responses[status] ??= answer;
    }
  }
  return paths;
}
const nameOrList: Schema = {
  oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }],
};
/** The body of the bulk routes: at least one filter, or `all: true` (never both). */
export const filterBody: Schema = {
  ...object({ state: nameOrList, queue: nameOrList, task: nameOrList, all: { type: 'boolean' } }),
  description:
    'At least one of state, queue, task; or {"all": true} to act on every job the action applies to. ' +
    'An empty object is refused (400), so a client that dropped its filters cannot act on every job.',
  additionalProperties: false,
  minProperties: 1,
};

/** An object schema that, as the server does, refuses properties it does not list. */
const closed = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  ...object(properties, required),
  additionalProperties: false,
});
const DATE_TIME: Schema = { type: 'string', format: 'date-time' };
const NULLABLE_DATE_TIME: Schema = { type: ['string', 'null'], format: 'date-time' };
/** Every field of a job: all of them are always present (null when they do not apply). */
const JOB_FIELDS: (keyof JobRecord)[] = [
  'id',
  'task',
  'queue',
  'payload',
  'state',
  'priority',
  'attempt',
  'maxAttempts',
  'interruptions',
  'runAt',
  'createdAt',
  'startedAt',
  'finishedAt',
  'leaseExpiresAt',
  'poolId',
  'result',
  'errors',
  'progress',
  'uniqueKey',
  'dedup',
  'concurrencyKey',
  'correlationId',
  'metadata',
  'timeoutMs',
  'backoff',
];

/** The `components` of the document: security schemes and shared schemas. */
export const COMPONENTS = {
  securitySchemes: {
    bearer: { type: 'http', scheme: 'bearer' },
    basic: { type: 'http', scheme: 'basic' },
    session: { type: 'apiKey', in: 'cookie', name: 'jobwire_session' },
  },
  schemas: {
    Error: object(
      {
        error: object(
          { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' } },
          ['code', 'message'],
        ),
      },
      ['error'],
    ),
    Readiness: object({
      status: { enum: ['ready', 'not-ready'] },
      reasons: { type: 'array', items: { type: 'string' } },
      schema: object({ current: { type: 'integer' }, latest: { type: 'integer' } }),
    }),
    JobSummary: object({
      id: { type: 'string' },
      task: { type: 'string' },
      queue: { type: 'string' },
      state: ref('JobState'),
      priority: { type: 'integer' },
      attempt: { type: 'integer' },
      maxAttempts: { type: 'integer' },
      runAt: { type: 'string', format: 'date-time' },
      createdAt: { type: 'string', format: 'date-time' },
      startedAt: { type: ['string', 'null'] },
      finishedAt: { type: ['string', 'null'] },
      lastError: { type: ['object', 'null'] },
    }),
    Job: {
      ...object(
        {
          id: { type: 'string' },
          task: { type: 'string' },
          queue: { type: 'string' },
          payload: { description: 'any JSON value' },
          state: ref('JobState'),
          priority: { type: 'integer' },
          attempt: { type: 'integer', description: 'attempts started (0 before the first)' },
          maxAttempts: { type: 'integer' },
          interruptions: { type: 'integer', description: 'attempts cut off by a shutdown or a crash' },
          runAt: DATE_TIME,
          createdAt: DATE_TIME,
          startedAt: NULLABLE_DATE_TIME,
          finishedAt: NULLABLE_DATE_TIME,
          leaseExpiresAt: NULLABLE_DATE_TIME,
          poolId: { type: ['string', 'null'] },
          result: { description: 'any JSON value; null until completed' },
          errors: { type: 'array', items: ref('StoredError') },
          progress: { description: 'the last progress reported, any JSON value, or null' },
          uniqueKey: { type: ['string', 'null'] },
          dedup: { type: ['object', 'null'], description: 'the dedup rule (unique, throttle, debounce)' },
          concurrencyKey: { type: ['string', 'null'] },
          correlationId: { type: 'string' },
          metadata: { type: 'object' },
          timeoutMs: { type: ['integer', 'null'] },
          backoff: { type: ['object', 'null'] },
        },
        JOB_FIELDS,
      ),
      additionalProperties: false,
    },
    StoredError: {
      ...object(
        {
          name: { type: 'string' },
          message: { type: 'string' },
          stack: { type: 'string' },
          attempt: { type: 'integer' },
          at: { type: 'integer', description: 'epoch milliseconds' },
          interrupted: { const: true, description: 'the attempt was cut off (a shutdown, a crash)' },
        },
        ['name', 'message', 'attempt', 'at'],
      ),
      additionalProperties: false,
    },
    JobState: { enum: [...JOB_STATES] },
    EnqueueRequest: closed(
      {
        task: { type: 'string' },
        payload: {},
        options: closed({
          queue: { type: 'string' },
          priority: { type: 'integer' },
          maxAttempts: { type: 'integer' },
          timeoutMs: { type: 'integer' },
          backoff: { type: 'object' },
          runAt: {
            oneOf: [{ type: 'string', format: 'date-time' }, { type: 'integer' }],
            description: 'an ISO 8601 date-time with Z or an offset, or epoch milliseconds as a JSON number',
          },
          delayMs: { type: 'integer' },
          uniqueKey: { type: 'string' },
          correlationId: { type: 'string' },
          metadata: { type: 'object' },
        }),
      },
      ['task'],
    ),
    BulkResult: object({ count: { type: 'integer' }, skipped: { type: 'integer' } }),
    Queue: object({
      name: { type: 'string' },
      paused: { type: 'boolean' },
      counts: { type: 'object', additionalProperties: { type: 'integer' } },
      precision: {
        type: 'object',
        description: 'per state: exact, atLeast (counting stopped at the cap) or estimate (docs/counts.md)',
        additionalProperties: { type: 'string', enum: ['exact', 'atLeast', 'estimate'] },
      },
    }),
    Event: object({
      type: { type: 'string' },
      data: { type: 'object' },
      at: { type: 'integer' },
      cursor: { type: 'string' },
    }),
  },
};
