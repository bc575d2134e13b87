/**
 * The actions: retry, cancel and delete a job, bulk retry of a filter, pause and resume a queue,
 * run a schedule now. POST only (the mounting handler checks auth and the CSRF header before
 * these run); each answers with a message for the page's flash area, and the live stream shows
 * the effect. In read-only mode every one is refused with 403, whatever the page showed.
 */
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import {
  InvalidOptionError,
  type JobFilter,
  JobNotFoundError,
  JobNotRetryableError,
  type JobState,
  JobwireError,
  ScheduleNotFoundError,
} from '../../index.js';
import { type DashboardEnv, viewContext } from './env.js';
import { resolveFilters } from './filters.js';
import { countsTable } from './views/queues.js';

function flash(
  c: Context,
  kind: 'ok' | 'error',
  message: string,
  status: 200 | 400 | 403 | 404 | 409 | 500 = 200,
) {
  return c.html(html`<p class="flash ${kind}" role="status">${message}</p>`, status);
}

/** A refused action's answer: the typed errors say what was wrong; anything else is a 500. */
function failed(c: Context, error: unknown) {
  if (error instanceof JobNotFoundError || error instanceof ScheduleNotFoundError) {
    return flash(c, 'error', error.message, 404);
  }
  if (error instanceof JobNotRetryableError) return flash(c, 'error', error.message, 409);
  if (error instanceof InvalidOptionError) return flash(c, 'error', error.message, 400);
  const message = error instanceof JobwireError ? error.message : 'the action failed; see the server log';
  if (!(error instanceof JobwireError)) console.error('jobwire dashboard: action failed', error);
  return flash(c, 'error', message, 500);
}

/**
 * The bulk retry's filter: the list's filters and search as the page rendered them, resolved the
 * way the list resolves them (`resolveFilters`), so the action acts on the jobs the list shows.
 * A string when nothing can match: the reason, and nothing is retried.
 */
async function bulkFilter(c: Context, env: DashboardEnv): Promise<JobFilter | string> {
  const form = await c.req.parseBody();
  const field = (name: string) => {
    const value = form[name];
    return typeof value === 'string' && value.trim() ? value.trim() : undefined;
  };
  const resolved = await resolveFilters(env, {
    state: field('state'),
    queue: field('queue'),
    task: field('task'),
    q: field('q'),
  });
  if (resolved.kind === 'job') return `The search is job #${resolved.id}: retry it on its own page.`;
  if (resolved.kind === 'none') return resolved.note;
  return {
    state: resolved.state as JobState | JobState[] | undefined,
    queue: resolved.queue,
    task: resolved.task,
  };
}

/** A route parameter (always present on the routes below). */
const param = (c: Context, name: string): string => c.req.param(name) ?? '';

/** A handler whose typed failures become messages (not the app's error page, nor a log line). */
const guarded =
  (handler: (c: Context) => Promise<Response>) =>
  async (c: Context): Promise<Response> => {
    try {
      return await handler(c);
    } catch (error) {
      return failed(c, error);
    }
  };

/** Add the action routes to `app`. */
export function addActions(app: Hono, env: DashboardEnv): void {
  const { jobwire } = env.deps;

  app.post('/ui/*', async (c, next) => {
    if (env.deps.readOnly) return flash(c, 'error', 'This dashboard is read-only.', 403);
    await next();
  });

  app.post(
    '/ui/jobs/retry',
    guarded(async (c) => {
      const filter = await bulkFilter(c, env);
      if (typeof filter === 'string') return flash(c, 'error', `Nothing retried. ${filter}`);
      const { count, skipped } = await jobwire.retryJobs(filter);
      c.header('HX-Trigger', 'jobs-changed');
      return flash(
        c,
        'ok',
        `Retried ${count} job${count === 1 ? '' : 's'}${skipped ? ` (${skipped} had moved on)` : ''}.`,
      );
    }),
  );

  app.post(
    '/ui/jobs/:id/retry',
    guarded(async (c) => {
      const job = await jobwire.retryJob(param(c, 'id'));
      return flash(c, 'ok', `Job #${job.id} will run again.`);
    }),
  );

  app.post(
    '/ui/jobs/:id/cancel',
    guarded(async (c) => {
      const id = param(c, 'id');
      const cancelled = await jobwire.cancelJob(id);
      return cancelled
        ? flash(c, 'ok', `Job #${id} cancelled.`)
        : flash(c, 'error', `Job #${id} had already finished.`, 409);
    }),
  );

  app.post(
    '/ui/jobs/:id/delete',
    guarded(async (c) => {
      const id = param(c, 'id');
      if (!(await jobwire.deleteJob(id))) return flash(c, 'error', `There is no job #${id}.`, 404);
      c.header('HX-Redirect', `${env.base}/jobs`);
      return flash(c, 'ok', `Job #${id} deleted.`);
    }),
  );

  app.post(
    '/ui/queues/:name/:action{pause|resume}',
    guarded(async (c) => {
      const name = param(c, 'name');
      const pause = param(c, 'action') === 'pause';
      const changed = pause ? await jobwire.pauseQueue(name) : await jobwire.resumeQueue(name);
      const state = pause ? 'paused' : 'resumed';
      const message = changed ? `Queue ${name} ${state}.` : `Queue ${name} was already ${state}.`;
      // The answer also carries the queues table as counted after the change (an out-of-band
      // swap), so the page shows the person's own action at once, not only when the live
      // stream's next update comes.
      const counts = await env.counts.fresh(Date.now());
      return c.html(
        html`<p class="flash ok" role="status">${message}</p><div id="counts" hx-swap-oob="innerHTML">${countsTable(
          viewContext(env, c),
          counts,
          'queues',
        )}</div>`,
      );
    }),
  );

  app.post(
    '/ui/schedules/:id/trigger',
    guarded(async (c) => {
      const job = await jobwire.schedules.trigger(param(c, 'id'));
      return flash(c, 'ok', `Schedule ${param(c, 'id')} enqueued job #${job.id}.`);
    }),
  );
}
