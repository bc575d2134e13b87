/**
 * The counts table (overview and queues pages) and the overview's chart area. The table is
 * re-rendered on the server and pushed over the live stream as one fragment for every viewer.
 */
import { html } from 'hono/html';
import {
  COUNT_PRECISION_MARK,
  type CountPrecision,
  combinePrecision,
  JOB_STATES,
  type JobState,
} from '../../../index.js';
import type { CountsSnapshot } from '../counts.js';
import { badge, type Html, query, timeCell, type ViewContext } from './format.js';

/** Which page the counts table is for: the queues page adds pause/resume buttons. */
export type CountsView = 'overview' | 'queues';

const PRECISION_TITLE: Record<CountPrecision, string> = {
  exact: 'exact',
  atLeast: 'at least this many (counting stopped at the cap)',
  estimate: 'estimated from database statistics',
};

function cell(
  ctx: ViewContext,
  queue: string | undefined,
  state: JobState,
  count: number,
  precision: CountPrecision,
): Html {
  const href = `${ctx.base}/jobs${query({ queue, state })}`;
  return html`<td class="num" data-queue="${queue ?? '*'}" data-state="${state}" data-precision="${precision}"
    title="${PRECISION_TITLE[precision]}"><a href="${href}">${COUNT_PRECISION_MARK[precision]}${count}</a></td>`;
}

function queueActions(ctx: ViewContext, name: string, paused: boolean): Html {
  if (ctx.readOnly) return html``;
  const action = paused ? 'resume' : 'pause';
  return html`<td><button class="small" hx-post="${ctx.base}/ui/queues/${encodeURIComponent(name)}/${action}"
    hx-target="#flash" data-action="${action}-queue">${paused ? 'Resume' : 'Pause'}</button></td>`;
}

/** The counts table's inner HTML (the element around it takes the pushed updates). */
export function countsTable(ctx: ViewContext, snapshot: CountsSnapshot, view: CountsView): Html {
  const queues = snapshot.queues;
  if (queues.length === 0)
    return html`<p class="empty">No queues yet: enqueue a job and it shows up here.</p>`;
  const totals = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
  const totalPrecision = Object.fromEntries(JOB_STATES.map((s) => [s, 'exact'])) as Record<
    JobState,
    CountPrecision
  >;
  for (const q of queues)
    for (const s of JOB_STATES) {
      totals[s] += q.counts[s];
      totalPrecision[s] = combinePrecision(totalPrecision[s], q.precision[s]);
    }
  const withActions = view === 'queues' && !ctx.readOnly;
  return html`<table class="counts">
<thead><tr><th>Queue</th>${JOB_STATES.map((s) => html`<th class="num">${badge(s)}</th>`)}${
    withActions ? html`<th></th>` : ''
  }</tr></thead>
<tbody>${queues.map(
    (q) =>
      html`<tr data-queue-row="${q.name}"><th scope="row"><a class="qname" href="${ctx.base}/jobs${query({ queue: q.name })}">${
        q.name
      }</a>${q.paused ? html` ${badge('paused')}` : ''}</th>${JOB_STATES.map((s) => cell(ctx, q.name, s, q.counts[s], q.precision[s]))}${
        withActions ? queueActions(ctx, q.name, q.paused) : ''
      }</tr>`,
  )}</tbody>
<tfoot><tr><th scope="row">All queues</th>${JOB_STATES.map((s) => cell(ctx, undefined, s, totals[s], totalPrecision[s]))}${
    withActions ? html`<td></td>` : ''
  }</tr></tfoot>
</table>
<p class="muted small">Counted ${timeCell(snapshot.readAt, ctx.now)}</p>`;
}

/** The overview page's body. */
export function overviewBody(ctx: ViewContext, snapshot: CountsSnapshot): Html {
  return html`<h1>Overview</h1>
<section>
  <h2>Jobs by queue and state</h2>
  <div id="counts" sse-swap="counts" hx-swap="innerHTML">${countsTable(ctx, snapshot, 'overview')}</div>
</section>
<section>
  <h2>Throughput and failures</h2>
  <p class="muted small">Per queue, completed jobs and failed attempts per 5 s, from the event log, since this
  dashboard started watching (up to 10 min).</p>
  <p class="legend"><span class="completed">completed</span><span class="failed">failed attempts</span></p>
  <p class="muted small" id="charts-window"></p>
  <p class="note small" id="charts-omitted" hidden></p>
  <div id="charts" class="charts"><p class="empty" id="charts-empty">Waiting for jobs to finish…</p></div>
</section>`;
}

/** The queues page's body. */
export function queuesBody(ctx: ViewContext, snapshot: CountsSnapshot): Html {
  return html`<h1>Queues</h1>
<p class="muted">Pausing a queue stops every pool (in every process) from claiming its jobs; enqueueing goes on.</p>
<div id="counts" sse-swap="counts" hx-swap="innerHTML">${countsTable(ctx, snapshot, 'queues')}</div>`;
}
