/**
 * The OpenAPI 3.1 description of the handler, served at `/api/openapi.json`. A test checks that
 * every route of the app is described here and that nothing here lacks a route.
 */

type Schema = Record<string, unknown>;
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  description?: string;
  schema: Schema;
}
interface Operation {
  summary: string;
  tags: string[];
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { required: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }>;
}
/** The parts of an OpenAPI 3.1 document this handler uses. */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  paths: Record<string, Partial<Record<'get' | 'post' | 'delete', Operation>>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, Schema> };
  security: Record<string, string[]>[];
}

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const jsonBody = (schema: Schema) => ({ 'application/json': { schema } });
const ok = (description: string, schema: Schema) => ({ description, content: jsonBody(schema) });
const error = (description: string) => ({ description, content: jsonBody(ref('Error')) });
const list: Schema = {
  type: 'string',
  description: 'one value, several comma-separated, or the parameter repeated',
};
const path = (name: string, description: string): Parameter => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string' },
});
const query = (name: string, schema: Schema, description?: string): Parameter => ({
  name,
  in: 'query',
  schema,
  ...(description && { description }),
});
const object = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  properties,
  required,
});
const WRITE_ERRORS = {
  '401': error('no or invalid credentials'),
  '403': error('read-only mode, not allowed, or CSRF check failed'),
};
const NOT_FOUND = { '404': error('no such job or schedule') };
const BAD = { '400': error('a parameter has the wrong type or value (details.field names it)') };
const PUBLIC: Record<string, string[]>[] = [];
const filterBody = object({ state: {}, queue: {}, task: {} });

