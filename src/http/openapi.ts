/**
 * The OpenAPI 3.1 description of the handler, served at `/api/openapi.json`. A test checks that
 * every route of the app is described here and that nothing here lacks a route.
 */

import { jobAndEventPaths } from './openapi-jobs.js';
import {
  BAD,
  COMPONENTS,
  error,
  jsonBody,
  NO_BODY,
  NOT_FOUND,
  type Operation,
  object,
  ok,
  PUBLIC,
  path,
  query,
  ref,
  type Schema,
  UNKNOWN_QUEUE,
  WRITE_ERRORS,
  withAuthenticatedErrors,
} from './openapi-parts.js';

/** The parts of an OpenAPI 3.1 document this handler uses. */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  paths: Record<string, Partial<Record<'get' | 'post' | 'delete', Operation>>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, Schema> };
  security: Record<string, string[]>[];
}

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
    paths: withAuthenticatedErrors({
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
      ...jobAndEventPaths(),
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
          description:
            'A queue no job, setting or published task uses is refused with 404 (a typo would pause nothing); ' +
            'send {"force": true} to pause a queue before its first job.',
          tags: ['queues'],
          parameters: [path('name', 'queue name')],
          requestBody: {
            required: false,
            content: jsonBody({
              ...object({ force: { type: 'boolean', default: false } }),
              additionalProperties: false,
            }),
          },
          responses: {
            '200': ok(
              'paused',
              object({ queue: { type: 'string' }, paused: { const: true }, changed: { type: 'boolean' } }),
            ),
            ...BAD,
            ...UNKNOWN_QUEUE,
            ...WRITE_ERRORS,
            '415': error('a body that is not application/json'),
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
            ...UNKNOWN_QUEUE,
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
          responses: {
            '201': ok('the job', object({ job: ref('Job') })),
            ...NO_BODY,
            ...NOT_FOUND,
            ...WRITE_ERRORS,
          },
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
            ...NO_BODY,
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
            ...NO_BODY,
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
    }),
    components: COMPONENTS,
  };
}
