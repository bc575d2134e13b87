/**
 * Reading the durable log: pages (`read`), a live tail across processes (`tail`), one job's
 * timeline (`forJob`). Reads go through the driver, which returns committed events in commit
 * order after a cursor; this module resolves positions, checks options and waits for more.
 */
import type { EventFilter, StoredLogEvent } from '../../driver/driver.js';
import { InvalidOptionError } from '../errors.js';
import type { EventBus } from '../events.js';
import { assertKnownOptions, optionNames } from '../known-options.js';
import { jobIdArgument } from '../options.js';
import type { Runtime } from '../runtime.js';
import { assertEventNames } from './names.js';
import type { EventLogFilter, EventPage, EventReadOptions, EventTailOptions, LoggedEvent } from './types.js';

/** Most events one `read` returns. */
export const MAX_EVENT_READ = 10_000;

/** See the module comment. One per client. */
export class EventLogReader {
  readonly #runtime: Runtime;

  constructor(runtime: Runtime) {
    this.#runtime = runtime;
  }

  /** The cursor after the newest committed event. */
  head(): Promise<string> {
    return this.#runtime.driver.eventHead();
  }

  /** A page of committed events after `after` (default: the oldest kept). */
  async read(options: EventReadOptions = {}): Promise<EventPage> {
    checkOptionsObject(options, READ_OPTIONS, 'read option');
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENT_READ) {
      throw new InvalidOptionError('limit', `must be an integer from 1 to ${MAX_EVENT_READ}`);
    }
    const after = await this.#position(options.after ?? 'start');
    const page = await this.#runtime.driver.eventRead({ after, limit, filter: checkFilter(options.filter) });
    return { events: page.events as LoggedEvent[], cursor: page.cursor, more: page.more };
  }

  /**
   * Every committed event after `after` (default `'now'`), as it is committed, from any process:
   * pages are read while there are more, then the log is polled every `pollMs` (sooner when this
   * process emits an event). Memory stays at one page whatever the consumer's pace: a slow
   * consumer simply reads further behind. Ends when `signal` aborts.
   */
  async *tail(options: EventTailOptions = {}): AsyncGenerator<LoggedEvent, void, undefined> {
    checkOptionsObject(options, TAIL_OPTIONS, 'tail option');
    const pollMs = options.pollMs ?? 200;
    if (!Number.isInteger(pollMs) || pollMs < 1)
      throw new InvalidOptionError('pollMs', 'must be an integer >= 1');
    const filter = checkFilter(options.filter);
    const { signal } = options;
    let cursor = await this.#position(options.after ?? 'now');
    const waker = new Waker(this.#runtime.events, signal);
    try {
      while (!signal?.aborted) {
        const page = await this.#runtime.driver.eventRead({ after: cursor, limit: 500, filter });
        for (const event of page.events) {
          if (signal?.aborted) return;
          yield event as LoggedEvent;
        }
        cursor = page.cursor;
        if (!page.more) await waker.wait(pollMs);
      }
    } finally {
      waker.close();
    }
  }

  /** One job's events, oldest first. */
  async forJob(idArgument: string | number, limit = 1000): Promise<LoggedEvent[]> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TIMELINE_EVENTS) {
      throw new InvalidOptionError('limit', `must be an integer from 1 to ${MAX_TIMELINE_EVENTS}`);
    }
    const jobId = String(jobIdArgument(idArgument));
    const events: StoredLogEvent[] = await this.#runtime.driver.eventListForJob({ jobId, limit });
    return events.map(({ type, data, at }) => ({ type, data, at })) as LoggedEvent[];
  }

  /** A position as the driver takes it: null for the start, the head for `'now'`. */
  async #position(after: string): Promise<string | null> {
    if (typeof after !== 'string' || after === '') {
      throw new InvalidOptionError('after', "must be a cursor, 'start' or 'now'");
    }
    if (after === 'start') return null;
    if (after === 'now') return this.head();
    return after;
  }
}

/** Most events one job timeline returns (a job retried for weeks stays readable in one call). */
const MAX_TIMELINE_EVENTS = 100_000;

const READ_OPTIONS = optionNames<EventReadOptions>({ after: true, limit: true, filter: true });
const TAIL_OPTIONS = optionNames<EventTailOptions>({ after: true, filter: true, signal: true, pollMs: true });

/** An options object with only fields from `known` (see known-options.ts). */
export function checkOptionsObject(options: object, known: ReadonlySet<string>, what: string): void {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'must be an object');
  }
  assertKnownOptions('', options, known, what);
}

const FILTER_FIELDS = optionNames<EventLogFilter>({ types: true, queues: true, jobIds: true });

/**
 * `filter` checked: its known fields only, arrays of strings, and event names the log can hold —
 * a misspelt field or name would otherwise match everything or nothing, without a word.
 */
export function checkFilter(filter: EventLogFilter | undefined): EventFilter | undefined {
  if (filter === undefined) return undefined;
  if (filter === null || typeof filter !== 'object')
    throw new InvalidOptionError('filter', 'must be an object');
  assertKnownOptions('filter', filter, FILTER_FIELDS, 'filter field');
  for (const key of ['types', 'queues', 'jobIds'] as const) {
    const list = filter[key];
    if (list !== undefined && (!Array.isArray(list) || list.some((v) => typeof v !== 'string'))) {
      throw new InvalidOptionError(`filter.${key}`, 'must be an array of strings');
    }
  }
  if (filter.types !== undefined) assertEventNames('filter.types', filter.types);
  return filter;
}

/** Sleeps until a timeout, an event on this process's bus, or the abort signal. */
class Waker {
  #wake: (() => void) | undefined;
  #soon: NodeJS.Timeout | undefined;
  readonly #offBus: () => void;
  readonly #onAbort = () => this.#wake?.();
  readonly #signal: AbortSignal | undefined;

  constructor(bus: EventBus, signal: AbortSignal | undefined) {
    // Stored events of this process reach its bus right after they commit: look soon after
    // (a few ms later, so a burst of events costs one read, not one read per event).
    this.#offBus = bus.onAny(() => {
      if (this.#wake && !this.#soon) this.#soon = setTimeout(() => this.#wake?.(), 5);
    });
    this.#signal = signal;
    signal?.addEventListener('abort', this.#onAbort);
  }

  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const wake = this;
      function done() {
        clearTimeout(timer);
        clearTimeout(wake.#soon);
        wake.#soon = undefined;
        wake.#wake = undefined;
        resolve();
      }
      this.#wake = done;
    });
  }

  close(): void {
    this.#offBus();
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#wake?.();
  }
}
