/** The jobs list: filters, search, the table (refreshed live on the first page) and paging. */
import { html } from 'hono/html';
import { JOB_LIST_SCAN_CAP, JOB_STATES, type JobRecord } from '../../../index.js';
import { badge, type Html, query, timeCell, type ViewContext } from './format.js';

/** The list's filters as they arrive in the query string (strings, unchecked). */
export interface JobsQuery {
  state?: string;
  queue?: string;
  task?: string;
  q?: string;
  cursor?: string;
}

/** A page of jobs, or the reason there is none. */
export interface JobsPage {
  jobs: JobRecord[];
  nextCursor: string | null;
  /** A message for the user (a refused filter, what a search matched). */
  note?: string;
  /** True when `note` reports an error. */
  error?: boolean;
  /**
   * True when the list stopped at JOB_LIST_SCAN_CAP jobs read before the page filled: the page is
   * short (or empty) but `nextCursor` leads on to older jobs that may match.
   */
  capped?: boolean;
}

/** What a capped page says, so a short or empty page is not read as "nothing older matches". */
const cappedNote = (filters: JobsQuery): string =>
  `No more matches among the ${filters.cursor ? 'next' : 'newest'} ${JOB_LIST_SCAN_CAP.toLocaleString('en-US')} jobs — older jobs may match.`;

const lastError = (job: JobRecord): string => {
  const error = job.errors.at(-1);
  return error ? `${error.name}: ${error.message}` : '';
};

/** The table and pager: the inner HTML of `#job-list`. */
export function jobsTable(ctx: ViewContext, filters: JobsQuery, page: JobsPage): Html {
  const note = page.note ? html`<p class="${page.error ? 'flash error' : 'note'}">${page.note}</p>` : '';
  const filterQuery = { state: filters.state, queue: filters.queue, task: filters.task, q: filters.q };
  const pager = html`<nav class="pager">${page.capped ? html`<span class="muted" data-capped>${cappedNote(filters)}</span>` : ''}${
    filters.cursor ? html`<a id="jobs-newest" href="${ctx.base}/jobs${query(filterQuery)}">« Newest</a>` : ''
  }${
    page.nextCursor
      ? html`<a rel="next" href="${ctx.base}/jobs${query({ ...filterQuery, cursor: page.nextCursor })}" id="jobs-older">Older »</a>`
      : ''
  }</nav>`;
  if (page.jobs.length === 0) {
    // An empty page with a cursor only says nothing matched among the jobs read.
    return page.nextCursor ? html`${note}${pager}` : html`${note}<p class="empty">No jobs match.</p>`;
  }
  return html`${note}<table class="jobs">
<thead><tr><th>Id</th><th>Task</th><th>Queue</th><th>State</th><th class="num">Attempt</th><th>Created</th><th>Last error</th></tr></thead>
<tbody>${page.jobs.map(
    (job) => html`<tr data-job-id="${job.id}">
<td><a id="job-link-${job.id}" href="${ctx.base}/jobs/${job.id}">#${job.id}</a></td>
<td>${job.task}</td>
<td><a id="job-queue-${job.id}" href="${ctx.base}/jobs${query({ queue: job.queue })}">${job.queue}</a></td>
<td>${badge(job.state)}</td>
<td class="num">${job.attempt}/${job.maxAttempts}</td>
<td>${timeCell(job.createdAt, ctx.now)}</td>
<td class="error-cell">${lastError(job)}</td>
</tr>`,
  )}</tbody>
</table>
${pager}`;
}

function stateOptions(selected: string | undefined): Html {
  // A comma list of states (`?state=pending,running`, as the API and the CLI take) is its own option.
  const list =
    selected?.includes(',') === true
      ? html`<option value="${selected}" selected>${selected.split(',').join(', ')}</option>`
      : '';
  return html`<option value="">any state</option>${list}${JOB_STATES.map(
    (s) => html`<option value="${s}"${s === selected ? html` selected` : ''}>${s}</option>`,
  )}`;
}

/**
 * What "Retry all matching" sends: the filters and search the list was rendered with (not the
 * form's inputs, which may have been edited without being applied), so it acts on what is shown.
 */
function bulkValues(filters: JobsQuery): string {
  const values: Record<string, string> = {};
  for (const key of ['state', 'queue', 'task', 'q'] as const) {
    const value = filters[key];
    if (value) values[key] = value;
  }
  return JSON.stringify(values);
}

/** The bulk retry's confirmation, naming what it will act on. */
function bulkConfirm(filters: JobsQuery): string {
  const which = filters.state?.split(',').join(' or ') ?? 'abandoned and cancelled';
  const scope = [
    filters.queue ? ` in queue ${filters.queue}` : '',
    filters.task ? ` of task ${filters.task}` : '',
    filters.q ? ` matching “${filters.q}”` : '',
  ].join('');
  return `Retry every ${which} job${scope || ' of every queue and task'}?`;
}

/** The jobs page's body. Only the first page refreshes live (a later page would shift under you). */
export function jobsBody(
  ctx: ViewContext,
  filters: JobsQuery,
  page: JobsPage,
  names: { queues: string[]; tasks: string[] },
): Html {
  const listUrl = `${ctx.base}/ui/jobs${query({ state: filters.state, queue: filters.queue, task: filters.task, q: filters.q })}`;
  const live = filters.cursor
    ? ''
    : html` hx-get="${listUrl}" hx-trigger="sse:jobs, jobs-changed from:body" hx-swap="innerHTML"`;
  return html`<h1>Jobs</h1>
<form id="filters" class="filters" method="get" action="${ctx.base}/jobs">
  <label>State <select name="state">${stateOptions(filters.state)}</select></label>
  <label>Queue <input name="queue" list="queue-names" value="${filters.queue ?? ''}" autocomplete="off"></label>
  <label>Task <input name="task" list="task-names" value="${filters.task ?? ''}" autocomplete="off"></label>
  <label>Search <input name="q" type="search" value="${filters.q ?? ''}" placeholder="job id, task or queue name"></label>
  <button type="submit">Filter</button>
  <a href="${ctx.base}/jobs">Clear</a>
  <datalist id="queue-names">${names.queues.map((n) => html`<option value="${n}"></option>`)}</datalist>
  <datalist id="task-names">${names.tasks.map((n) => html`<option value="${n}"></option>`)}</datalist>
</form>
${
  ctx.readOnly
    ? ''
    : html`<p class="bulk"><button class="small" hx-post="${ctx.base}/ui/jobs/retry" hx-vals="${bulkValues(filters)}"
  hx-target="#flash" hx-confirm="${bulkConfirm(filters)}" data-action="bulk-retry">Retry all matching</button>
  <span class="muted small">(abandoned and cancelled jobs, or the state you filter on)</span></p>`
}
${
  live
    ? html`<p id="job-list-held" class="muted small" hidden>Jobs changed: the list refreshes when the pointer and the focus leave it.</p>`
    : ''
}
<div id="job-list"${live}${live ? html` data-live-list` : ''}>${jobsTable(ctx, filters, page)}</div>`;
}
