/** One job: its fields, payload, result, every attempt's error and stack, and its timeline. */
import { html } from 'hono/html';
import type { JobRecord, LoggedEvent, StoredError } from '../../../index.js';
import { badge, type Html, jsonBlock, timeCell, type ViewContext } from './format.js';

const FINAL = new Set(['completed', 'abandoned', 'cancelled']);

/** A one-line summary of an event's payload beyond its type and time (text, escaped by the caller). */
export function eventSummary(event: LoggedEvent): string {
  const data = event.data as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof data.attempt === 'number' && data.attempt > 0) parts.push(`attempt ${data.attempt}`);
  if (typeof data.workerId === 'string') parts.push(`worker ${data.workerId}`);
  else if (typeof data.poolId === 'string') parts.push(`pool ${data.poolId}`);
  if (typeof data.durationMs === 'number') parts.push(`took ${data.durationMs} ms`);
  if (typeof data.delayMs === 'number') parts.push(`retry in ${data.delayMs} ms`);
  if (typeof data.previousState === 'string') parts.push(`was ${data.previousState}`);
  const error = data.error as Partial<StoredError> | undefined;
  if (error && typeof error.message === 'string') parts.push(`${error.name ?? 'Error'}: ${error.message}`);
  return parts.join(' · ');
}

function actions(ctx: ViewContext, job: JobRecord): Html {
  if (ctx.readOnly) return html``;
  const url = `${ctx.base}/ui/jobs/${job.id}`;
  return html`<div class="actions">
${FINAL.has(job.state) ? html`<button id="job-retry" hx-post="${url}/retry" hx-target="#flash" data-action="retry">Retry</button>` : ''}
${FINAL.has(job.state) ? '' : html`<button id="job-cancel" hx-post="${url}/cancel" hx-target="#flash" hx-confirm="Cancel job #${job.id}?" data-action="cancel">Cancel</button>`}
<button id="job-delete" class="danger" hx-post="${url}/delete" hx-target="#flash" hx-confirm="Delete job #${job.id} for good?" data-action="delete">Delete</button>
</div>`;
}

function errorBlock(ctx: ViewContext, error: StoredError): Html {
  return html`<article class="attempt-error">
<h3>Attempt ${error.attempt} · ${error.name}${error.interrupted ? html` ${badge('interrupted')}` : ''} · ${timeCell(error.at, ctx.now)}</h3>
<pre class="message">${error.message}</pre>
${error.stack ? html`<pre class="stack">${error.stack}</pre>` : ''}
</article>`;
}

/** A job's timeline as the page shows it: at most a page of events, oldest first. */
export interface Timeline {
  events: LoggedEvent[];
  /** True when the job has more events than shown (the newest are the ones left out). */
  cut: boolean;
}

