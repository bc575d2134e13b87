/** The OpenAPI paths of `/api/jobs` and of the event log (see openapi.ts). */
import { JOB_LIST_SCAN_CAP } from '../index.js';
import {
  BAD,
  error,
  filterBody,
  jsonBody,
  listQuery,
  NO_BODY,
  NOT_FOUND,
  type Operation,
  object,
  ok,
  path,
  query,
  ref,
  WRITE_ERRORS,
} from './openapi-parts.js';

/** Paths of the jobs and events routes. */
export function jobAndEventPaths(): Record<string, Partial<Record<'get' | 'post' | 'delete', Operation>>> {
  return {
    '/api/jobs': {
      get: {
        summary: 'List jobs, newest first, with filters and cursor paging',
        description:
          `Each request reads at most ${JOB_LIST_SCAN_CAP.toLocaleString('en-US')} jobs below the cursor, newest first. ` +
          'When the page has not filled by then, it holds the matches found, fewer than `limit` and ' +
          'possibly none, and `nextCursor` continues right below the last job read: older jobs may ' +
          'still match. Only a null `nextCursor` means that no older job matches.',
        tags: ['jobs'],
        parameters: [
          listQuery('state'),
          listQuery('queue'),
          listQuery('task'),
          query('limit', { type: 'integer', minimum: 1, maximum: 200, default: 50 }),
          query('cursor', { type: 'string' }, 'nextCursor of the previous page'),
        ],
        responses: {
          '200': ok(
            'a page of jobs; it may be short, even empty, and still have a nextCursor',
            object({
              jobs: { type: 'array', items: ref('JobSummary') },
              nextCursor: {
                type: ['string', 'null'],
                description: 'pass as `cursor` for the next (older) page; null when no older job matches',
              },
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
        description: 'At least one of state, queue, task, or {"all": true}; an empty body is a 400.',
        tags: ['jobs'],
        requestBody: { required: true, content: jsonBody(filterBody) },
        responses: { '200': ok('what changed', ref('BulkResult')), ...BAD, ...WRITE_ERRORS },
      },
    },
    '/api/jobs/cancel': {
      post: {
        summary: 'Cancel every job matching a filter (scheduled, pending, running by default)',
        description: 'At least one of state, queue, task, or {"all": true}; an empty body is a 400.',
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
        description:
          "In any state (a running job's worker is fenced off). Stores and emits `job:deleted` " +
          '(`previousState`: the state it was in) and the events of what the delete did to its dependents.',
        parameters: [path('id', 'job id')],
        responses: {
          '200': ok('deleted', object({ deleted: { const: true } })),
          ...NO_BODY,
          ...NOT_FOUND,
          ...WRITE_ERRORS,
        },
      },
    },
    '/api/jobs/{id}/events': {
      get: {
        summary: "The job's events from the durable log, oldest first",
        tags: ['jobs', 'events'],
        description:
          'A job deleted by hand or by retention keeps its events until the log is pruned: its timeline is ' +
          'still served. 404 only when there is neither such a job nor any event of it.',
        parameters: [path('id', 'job id'), query('limit', { type: 'integer', minimum: 1, maximum: 1000 })],
        responses: {
          '200': ok('the timeline', object({ events: { type: 'array', items: ref('Event') } })),
          ...BAD,
          '404': error('no such job, and no event of it in the log'),
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
          ...NO_BODY,
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
          ...NO_BODY,
          ...NOT_FOUND,
          ...WRITE_ERRORS,
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
          listQuery('type'),
          listQuery('queue'),
          listQuery('job'),
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
          listQuery('type'),
          listQuery('queue'),
          listQuery('job'),
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
  };
}
