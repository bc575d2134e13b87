/**
 * The pages (GET, full HTML) and the fragments the live stream asks pages to re-fetch
 * (`/ui/jobs`, `/ui/jobs/:id`, `/ui/schedules`, `/ui/workers`). Every read is bounded: one page
 * of jobs, one job and its timeline, the schedule and pool lists, and the shared counts.
 */
import type { Context, Hono } from 'hono';
import { InvalidOptionError, type JobState } from '../../index.js';
import { type DashboardEnv, viewContext } from './env.js';
import type { ViewContext } from './views/format.js';
import { jobBody, jobPanel, missingJob } from './views/job.js';
import { type JobsPage, type JobsQuery, jobsBody, jobsTable } from './views/jobs.js';
import { layout } from './views/layout.js';
import { overviewBody, queuesBody } from './views/queues.js';
import { schedulesBody, schedulesTable, workersBody, workersTable } from './views/schedules.js';

/** Jobs per list page. */
const PAGE_SIZE = 50;
/** Events shown on a job's timeline (the newest beyond it are left out, and the page says so). */
const TIMELINE_LIMIT = 500;
/** Names a search may turn into a filter. */
const MAX_SEARCH_NAMES = 100;

function jobsQuery(c: Context): JobsQuery {
  const pick = (name: string) => c.req.query(name)?.trim() || undefined;
  return {
    state: pick('state'),
    queue: pick('queue'),
    task: pick('task'),
    q: pick('q'),
    cursor: pick('cursor'),
  };
}

/** Known task names: this process's and those workers published. */
async function taskNames(env: DashboardEnv): Promise<string[]> {
  const published = await env.deps.jobwire.listPublishedTasks();
  return [...new Set([...env.deps.jobwire.taskNames, ...published.map((t) => t.name)])].sort();
}

/**
 * One page of jobs. A search is a job id (the page redirects to it) or part of a task or queue
 * name (the matching names become the filter); the list API has no full-text search.
 */
async function loadJobs(env: DashboardEnv, filters: JobsQuery): Promise<JobsPage | { redirect: string }> {
  const { jobwire } = env.deps;
  let task: string | string[] | undefined = filters.task;
  let queue: string | string[] | undefined = filters.queue;
  let note: string | undefined;
  const q = filters.q;
  if (q && /^\d+$/.test(q)) {
    if (await jobwire.getJob(q)) return { redirect: `${env.base}/jobs/${q}` };
    return { jobs: [], nextCursor: null, note: `There is no job #${q}.` };
  }
  if (q) {
    const needle = q.toLowerCase();
    const tasks = (await taskNames(env))
      .filter((n) => n.toLowerCase().includes(needle))
      .slice(0, MAX_SEARCH_NAMES);
    const queues = (await env.counts.get()).queues
      .map((x) => x.name)
      .filter((n) => n.toLowerCase().includes(needle))
      .slice(0, MAX_SEARCH_NAMES);
    if (tasks.length > 0) {
      task = task ? tasks.filter((t) => t === task) : tasks;
      note = `Search “${q}”: tasks ${tasks.join(', ')}`;
    } else if (queues.length > 0) {
      queue = queue ? queues.filter((n) => n === queue) : queues;
      note = `Search “${q}”: queues ${queues.join(', ')}`;
    } else {
      return { jobs: [], nextCursor: null, note: `No job id, task or queue matches “${q}”.` };
    }
    if ((Array.isArray(task) && task.length === 0) || (Array.isArray(queue) && queue.length === 0)) {
      return { jobs: [], nextCursor: null, note };
    }
  }
  try {
    const page = await jobwire.listJobs({
      state: filters.state as JobState | undefined,
      queue,
      task,
      cursor: filters.cursor ?? null,
      limit: PAGE_SIZE,
    });
    // Fewer than a page with a cursor: the read stopped at its cap, older jobs may match.
    return { ...page, note, capped: page.nextCursor !== null && page.jobs.length < PAGE_SIZE };
  } catch (error) {
    if (error instanceof InvalidOptionError)
      return { jobs: [], nextCursor: null, note: error.message, error: true };
    throw error;
  }
}