/** The job panel's inner HTML (re-fetched when the live stream says the job changed). */
export function jobPanel(ctx: ViewContext, job: JobRecord, { events: timeline, cut }: Timeline): Html {
  return html`<div class="job-head">
<h1>Job #${job.id} ${badge(job.state)}</h1>
${actions(ctx, job)}
</div>
<dl class="fields">
<dt>Task</dt><dd>${job.task}</dd>
<dt>Queue</dt><dd><a href="${ctx.base}/jobs?queue=${encodeURIComponent(job.queue)}">${job.queue}</a></dd>
<dt>Attempt</dt><dd>${job.attempt} of ${job.maxAttempts}${job.interruptions ? ` (${job.interruptions} interrupted)` : ''}</dd>
<dt>Priority</dt><dd>${job.priority}</dd>
<dt>Created</dt><dd>${timeCell(job.createdAt, ctx.now)}</dd>
<dt>Runs at</dt><dd>${timeCell(job.runAt, ctx.now)}</dd>
<dt>Started</dt><dd>${timeCell(job.startedAt, ctx.now)}</dd>
<dt>Finished</dt><dd>${timeCell(job.finishedAt, ctx.now)}</dd>
<dt>Pool</dt><dd>${job.poolId ?? '—'}</dd>
<dt>Correlation</dt><dd><code>${job.correlationId}</code></dd>
${job.uniqueKey ? html`<dt>Unique key</dt><dd><code>${job.uniqueKey}</code></dd>` : ''}
<dt>Timeout</dt><dd>${job.timeoutMs === null ? 'none' : `${job.timeoutMs} ms`}</dd>
</dl>
<section id="job-payload"><h2>Payload</h2>${jsonBlock(job.payload)}</section>
<section id="job-result"><h2>Result</h2>${job.result === null ? html`<p class="muted">—</p>` : jsonBlock(job.result)}</section>
${job.progress === null || job.progress === undefined ? '' : html`<section><h2>Progress</h2>${jsonBlock(job.progress)}</section>`}
${Object.keys(job.metadata).length ? html`<section><h2>Metadata</h2>${jsonBlock(job.metadata)}</section>` : ''}
<section id="job-errors"><h2>Errors</h2>${
    job.errors.length === 0
      ? html`<p class="muted">No failed attempts.</p>`
      : html`<div class="errors">${job.errors.map((e) => errorBlock(ctx, e))}</div>`
  }</section>
${timelineSection(ctx, job.id, { events: timeline, cut })}`;
}

/** The timeline section: the job's events from the log, oldest first. */
function timelineSection(ctx: ViewContext, id: string, { events: timeline, cut }: Timeline): Html {
  return html`<section id="job-timeline"><h2>Timeline</h2>${
    timeline.length === 0
      ? html`<p class="muted">No events in the log for this job (the log may be off, or pruned).</p>`
      : html`<ol class="timeline">${timeline.map(
          (
            e,
          ) => html`<li data-event="${e.type}">${badge(e.type.replace('job:', ''))} ${timeCell(e.at, ctx.now)}
<span class="summary">${eventSummary(e)}</span></li>`,
        )}</ol>${
          cut
            ? html`<p class="note" data-timeline-cut>Only the first ${timeline.length} events are shown: the newest
are left out. <code>jobwire events job ${id} --limit 10000</code> prints up to 10,000.</p>`
            : ''
        }`
  }</section>`;
}

/**
 * A job whose row is gone but whose events the log still holds: deleted by hand, pruned by
 * retention, or deleted as it completed (retention `completed: 'immediately'`). What the log
 * knows is shown — its timeline, and the result its `job:completed` carried.
 */
export function goneJob(ctx: ViewContext, id: string, timeline: Timeline): Html {
  const completed = timeline.events.findLast((e) => e.type === 'job:completed');
  const result =
    completed?.type === 'job:completed'
      ? completed.data.resultOmitted
        ? html`<p class="muted">Over 16 KiB: not kept in the log.</p>`
        : jsonBlock(completed.data.result)
      : undefined;
  return html`<div class="job-head"><h1>Job #${id} ${badge('deleted')}</h1></div>
<p class="note" data-job-gone>This job is no longer stored: it was deleted by hand, pruned by retention, or deleted
as it completed (retention <code>completed: 'immediately'</code>). The event log still has its timeline.</p>
${result ? html`<section id="job-result"><h2>Result</h2>${result}</section>` : ''}
${timelineSection(ctx, id, timeline)}`;
}

/** The job page's body: the panel refreshes itself when this job's events arrive. */
export function jobBody(ctx: ViewContext, job: JobRecord, timeline: Timeline): Html {
  return html`<section id="job" hx-get="${ctx.base}/ui/jobs/${job.id}" hx-trigger="sse:job" hx-swap="innerHTML">${jobPanel(
    ctx,
    job,
    timeline,
  )}</section>`;
}

/** The panel of a job that does not exist (or no longer does). */
export function missingJob(ctx: ViewContext, id: string): Html {
  return html`<h1>Job #${id}</h1><p class="empty">There is no job #${id}: it was deleted, pruned, or never existed.
<a href="${ctx.base}/jobs">All jobs</a></p>`;
}
