/**
 * Every event name the durable log can hold, at run time: for checking a filter's `types` (an
 * unknown name would silently match nothing) and for "did you mean" hints.
 */
import { InvalidOptionError } from '../errors.js';
import { closestName } from '../known-options.js';
import type { LoggedEventName } from './types.js';

// A Record, so the compiler flags a name added to (or dropped from) `LoggedEvents`.
const NAMES: Record<LoggedEventName, true> = {
  'pool:created': true,
  'pool:started': true,
  'pool:stopping': true,
  'pool:stopped': true,
  'pool:error': true,
  'pool:lost': true,
  'leader:elected': true,
  'leader:resigned': true,
  'service:error': true,
  'worker:created': true,
  'worker:started': true,
  'worker:idle': true,
  'worker:busy': true,
  'worker:stopped': true,
  'job:queued': true,
  'job:deduplicated': true,
  'job:debounced': true,
  'job:started': true,
  'job:progress': true,
  'job:completed': true,
  'job:failed': true,
  'job:retrying': true,
  'job:snoozed': true,
  'job:abandoned': true,
  'job:retried': true,
  'job:cancelled': true,
  'job:deleted': true,
  'job:blocked': true,
  'job:unblocked': true,
  'job:rescued': true,
  'job:interrupted': true,
  'job:released': true,
  'job:lease-lost': true,
  'flow:held': true,
  'flow:unheld': true,
  'queue:paused': true,
  'queue:resumed': true,
  'queue:full': true,
  'queue:health': true,
  'queue:backlog': true,
  'alert:fired': true,
  'alert:resolved': true,
  'shutdown:requested': true,
  'schedule:fired': true,
  'schedule:missed': true,
  'schedule:skipped': true,
  'schedule:backfilled': true,
};

/** The names, in the order of the catalogue above. */
export const LOGGED_EVENT_NAMES: readonly LoggedEventName[] = Object.freeze(
  Object.keys(NAMES) as LoggedEventName[],
);

const KNOWN: ReadonlySet<string> = new Set(LOGGED_EVENT_NAMES);
const SCOPES: ReadonlySet<string> = new Set(LOGGED_EVENT_NAMES.map((name) => name.split(':')[0]!));

/**
 * Refuse a list of event names holding one no event has (`job:complete`), which would match
 * nothing without a word; with `patterns`, `"scope:*"` (a known scope) and `"*"` are accepted too.
 * The error names `field` and the closest known name.
 */
export function assertEventNames(field: string, names: readonly string[], patterns = false): void {
  for (const name of names) {
    if (KNOWN.has(name)) continue;
    if (patterns && (name === '*' || (name.endsWith(':*') && SCOPES.has(name.slice(0, -2))))) continue;
    const near = closestName(name, patterns ? [...KNOWN, ...[...SCOPES].map((s) => `${s}:*`)] : KNOWN);
    throw new InvalidOptionError(
      field,
      `"${name.slice(0, 80)}" is no jobwire event${near ? ` — did you mean "${near}"?` : ''} (see LOGGED_EVENT_NAMES)`,
    );
  }
}