/** The document for a handler served under `basePath`. */
export function openApiDocument(basePath: string, version: string): OpenApiDocument {
  return {
    openapi: '3.1.0',
    info: {
      title: 'jobwire HTTP API',
      version,
      description:
        'Jobs, queues, schedules, workers, statistics and the durable event log of a jobwire database. Errors are ' +
        'always JSON { error: { code, message, details? } }. Browser requests that change state need header ' +
        'x-jobwire-csrf; requests with Authorization: Bearer do not. See docs/http.md.',
    },
    servers: [{ url: basePath || '/' }],
    security: [{ bearer: [] }, { basic: [] }, { session: [] }],
    paths: {
      '/healthz': {
        get: {
          summary: 'Liveness: the process answers',
          tags: ['health'],
          security: PUBLIC,
          responses: {
            '200': ok('alive', object({ status: { const: 'ok' }, uptimeMs: { type: 'integer' } })),
          },
        },
      },
      '/readyz': {
        get: {
          summary: 'Readiness: database reachable, schema current, thresholds hold',
          tags: ['health'],
          security: PUBLIC,
          responses: {
            '200': ok('ready', ref('Readiness')),
            '503': ok('not ready, with reasons', ref('Readiness')),
          },
        },
      },
      '/login': {
        get: {
          summary: 'Sign-in page; with ?token= sets the session cookie and redirects',
          tags: ['session'],
          security: PUBLIC,
          parameters: [
            query('token', { type: 'string' }),
            query('next', { type: 'string' }, 'a path under the base path'),
          ],
          responses: {
            '200': { description: 'the sign-in form (HTML)' },
            '303': { description: 'signed in: redirect to next' },
            '401': { description: 'wrong token (HTML form)' },
          },
        },
        post: {
          summary: 'Sign in with the form (token, csrf, next)',
          tags: ['session'],
          security: PUBLIC,
          requestBody: {
            required: true,
            content: {
              'application/x-www-form-urlencoded': {
                schema: object(
                  { token: { type: 'string' }, csrf: { type: 'string' }, next: { type: 'string' } },
                  ['token', 'csrf'],
                ),
              },
            },
          },
          responses: {
            '303': { description: 'signed in: redirect to next' },
            '401': { description: 'wrong token (HTML form)' },
            '403': error('CSRF check failed'),
          },
        },
      },
      '/logout': {
        post: {
          summary: 'End the browser session',
          tags: ['session'],
          responses: { '303': { description: 'signed out: redirect to /login' } },
        },
      },
      '/api/openapi.json': {
        get: {
          summary: 'This document',
          tags: ['meta'],
          responses: { '200': ok('OpenAPI 3.1', { type: 'object' }) },
        },
      },
      '/api/jobs': {
        get: {
          summary: 'List jobs, newest first, with filters and cursor paging',
          tags: ['jobs'],
          parameters: [
            query('state', list),
            query('queue', list),
            query('task', list),
            query('limit', { type: 'integer', minimum: 1, maximum: 200, default: 50 }),
            query('cursor', { type: 'string' }, 'nextCursor of the previous page'),
          ],
          responses: {
            '200': ok(
              'a page',
              object({
                jobs: { type: 'array', items: ref('JobSummary') },
                nextCursor: { type: ['string', 'null'] },
              }),
            ),
            ...BAD,
          },
        },
        post: {
          summary: "Enqueue a job (the HTTP trigger); the payload is validated by the task's schema",
          tags: ['jobs'],
          requestBody: { required: true, content: jsonBody(ref('EnqueueRequest')) },
          responses: {
            '201': ok('enqueued', object({ job: ref('Job'), duplicate: { const: false } })),
            '200': ok(
              'a job with the same uniqueKey is active: that job',
              object({ job: ref('Job'), duplicate: { const: true } }),
            ),
            ...BAD,
            ...WRITE_ERRORS,
            '413': error('the body or the payload is too large'),
            '415': error('not application/json'),
            '422': error('unknown task, or the payload fails its schema (details.issues)'),
            '429': error('the queue is full'),
          },
        },
      },
      '/api/jobs/retry': {
        post: {
          summary: 'Retry every job matching a filter (abandoned and cancelled by default)',
          tags: ['jobs'],
          requestBody: { required: true, content: jsonBody(filterBody) },
          responses: { '200': ok('what changed', ref('BulkResult')), ...BAD, ...WRITE_ERRORS },
        },
      },
      '/api/jobs/cancel': {
        post: {
          summary: 'Cancel every job matching a filter (scheduled, pending, running by default)',
          tags: ['jobs'],
          requestBody: { required: true, content: jsonBody(filterBody) },
          responses: { '200': ok('what changed', ref('BulkResult')), ...BAD, ...WRITE_ERRORS },
        },
      },
      '/api/jobs/{id}': {
        get: {
          summary: "One job: payload, result, every attempt's error and stack",
          tags: ['jobs'],
          parameters: [path('id', 'job id')],
          responses: { '200': ok('the job', object({ job: ref('Job') })), ...NOT_FOUND },
        },
        delete: {
          summary: 'Delete a job',
          tags: ['jobs'],
          parameters: [path('id', 'job id')],
          responses: {
            '200': ok('deleted', object({ deleted: { const: true } })),
            ...NOT_FOUND,
            ...WRITE_ERRORS,
          },
        },
      },
      '/api/jobs/{id}/events': {
        get: {
          summary: "The job's events from the durable log, oldest first",
          tags: ['jobs', 'events'],
          parameters: [path('id', 'job id'), query('limit', { type: 'integer', minimum: 1, maximum: 1000 })],
          responses: {
            '200': ok('the timeline', object({ events: { type: 'array', items: ref('Event') } })),
            ...BAD,
          },
        },
      },
      '/api/jobs/{id}/retry': {
        post: {
          summary: 'Run an abandoned, cancelled or completed job again',
          tags: ['jobs'],
          parameters: [path('id', 'job id')],
          responses: {
            '200': ok('the retried job', object({ job: ref('Job') })),
            ...NOT_FOUND,
            '409': error('the job is active'),
            ...WRITE_ERRORS,
          },
        },
      },
      '/api/jobs/{id}/cancel': {
        post: {
          summary: 'Cancel a job (false when it had already finished)',
          tags: ['jobs'],
          parameters: [path('id', 'job id')],
          responses: {
            '200': ok('done', object({ cancelled: { type: 'boolean' } })),
            ...NOT_FOUND,
            ...WRITE_ERRORS,
          },
        },
      },
      '/api/queues': {
        get: {
          summary: 'Queues with counts by state',
          tags: ['queues'],
          responses: { '200': ok('the queues', object({ queues: { type: 'array', items: ref('Queue') } })) },
        },
      },
      '/api/queues/{name}/pause': {
        post: {
          summary: 'Stop pools of every process from claiming the queue',
          tags: ['queues'],
          parameters: [path('name', 'queue name')],
          responses: {
            '200': ok(
              'paused',
              object({ queue: { type: 'string' }, paused: { const: true }, changed: { type: 'boolean' } }),
            ),
            ...BAD,
            ...WRITE_ERRORS,
          },
        },
      },
      '/api/queues/{name}/resume': {
        post: {
          summary: 'Let pools claim from the queue again',
          tags: ['queues'],
          parameters: [path('name', 'queue name')],
          responses: {
            '200': ok(
              'resumed',
              object({ queue: { type: 'string' }, paused: { const: false }, changed: { type: 'boolean' } }),
            ),
            ...BAD,
            ...WRITE_ERRORS,
          },
        },
      },
      '/api/schedules': {
        get: {
          summary: 'Every schedule',
          tags: ['schedules'],
          responses: {
            '200': ok('the schedules', object({ schedules: { type: 'array', items: { type: 'object' } } })),
          },
        },
      },
      '/api/schedules/{id}/trigger': {
        post: {
          summary: 'Enqueue one job of the schedule now',
          tags: ['schedules'],
          parameters: [path('id', 'schedule id')],
          responses: { '201': ok('the job', object({ job: ref('Job') })), ...NOT_FOUND, ...WRITE_ERRORS },
        },
      },
      '/api/schedules/{id}/pause': {
        post: {
          summary: 'Stop firing the schedule',
          tags: ['schedules'],
          parameters: [path('id', 'schedule id')],
          responses: {
            '200': ok(
              'paused',
              object({ schedule: { type: 'string' }, paused: { const: true }, changed: { type: 'boolean' } }),
            ),
            ...NOT_FOUND,
            ...WRITE_ERRORS,
          },
        },
      },
      '/api/schedules/{id}/resume': {
        post: {
          summary: 'Fire the schedule again from its next tick',
          tags: ['schedules'],
          parameters: [path('id', 'schedule id')],
          responses: {
            '200': ok(
              'resumed',
              object({
                schedule: { type: 'string' },
                paused: { const: false },
                changed: { type: 'boolean' },
              }),
            ),
            ...NOT_FOUND,
            ...WRITE_ERRORS,
          },
        },
      },
      '/api/workers': {
        get: {
          summary: 'Running pools of every process (their worker slots and jobs)',
          tags: ['workers'],
          responses: {
            '200': ok('the pools', object({ pools: { type: 'array', items: { type: 'object' } } })),
          },
        },
      },
      '/api/stats': {
        get: {
          summary: 'Per-queue statistics over a window',
          tags: ['stats'],
          parameters: [query('windowMs', { type: 'integer', minimum: 1000, default: 60000 })],
          responses: {
            '200': ok(
              'statistics',
              object({ windowMs: { type: 'integer' }, queues: { type: 'array', items: { type: 'object' } } }),
            ),
            ...BAD,
          },
        },
      },
      '/api/tasks': {
        get: {
          summary: 'Tasks this process runs and tasks workers published',
          tags: ['tasks'],
          responses: {
            '200': ok(
              'the tasks',
              object({
                registered: { type: 'array', items: { type: 'string' } },
                published: { type: 'array', items: { type: 'object' } },
              }),
            ),
          },
        },
      },
      '/api/events': {
        get: {
          summary: 'A page of the durable event log, in commit order',
          tags: ['events'],
          parameters: [
            query('after', { type: 'string', default: 'start' }, "a cursor, 'start' or 'now'"),
            query('limit', { type: 'integer', minimum: 1, maximum: 1000, default: 100 }),
            query('type', list),
            query('queue', list),
            query('job', list),
          ],
          responses: {
            '200': ok(
              'a page',
              object({
                events: { type: 'array', items: ref('Event') },
                cursor: { type: 'string' },
                more: { type: 'boolean' },
              }),
            ),
            ...BAD,
            '410': error('the cursor expired (events after it were pruned)'),
          },
        },
      },
      '/api/events/stream': {
        get: {
          summary:
            'The event log live as Server-Sent Events (id: = cursor; resume with Last-Event-ID; reset event on an expired cursor)',
          tags: ['events'],
          parameters: [
            { name: 'Last-Event-ID', in: 'header', schema: { type: 'string' } },
            query('after', { type: 'string', default: 'now' }),
            query('type', list),
            query('queue', list),
            query('job', list),
          ],
          responses: {
            '200': {
              description: 'text/event-stream',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            ...BAD,
          },
        },
      },
    },
    components: {
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
          type: 'object',
          description:
            'JobRecord: the JobSummary fields plus payload, result, errors (name, message, stack, attempt, at), progress, metadata, correlationId, uniqueKey…',
        },
        JobState: { enum: ['scheduled', 'pending', 'running', 'completed', 'abandoned', 'cancelled'] },
        EnqueueRequest: object(
          {
            task: { type: 'string' },
            payload: {},
            options: object({
              queue: { type: 'string' },
              priority: { type: 'integer' },
              maxAttempts: { type: 'integer' },
              timeoutMs: { type: 'integer' },
              backoff: { type: 'object' },
              runAt: { type: ['string', 'integer'] },
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
        }),
        Event: object({
          type: { type: 'string' },
          data: { type: 'object' },
          at: { type: 'integer' },
          cursor: { type: 'string' },
        }),
      },
    },
  };
}
