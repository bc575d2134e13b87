/** Schedules and workers (pools): two tables, each refreshed when the live stream says so. */
import { html } from 'hono/html';
import type { PoolRecord, ScheduleInfo } from '../../../index.js';
import { badge, type Html, timeCell, type ViewContext } from './format.js';

function rule(s: ScheduleInfo): string {
  const d = s.definition;
  if (d.cron) return `cron ${d.cron} (${d.timezone})`;
  return `every ${d.every} ms`;
}

/** The schedules table (inner HTML of `#schedules`). */
export function schedulesTable(ctx: ViewContext, schedules: ScheduleInfo[]): Html {
  if (schedules.length === 0)
    return html`<p class="empty">No schedules. Define one with <code>defineSchedule</code>.</p>`;
  return html`<table class="schedules">
<thead><tr><th>Id</th><th>Task</th><th>Rule</th><th>State</th><th>Next run</th><th>Last run</th>${ctx.readOnly ? '' : html`<th></th>`}</tr></thead>
<tbody>${schedules.map(
    (s) => html`<tr data-schedule="${s.id}">
<td>${s.id}</td><td>${s.definition.task}</td><td><code>${rule(s)}</code></td>
<td>${badge(s.paused ? 'paused' : 'active')}</td>
<td>${timeCell(s.nextRunAt, ctx.now)}</td>
<td>${timeCell(s.lastRunAt, ctx.now)}${s.lastJobId ? html` <a href="${ctx.base}/jobs/${s.lastJobId}">#${s.lastJobId}</a>` : ''}</td>
${
  ctx.readOnly
    ? ''
    : html`<td><button class="small" hx-post="${ctx.base}/ui/schedules/${encodeURIComponent(s.id)}/trigger" hx-target="#flash"
  data-action="trigger">Run now</button></td>`
}
</tr>`,
  )}</tbody></table>`;
}

/** The schedules page's body. */
export function schedulesBody(ctx: ViewContext, schedules: ScheduleInfo[]): Html {
  return html`<h1>Schedules</h1>
<div id="schedules" hx-get="${ctx.base}/ui/schedules" hx-trigger="sse:schedules" hx-swap="innerHTML">${schedulesTable(ctx, schedules)}</div>`;
}

/** The pools table (inner HTML of `#workers`). */
export function workersTable(ctx: ViewContext, pools: PoolRecord[]): Html {
  if (pools.length === 0)
    return html`<p class="empty">No pool is running. Start one with <code>jobwire worker</code>.</p>`;
  return html`<table class="workers">
<thead><tr><th>Pool</th><th>Host</th><th class="num">Pid</th><th>Queues</th><th class="num">Busy</th><th>State</th><th>Started</th><th>Last seen</th><th>Version</th></tr></thead>
<tbody>${pools.map(
    (p) => html`<tr data-pool="${p.poolId}">
<td><code>${p.poolId}</code></td><td>${p.host}</td><td class="num">${p.pid}</td><td>${p.queues.join(', ')}</td>
<td class="num"><span class="busy">${p.busy}</span>/${p.concurrency}</td><td>${badge(p.state)}</td>
<td>${timeCell(p.startedAt, ctx.now)}</td><td>${timeCell(p.lastSeenAt, ctx.now)}</td><td>${p.version ?? '—'}</td>
</tr>`,
  )}</tbody></table>`;
}

/** The workers page's body. */
export function workersBody(ctx: ViewContext, pools: PoolRecord[]): Html {
  return html`<h1>Workers</h1>
<p class="muted">Every running pool of every process on this database; each runs up to its concurrency of jobs at once.</p>
<div id="workers" hx-get="${ctx.base}/ui/workers" hx-trigger="sse:pools" hx-swap="innerHTML">${workersTable(ctx, pools)}</div>`;
}
