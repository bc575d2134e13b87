/**
 * Small pieces every page uses: times (absolute and relative), state badges, JSON blocks. All
 * go through Hono's `html` template, which escapes every interpolated string, so a payload, an
 * error message or a name can never become markup.
 */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

/** A fragment of escaped HTML. */
export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** What every view needs to know about the handler and the request. */
export interface ViewContext {
  /** Prefix of every link, form and asset URL ('' or e.g. '/admin/jobs'). */
  base: string;
  readOnly: boolean;
  /** The CSRF token the page sends back as `x-jobwire-csrf` on every non-GET request. */
  csrf: string;
  /** Time of rendering, for relative times. */
  now: number;
  /** Offer "Sign out" (the mounting handler has sessions). */
  signOut?: boolean;
}

/** "3 s ago", "in 2 min": coarse on purpose, the absolute time sits next to it. */
export function relativeTime(at: number, now: number): string {
  const delta = Math.round((at - now) / 1000);
  const abs = Math.abs(delta);
  const [value, unit] =
    abs < 60
      ? [abs, 's']
      : abs < 3600
        ? [Math.round(abs / 60), 'min']
        : abs < 86_400
          ? [Math.round(abs / 3600), 'h']
          : [Math.round(abs / 86_400), 'd'];
  if (abs < 2) return 'just now';
  return delta < 0 ? `${value} ${unit} ago` : `in ${value} ${unit}`;
}

/** `2026-12-01 15:04:05` in UTC (the page says UTC once, in the footer). */
export function absoluteTime(at: number): string {
  return new Date(at).toISOString().replace('T', ' ').slice(0, 19);
}

/** A time shown both ways; dashboard.js keeps the relative part fresh. */
export function timeCell(value: Date | number | null | undefined, now: number): Html {
  if (value === null || value === undefined) return html`<span class="muted">—</span>`;
  const at = typeof value === 'number' ? value : value.getTime();
  return html`<time datetime="${new Date(at).toISOString()}">${absoluteTime(at)}</time>
    <span class="rel" data-at="${at}">${relativeTime(at, now)}</span>`;
}

/** A job state (or `paused`, `running`, …) as a coloured badge. */
export function badge(state: string): Html {
  return html`<span class="badge badge-${state}">${state}</span>`;
}

/** A JSON value, pretty-printed, as text in a <pre>. */
export function jsonBlock(value: unknown, className = 'json'): Html {
  if (value === undefined) return html`<p class="muted">—</p>`;
  let text: string;
  try {
    text = JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    text = String(value);
  }
  return html`<pre class="${className}">${text}</pre>`;
}

/** A query string from the defined, non-empty values (each encoded). */
export function query(params: Record<string, string | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}
