/**
 * `/api/queues` (counts, pause, resume: a queue nothing uses is refused unless pause is forced),
 * `/api/schedules` (list, trigger, pause, resume), `/api/workers` (running pools of every
 * process), `/api/stats` (per-queue statistics over a window) and `/api/tasks` (what can be
 * enqueued).
 */
import type { Hono } from 'hono';
import { closestName, isQueueName, type Jobwire } from '../../index.js';
import type { HttpEnv } from '../auth.js';
import { queueCounts } from '../counts.js';
import { badRequest, HttpError } from '../errors.js';
import { json, readJson } from '../respond.js';
import { intParam, objectField, onlyKeys, refuseBody } from './params.js';

/**
 * Refuse a queue name no job, setting, published task or task of this process uses (404, with
 * the closest known name), as `jobwire queues pause|resume` does: a typo would otherwise pause
 * nothing and report success. A name no queue can have is left to the client's own check (400).
 */
async function assertKnownQueue(jobwire: Jobwire, queue: string, pause: boolean): Promise<void> {
  if (!isQueueName(queue)) return;
  // Bounded counts list every queue with settings or waiting jobs without reading the history.
  const [counts, published] = await Promise.all([queueCounts(jobwire), jobwire.listPublishedTasks()]);
  const registered = jobwire.taskNames.map((name) => jobwire.getTask(name)?.queue ?? 'default');
  const known = [
    ...new Set([...counts.map((q) => q.name), ...published.map((t) => t.queue), ...registered]),
  ].sort();
  if (known.includes(queue)) return;
  const near = closestName(queue, known);
  throw new HttpError(
    404,
    'JOBWIRE_QUEUE_NOT_FOUND',
    `No queue ${JSON.stringify(queue)}: no job, setting or published task uses it` +
      (near ? ` — did you mean "${near}"?` : '.') +
      (pause ? ' To pause it before its first job, send {"force": true}.' : ''),
    { queue, known: known.slice(0, 100), ...(near && { suggestion: near }) },
  );
}

/** Whether the pause body (optional: none, or `{ "force": true|false }`) asks to force. */
async function forced(request: Request, maxBodyBytes: number): Promise<boolean> {
  const value = await readJson(request, maxBodyBytes, true);
  if (value === undefined) return false;
  const body = objectField('body', value);
  onlyKeys('', body, ['force']);
  if (body.force !== undefined && typeof body.force !== 'boolean') {
    throw badRequest('force', 'must be true or false');
  }
  return body.force === true;
}

/** Add the queue, schedule, worker, stats and task routes to `app`. */
export function addOperationRoutes(app: Hono<HttpEnv>, jobwire: Jobwire, maxBodyBytes: number): void {
  app.get('/api/queues', async () => json({ queues: await queueCounts(jobwire) }));

  app.post('/api/queues/:name/pause', async (c) => {
    const queue = c.req.param('name');
    if (!(await forced(c.req.raw, maxBodyBytes))) await assertKnownQueue(jobwire, queue, true);
    const changed = await jobwire.pauseQueue(queue);
    return json({ queue, paused: true, changed });
  });

  app.post('/api/queues/:name/resume', async (c) => {
    await refuseBody(c.req.raw, maxBodyBytes, 'POST /api/queues/{name}/resume');
    const queue = c.req.param('name');
    // A paused queue has a setting, so it is always known: only a typo is refused.
    await assertKnownQueue(jobwire, queue, false);
    const changed = await jobwire.resumeQueue(queue);
    return json({ queue, paused: false, changed });
  });

  app.get('/api/schedules', async () => json({ schedules: await jobwire.schedules.list() }));

  app.post('/api/schedules/:id/trigger', async (c) => {
    await refuseBody(c.req.raw, maxBodyBytes, 'POST /api/schedules/{id}/trigger');
    return json({ job: await jobwire.schedules.trigger(c.req.param('id')) }, 201);
  });

  app.post('/api/schedules/:id/pause', async (c) => {
    await refuseBody(c.req.raw, maxBodyBytes, 'POST /api/schedules/{id}/pause');
    const id = c.req.param('id');
    return json({ schedule: id, paused: true, changed: await jobwire.schedules.pause(id) });
  });

  app.post('/api/schedules/:id/resume', async (c) => {
    await refuseBody(c.req.raw, maxBodyBytes, 'POST /api/schedules/{id}/resume');
    const id = c.req.param('id');
    return json({ schedule: id, paused: false, changed: await jobwire.schedules.resume(id) });
  });

  app.get('/api/workers', async () => json({ pools: await jobwire.listPools() }));

  app.get('/api/stats', async (c) => {
    const windowMs = intParam(c, 'windowMs', 1000, 7 * 86_400_000) ?? 60_000;
    return json({ windowMs, queues: await jobwire.queueStats({ windowMs }) });
  });

  app.get('/api/tasks', async () =>
    json({ registered: [...jobwire.taskNames].sort(), published: await jobwire.listPublishedTasks() }),
  );
}
