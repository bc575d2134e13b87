/**
 * `/api/queues` (counts, pause, resume), `/api/schedules` (list, trigger, pause, resume),
 * `/api/workers` (running pools of every process), `/api/stats` (per-queue statistics over a
 * window) and `/api/tasks` (what can be enqueued).
 */
import type { Hono } from 'hono';
import type { Jobwire } from '../../index.js';
import type { HttpEnv } from '../auth.js';
import { queueCounts } from '../counts.js';
import { json } from '../respond.js';
import { intParam } from './params.js';

/** Add the queue, schedule, worker, stats and task routes to `app`. */
export function addOperationRoutes(app: Hono<HttpEnv>, jobwire: Jobwire): void {
  app.get('/api/queues', async () => json({ queues: await queueCounts(jobwire) }));

  app.post('/api/queues/:name/pause', async (c) => {
    const queue = c.req.param('name');
    const changed = await jobwire.pauseQueue(queue);
    return json({ queue, paused: true, changed });
  });

  app.post('/api/queues/:name/resume', async (c) => {
    const queue = c.req.param('name');
    const changed = await jobwire.resumeQueue(queue);
    return json({ queue, paused: false, changed });
  });

  app.get('/api/schedules', async () => json({ schedules: await jobwire.schedules.list() }));

  app.post('/api/schedules/:id/trigger', async (c) =>
    json({ job: await jobwire.schedules.trigger(c.req.param('id')) }, 201),
  );

  app.post('/api/schedules/:id/pause', async (c) => {
    const id = c.req.param('id');
    return json({ schedule: id, paused: true, changed: await jobwire.schedules.pause(id) });
  });

  app.post('/api/schedules/:id/resume', async (c) => {
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