async function jobView(env: DashboardEnv, ctx: ViewContext, id: string) {
  const job = /^\d+$/.test(id) ? await env.deps.jobwire.getJob(id) : undefined;
  if (!job) return undefined;
  const timeline = await env.deps.jobwire.jobEvents(id, { limit: TIMELINE_LIMIT });
  return { job, timeline, ctx };
}

/** Add the pages and fragments to `app`. */
export function addPages(app: Hono, env: DashboardEnv): void {
  const { jobwire } = env.deps;

  app.get('/', async (c) => {
    const ctx = viewContext(env, c);
    const snapshot = await env.counts.get();
    return c.html(
      layout(ctx, {
        title: 'Overview',
        section: 'overview',
        live: '?page=overview',
        body: overviewBody(ctx, snapshot),
      }),
    );
  });

  app.get('/queues', async (c) => {
    const ctx = viewContext(env, c);
    const snapshot = await env.counts.get();
    return c.html(
      layout(ctx, {
        title: 'Queues',
        section: 'queues',
        live: '?page=queues',
        body: queuesBody(ctx, snapshot),
      }),
    );
  });

  app.get('/jobs', async (c) => {
    const ctx = viewContext(env, c);
    const filters = jobsQuery(c);
    const page = await loadJobs(env, filters);
    if ('redirect' in page) return c.redirect(page.redirect, 303);
    const names = { queues: (await env.counts.get()).queues.map((q) => q.name), tasks: await taskNames(env) };
    return c.html(
      layout(ctx, {
        title: 'Jobs',
        section: 'jobs',
        live: '?page=jobs',
        body: jobsBody(ctx, filters, page, names),
      }),
      page.error ? 400 : 200,
    );
  });

  app.get('/ui/jobs', async (c) => {
    const filters = jobsQuery(c);
    const page = await loadJobs(env, filters);
    if ('redirect' in page) return c.html('');
    return c.html(jobsTable(viewContext(env, c), filters, page), page.error ? 400 : 200);
  });

  app.get('/jobs/:id', async (c) => {
    const ctx = viewContext(env, c);
    const id = c.req.param('id');
    const view = await jobView(env, ctx, id);
    if (!view) {
      return c.html(
        layout(ctx, { title: `Job #${id}`, section: 'jobs', live: '?page=jobs', body: missingJob(ctx, id) }),
        404,
      );
    }
    const live = `?page=job&id=${encodeURIComponent(id)}`;
    return c.html(
      layout(ctx, {
        title: `Job #${id}`,
        section: 'jobs',
        live,
        body: jobBody(ctx, view.job, view.timeline),
      }),
    );
  });

  app.get('/ui/jobs/:id', async (c) => {
    const ctx = viewContext(env, c);
    const id = c.req.param('id');
    const view = await jobView(env, ctx, id);
    if (!view) return c.html(missingJob(ctx, id));
    return c.html(jobPanel(ctx, view.job, view.timeline));
  });

  app.get('/schedules', async (c) => {
    const ctx = viewContext(env, c);
    const body = schedulesBody(ctx, await jobwire.schedules.list());
    return c.html(layout(ctx, { title: 'Schedules', section: 'schedules', live: '?page=schedules', body }));
  });

  app.get('/ui/schedules', async (c) =>
    c.html(schedulesTable(viewContext(env, c), await jobwire.schedules.list())),
  );

  app.get('/workers', async (c) => {
    const ctx = viewContext(env, c);
    const body = workersBody(ctx, await jobwire.listPools());
    return c.html(layout(ctx, { title: 'Workers', section: 'workers', live: '?page=workers', body }));
  });

  app.get('/ui/workers', async (c) => c.html(workersTable(viewContext(env, c), await jobwire.listPools())));
}
