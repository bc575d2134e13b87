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
  JobNotFoundError,
  JobNotRetryableError,
  type JobState,
  JobwireError,
  ScheduleNotFoundError,
} from '../../index.js';
import type { DashboardEnv } from './env.js';

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

/** Form fields of the bulk retry (the jobs page's filters). */
async function bulkFilter(c: Context) {
  const form = await c.req.parseBody();
  const field = (name: string) => {
    const value = form[name];
    return typeof value === 'string' && value.trim() ? value.trim() : undefined;
  };
  return { state: field('state') as JobState | undefined, queue: field('queue'), task: field('task') };
}

/** Add the action routes to `app`. */
export function addActions(app: Hono, env: DashboardEnv): void {
  const { jobwire } = env.deps;

  app.post('/ui/*', async (c, next) => {
    if (env.deps.readOnly) return flash(c, 'error', 'This dashboard is read-only.', 403);
    await next();
    // Hono hands a thrown error to the app's error handler and records it here.
    if (c.error) c.res = await failed(c, c.error);
  });

  app.post('/ui/jobs/retry', async (c) => {
    const { count, skipped } = await jobwire.retryJobs(await bulkFilter(c));
    c.header('HX-Trigger', 'jobs-changed');
    return flash(
      c,
      'ok',
      `Retried ${count} job${count === 1 ? '' : 's'}${skipped ? ` (${skipped} had moved on)` : ''}.`,
    );
  });

  app.post('/ui/jobs/:id/retry', async (c) => {
    const job = await jobwire.retryJob(c.req.param('id'));
    return flash(c, 'ok', `Job #${job.id} will run again.`);
  });

  app.post('/ui/jobs/:id/cancel', async (c) => {
    const id = c.req.param('id');
    const cancelled = await jobwire.cancelJob(id);
    return cancelled
      ? flash(c, 'ok', `Job #${id} cancelled.`)
      : flash(c, 'error', `Job #${id} had already finished.`, 409);
  });

  app.post('/ui/jobs/:id/delete', async (c) => {
    const id = c.req.param('id');
    if (!(await jobwire.deleteJob(id))) return flash(c, 'error', `There is no job #${id}.`, 404);
    c.header('HX-Redirect', `${env.base}/jobs`);
    return flash(c, 'ok', `Job #${id} deleted.`);
  });

  app.post('/ui/queues/:name/:action{pause|resume}', async (c) => {
    const name = c.req.param('name');
    const pause = c.req.param('action') === 'pause';
    const changed = pause ? await jobwire.pauseQueue(name) : await jobwire.resumeQueue(name);
    const state = pause ? 'paused' : 'resumed';
    return flash(c, 'ok', changed ? `Queue ${name} ${state}.` : `Queue ${name} was already ${state}.`);
  });

  app.post('/ui/schedules/:id/trigger', async (c) => {
    const job = await jobwire.schedules.trigger(c.req.param('id'));
    return flash(c, 'ok', `Schedule ${c.req.param('id')} enqueued job #${job.id}.`);
  });
}
