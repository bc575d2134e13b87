/**
 * `/api/jobs`: list, read, the job's event timeline, enqueue (the HTTP trigger), retry, cancel,
 * delete, and bulk retry/cancel by filter. Everything goes through the public client API.
 */
import type { Hono } from 'hono';
import {
  type EnqueueOptions,
  InvalidOptionError,
  type JobRecord,
  type JobState,
  type Jobwire,
} from '../../index.js';
import type { HttpEnv } from '../auth.js';
import { badRequest, HttpError } from '../errors.js';
import { json, readJson } from '../respond.js';
import { intParam, listParam, objectField, onlyKeys, refuseBody, stringOrList } from './params.js';

/** Largest page of `GET /api/jobs`. */
export const MAX_JOBS_PAGE = 200;

/** A job in a list: no payload, result or stacks (read one job for those). */
export interface JobSummary {
  id: string;
  task: string;
  queue: string;
  state: JobState;
  priority: number;
  attempt: number;
  maxAttempts: number;
  runAt: Date;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  lastError: { name: string; message: string; at: number } | null;
}

/** `job` as a list shows it. */
export function summary(job: JobRecord): JobSummary {
  const last = job.errors[job.errors.length - 1];
  return {
    id: job.id,
    task: job.task,
    queue: job.queue,
    state: job.state,
    priority: job.priority,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    runAt: job.runAt,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    lastError: last ? { name: last.name, message: last.message, at: last.at } : null,
  };
}

/** Enqueue options accepted over HTTP (the caller's transaction is not, of course). */
const ENQUEUE_OPTIONS = [
  'queue',
  'priority',
  'maxAttempts',
  'timeoutMs',
  'backoff',
  'runAt',
  'delayMs',
  'uniqueKey',
  'correlationId',
  'metadata',
] as const;

/**
 * An ISO 8601 date-time with its offset (RFC 3339; seconds optional). `Date.parse` alone takes
 * far more, and reads some of it as something else: `"5"` is 2001-05-01, `"2030-01-01T10:00"`
 * is the server's local time, `"Jan 1 2030"` its local midnight.
 */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})$/;

/** What `options.runAt` may be, for the messages that refuse it. */
const RUN_AT_FORMS =
  'an ISO 8601 date-time with Z or an offset (2030-01-01T10:00:00Z, 2030-01-01T12:00:00+02:00) or epoch milliseconds as a JSON number';

/** `options.runAt` as a string: an instant, as epoch milliseconds (400 naming the field otherwise). */
function runAtOf(text: string): number {
  const quoted = JSON.stringify(text.slice(0, 40));
  if (/^\s*[-+]?\d+(\.\d+)?\s*$/.test(text)) {
    throw badRequest(
      'options.runAt',
      `${quoted} is a number in a string: send epoch milliseconds as a JSON number, or an ISO 8601 date-time with Z or an offset`,
    );
  }
  const at = DATE_TIME.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) {
    throw badRequest('options.runAt', `must be ${RUN_AT_FORMS}, got ${quoted}`);
  }
  // Date.parse rolls a day past the month's end over ("2030-02-30" is March 2): refuse it.
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) {
    throw badRequest('options.runAt', `${quoted} is not a date: that month has ${daysInMonth} days`);
  }
  return at;
}

function enqueueOptions(value: unknown): EnqueueOptions | undefined {
  if (value === undefined) return undefined;
  const options = objectField('options', value);
  onlyKeys('options', options, ENQUEUE_OPTIONS);
  const result = { ...options } as EnqueueOptions & { runAt?: unknown };
  if (typeof options.runAt === 'string') result.runAt = runAtOf(options.runAt);
  else if (options.runAt !== undefined && typeof options.runAt !== 'number') {
    // The client's own message speaks of a Date, which JSON cannot carry.
    throw badRequest(
      'options.runAt',
      `must be ${RUN_AT_FORMS}, got ${JSON.stringify(options.runAt).slice(0, 40)}`,
    );
  }
  return result;
}

/**
 * An enqueue option the client refused, named as the request body spells it (`options.priority`,
 * as the checks above name `options.runAt`): the client calls it `priority`.
 */
