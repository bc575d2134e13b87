/**
 * The pages (GET, full HTML) and the fragments the live stream asks pages to re-fetch
 * (`/ui/jobs`, `/ui/jobs/:id`, `/ui/schedules`, `/ui/workers`). Every read is bounded: one page
 * of jobs, one job and its timeline, the schedule and pool lists, and the shared counts.
 */
import type { Context, Hono } from 'hono';
import { InvalidOptionError, type JobState } from '../../index.js';
import { type DashboardEnv, viewContext } from './env.js';
import { resolveFilters, taskNames } from './filters.js';
import type { ViewContext } from './views/format.js';
import { goneJob, jobBody, jobPanel, missingJob } from './views/job.js';
import { type JobsPage, type JobsQuery, jobsBody, jobsTable } from './views/jobs.js';
import { layout } from './views/layout.js';
import { overviewBody, queuesBody } from './views/queues.js';
import { schedulesBody, schedulesTable, workersBody, workersTable } from './views/schedules.js';

/** Jobs per list page. */
const PAGE_SIZE = 50;
/** Events shown on a job's timeline (the newest beyond it are left out, and the page says so). */
const TIMELINE_LIMIT = 500;
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

/**
 * One page of jobs. A search is a job id (the page redirects to it) or part of a task or queue
 * name (the matching names become the filter: `resolveFilters`); the list API has no full-text search.
 */
async function loadJobs(env: DashboardEnv, filters: JobsQuery): Promise<JobsPage | { redirect: string }> {
  const { jobwire } = env.deps;
  const resolved = await resolveFilters(env, filters);
  if (resolved.kind === 'job') {
    if (await jobwire.getJob(resolved.id)) return { redirect: `${env.base}/jobs/${resolved.id}` };
    return { jobs: [], nextCursor: null, note: `There is no job #${resolved.id}.` };
  }
  if (resolved.kind === 'none') return { jobs: [], nextCursor: null, note: resolved.note };
  const { note } = resolved;
  try {
    const page = await jobwire.listJobs({
      state: resolved.state as JobState | JobState[] | undefined,
      queue: resolved.queue,
      task: resolved.task,
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

/**
 * A job and its timeline; a job whose row is gone (`job` undefined) while the log has its events;
 * undefined when neither exists.
 */
async function jobView(env: DashboardEnv, ctx: ViewContext, id: string) {
  if (!/^\d+$/.test(id)) return undefined;
  const job = await env.deps.jobwire.getJob(id);
  // One more than shown: whether the timeline is cut short (oldest first: the newest are left out).
  const events = await env.deps.jobwire.jobEvents(id, { limit: TIMELINE_LIMIT + 1 });
  if (!job && events.length === 0) return undefined;
  const timeline = events.slice(0, TIMELINE_LIMIT);
  return { job, timeline: { events: timeline, cut: events.length > TIMELINE_LIMIT }, ctx };
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

  // A trailing slash (`/jobs/`, typed or pasted) leads to the page, keeping the query.
  app.get('/:section{jobs|queues|schedules|workers}/', (c) => {
    const search = new URL(c.req.url).search;
    return c.redirect(`${env.base}/${c.req.param('section')}${search}`, 301);
  });

  app.get('/jobs/:id', async (c) => {
    const ctx = viewContext(env, c);
    const id = c.req.param('id');
    // `/jobs/007` is job 7: one address per job.
    if (/^0+[1-9]\d*$/.test(id)) return c.redirect(`${env.base}/jobs/${id.replace(/^0+/, '')}`, 301);
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
        body: view.job ? jobBody(ctx, view.job, view.timeline) : goneJob(ctx, id, view.timeline),
      }),
    );
  });

  app.get('/ui/jobs/:id', async (c) => {
    const ctx = viewContext(env, c);
    const id = c.req.param('id');
    const view = await jobView(env, ctx, id);
    if (!view) return c.html(missingJob(ctx, id));
    return c.html(view.job ? jobPanel(ctx, view.job, view.timeline) : goneJob(ctx, id, view.timeline));
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
