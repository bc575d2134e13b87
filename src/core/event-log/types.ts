/** The typed shape of events read back from the durable log. */
import type { AttemptEventBase, JobwireEvents } from '../events.js';
import type { EpochMs } from '../types.js';

/**
 * Payloads as the log stores them: those of the in-process bus, except that `job:started` is
 * stored by the claim, before a worker slot is chosen, so it has no `workerId`.
 */
export type LoggedEvents = Omit<JobwireEvents, 'job:started' | 'job:completed'> & {
  'job:started': Omit<AttemptEventBase, 'workerId'> & { workerId?: string };
  /**
   * The result as stored; a result whose JSON is over 16 KiB is left out (`result` null,
   * `resultOmitted` true): read it from the job.
   */
  'job:completed': JobwireEvents['job:completed'] & { resultOmitted?: true };
};

/** The name of an event the log can hold. */
export type LoggedEventName = keyof LoggedEvents;

/** One event read from the log: its name, payload, when it was stored and the cursor after it. */
export type LoggedEvent = {
  [K in LoggedEventName]: {
    type: K;
    data: LoggedEvents[K];
    /** When the writing transaction stored it (the database's clock on PostgreSQL). */
    at: EpochMs;
    /** Pass as `after` to continue just after this event. Opaque. */
    cursor: string;
  };
}[LoggedEventName];

/** Which events to return (every given field must match). */
export interface EventLogFilter {
  types?: readonly LoggedEventName[];
  queues?: readonly string[];
  jobIds?: readonly string[];
}

/** Where a read starts: a cursor, `'start'` (the oldest event kept) or `'now'` (only later ones). */
export type EventPosition = string;

/** Options of `jobwire.events.read`. */
export interface EventReadOptions {
  /** Default `'start'`. */
  after?: EventPosition;
  /** Most events returned, 1–10 000. Default 100. */
  limit?: number;
  filter?: EventLogFilter;
}

/** A page of the log. */
export interface EventPage {
  events: LoggedEvent[];
  /** Where the next read continues. */
  cursor: string;
  /**
   * True when more committed events were left to examine: read again from `cursor`. With a
   * filter, a page can be empty and still have `more` (it examined a stretch with no match).
   */
  more: boolean;
}

/** Options of `jobwire.events.tail`. */
export interface EventTailOptions {
  /** Default `'now'`. */
  after?: EventPosition;
  filter?: EventLogFilter;
  /** Ends the iteration (without an error). */
  signal?: AbortSignal;
  /** How often to look for new events when caught up, in ms. Default 200. */
  pollMs?: number;
}