function asBodyField(error: unknown): unknown {
  if (!(error instanceof InvalidOptionError)) return error;
  const root = error.field.split(/[.[]/)[0] as (typeof ENQUEUE_OPTIONS)[number];
  if (!ENQUEUE_OPTIONS.includes(root)) return error;
  const prefix = `Invalid option "${error.field}": `;
  const reason = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  return new InvalidOptionError(`options.${error.field}`, reason);
}

const FILTER_FIELDS = ['state', 'queue', 'task'] as const;

/** What `{"all": true}` acts on, for the message that asks for it. */
const ALL_OF = {
  retry: 'abandoned and cancelled',
  cancel: 'blocked, scheduled, pending and running',
} as const;

/**
 * Retry and cancel filters of the bulk routes. At least one filter, or an explicit `all: true`:
 * an empty body (a client that serialised its `undefined` filters away) would otherwise act on
 * every job, and the CLI refuses `jobs cancel`/`jobs retry` without ids or filters alike.
 */
function bulkFilter(value: unknown, action: 'retry' | 'cancel') {
  const body = objectField('body', value);
  onlyKeys('', body, [...FILTER_FIELDS, 'all']);
  if (body.all !== undefined && typeof body.all !== 'boolean')
    throw badRequest('all', 'must be true or false');
  const filter = {
    state: stringOrList('state', body.state) as JobState | JobState[] | undefined,
    queue: stringOrList('queue', body.queue),
    task: stringOrList('task', body.task),
  };
  // An empty list filters nothing, so it does not count as naming the jobs.
  const given = FILTER_FIELDS.filter((f) => filter[f] !== undefined && filter[f].length !== 0);
  if (body.all === true && given.length > 0) {
    throw badRequest(
      'all',
      `"all": true acts on every job; send it without ${given.join(', ')}, or drop it to use the filter`,
    );
  }
  if (body.all !== true && given.length === 0) {
    throw badRequest(
      'body',
      `name the jobs to ${action}: send at least one of state, queue, task (a name or a non-empty list), ` +
        `or {"all": true} to ${action} every ${ALL_OF[action]} job`,
    );
  }
  return filter;
}

/** The 404 of a job id no job has, with `details.jobId` as the client's `JobNotFoundError` has it (retry, cancel). */
function jobNotFound(id: string): HttpError {
  const shown = id.slice(0, 40);
  return new HttpError(404, 'JOBWIRE_JOB_NOT_FOUND', `Job ${JSON.stringify(shown)} does not exist.`, {
    jobId: shown,
  });
}

/** Add the job routes to `app`. */
export function addJobRoutes(app: Hono<HttpEnv>, jobwire: Jobwire, maxBodyBytes: number): void {
  app.get('/api/jobs', async (c) => {
    const page = await jobwire.listJobs({
      state: listParam(c, 'state') as JobState[] | undefined,
      queue: listParam(c, 'queue'),
      task: listParam(c, 'task'),
      limit: intParam(c, 'limit', 1, MAX_JOBS_PAGE) ?? 50,
      cursor: c.req.query('cursor') ?? null,
    });
    return json({ jobs: page.jobs.map(summary), nextCursor: page.nextCursor });
  });

  app.post('/api/jobs', async (c) => {
    const value = await readJson(c.req.raw, maxBodyBytes);
    if (Array.isArray(value)) {
      throw badRequest(
        'body',
        'must be a JSON object { task, payload, options }: one job per request (there is no batch enqueue over HTTP)',
      );
    }
    const body = objectField('body', value);
    onlyKeys('', body, ['task', 'payload', 'options']);
    const { task } = body;
    if (typeof task !== 'string' || task === '')
      throw badRequest('task', 'must be a task name (a non-empty string)');
    const options = enqueueOptions(body.options);
    // Only tasks this process runs or some worker published: a typo must not queue a job no one runs.
    if (!jobwire.getTaskRef(task) && !(await jobwire.getPublishedTask(task))) {
      const known = [
        ...new Set([...jobwire.taskNames, ...(await jobwire.listPublishedTasks()).map((t) => t.name)]),
      ];
      throw new HttpError(
        422,
        'JOBWIRE_UNKNOWN_TASK',
        `Unknown task ${JSON.stringify(task.slice(0, 128))}: no worker registered or published it.`,
        { field: 'task', task, known: known.sort().slice(0, 100) },
      );
    }
    const job = await jobwire.enqueue(task, body.payload ?? null, options).catch((error: unknown) => {
      throw asBodyField(error);
    });
    return json({ job, duplicate: job.duplicate }, job.duplicate ? 200 : 201);
  });

  app.post('/api/jobs/retry', async (c) => {
    const filter = bulkFilter(await readJson(c.req.raw, maxBodyBytes), 'retry');
    return json(await jobwire.retryJobs(filter));
  });

  app.post('/api/jobs/cancel', async (c) => {
    const filter = bulkFilter(await readJson(c.req.raw, maxBodyBytes), 'cancel');
    return json(await jobwire.cancelJobs(filter));
  });

  app.get('/api/jobs/:id', async (c) => {
    const id = c.req.param('id');
    const job = await jobwire.getJob(id);
    if (!job) throw jobNotFound(id);
    return json({ job });
  });

  app.get('/api/jobs/:id/events', async (c) => {
    const id = c.req.param('id');
    const events = await jobwire.jobEvents(id, { limit: intParam(c, 'limit', 1, 1000) ?? 1000 });
    // A job deleted by hand or by retention keeps its events until the log is pruned: its
    // timeline is still served. Only an id with neither a job nor events is unknown.
    if (events.length === 0 && !(await jobwire.getJob(id))) throw jobNotFound(id);
    return json({ events });
  });

  app.post('/api/jobs/:id/retry', async (c) => {
    await refuseBody(c.req.raw, maxBodyBytes, 'POST /api/jobs/{id}/retry');
    return json({ job: await jobwire.retryJob(c.req.param('id')) });
  });

  app.post('/api/jobs/:id/cancel', async (c) => {
    await refuseBody(c.req.raw, maxBodyBytes, 'POST /api/jobs/{id}/cancel');
    return json({ cancelled: await jobwire.cancelJob(c.req.param('id')) });
  });

  app.delete('/api/jobs/:id', async (c) => {
    await refuseBody(c.req.raw, maxBodyBytes, 'DELETE /api/jobs/{id}');
    const id = c.req.param('id');
    if (!(await jobwire.deleteJob(id))) throw jobNotFound(id);
    return json({ deleted: true });
  });
}
