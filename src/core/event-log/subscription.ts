/**
 * Durable named subscriptions: a handler fed every matching event of the log, whose position is
 * stored in the database under its name, so a restarted process (or another one taking over the
 * name) resumes where the last one stopped.
 *
 * Delivery is at least once: the cursor moves after the handler returns, so a crash in between
 * delivers that event again. Where the driver can join a caller's transaction (PostgreSQL), the
 * handler gets that transaction and the cursor is stored in it — one transaction per page of up
 * to 100 events: what the handlers write through it commits together with the cursor, so their
 * effects happen exactly once (a failure rolls the page back and it is delivered again). A handler that throws
 * is retried with backoff (`service:error` reports each failure); events are never skipped.
 */
import { InvalidOptionError } from '../errors.js';
import { optionNames } from '../known-options.js';
import type { Runtime } from '../runtime.js';
import { toStoredError } from '../serialize.js';
import { checkFilter, checkOptionsObject } from './reader.js';
import type { EventLogFilter, EventPosition, LoggedEvent } from './types.js';

/** What a subscription handler gets besides the event. */
export interface SubscriptionContext {
  /**
   * The open transaction (a `pg` client on PostgreSQL) in which the subscription's cursor is
   * stored after the handler returns; write through it for effectively-once processing.
   * Undefined where the driver has no such transactions (SQLite): delivery is at least once.
   */
  transaction: unknown;
  /** The subscription's name. */
  name: string;
}

/** A subscription's handler. */
export type SubscriptionHandler = (event: LoggedEvent, context: SubscriptionContext) => Promise<void> | void;

/** Options of `jobwire.events.subscribe`. */
export interface SubscribeOptions {
  filter?: EventLogFilter;
  /** Where a subscription with no stored cursor starts: `'start'` (default) or `'now'`. */
  from?: EventPosition;
  /** How often to look for new events when caught up, in ms. Default 200. */
  pollMs?: number;
}

/** A running subscription. */
export interface Subscription {
  readonly name: string;
  /** Stop after the event being handled (if any); resolves when stopped. */
  stop(): Promise<void>;
  /** Resolves when the subscription stopped. */
  readonly done: Promise<void>;
}

const SUBSCRIBE_OPTIONS = optionNames<SubscribeOptions>({ filter: true, from: true, pollMs: true });

const NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,200}$/;

/** Start a subscription (see the module comment). */
export function startSubscription(
  runtime: Runtime,
  name: string,
  handler: SubscriptionHandler,
  options: SubscribeOptions = {},
): Subscription {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new InvalidOptionError('name', 'must be 1–200 characters of letters, digits, _ . : -');
  }
  if (typeof handler !== 'function') throw new InvalidOptionError('handler', 'must be a function');
  checkOptionsObject(options, SUBSCRIBE_OPTIONS, 'subscribe option');
  const filter = checkFilter(options.filter);
  const pollMs = options.pollMs ?? 200;
  if (!Number.isInteger(pollMs) || pollMs < 1)
    throw new InvalidOptionError('pollMs', 'must be an integer >= 1');
  const from = options.from ?? 'start';
  if (from !== 'start' && from !== 'now') throw new InvalidOptionError('from', "must be 'start' or 'now'");
  const controller = new AbortController();
  const { driver, events, clock } = runtime;
  // The abort listener goes when the sleep ends: an idle subscription sleeps five times a
  // second, and a listener left per sleep piled up (MaxListenersExceededWarning within 2 s).
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        controller.signal.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      controller.signal.addEventListener('abort', wake, { once: true });
    });

  const run = async (): Promise<void> => {
    let failures = 0;
    while (!controller.signal.aborted) {
      try {
        const stored = await driver.eventSubscriptionGet({ name });
        // A new subscription starting at 'now' pins that position first, so events committed
        // between this start and the first read are not lost.
        if (stored === null && from === 'now') {
          await driver.eventSubscriptionAdvance({ name, from: null, to: await driver.eventHead() });
          continue;
        }
        let cursor = stored;
        const page = await driver.eventRead({ after: cursor, limit: 100, filter });
        let moved = false;
        // With transactions, a page's handlers and its new position commit together (one
        // transaction per page, not per event). Without, the position moves after each event,
        // so a failure re-delivers as little as possible.
        const steps = driver.capabilities.callerTransactions
          ? page.events.length > 0
            ? [page.events]
            : []
          : page.events.map((event) => [event]);
        for (const events of steps) {
          if (controller.signal.aborted) return;
          const to = events[events.length - 1]!.cursor;
          const ok = await driver.eventSubscriptionAdvance({
            name,
            from: cursor,
            to,
            work: async (transaction) => {
              for (const event of events) await handler(event as LoggedEvent, { transaction, name });
            },
          });
          if (!ok) {
            moved = true; // another consumer of this name advanced it: read from its position
            break;
          }
          cursor = to;
        }
        // Events the filter skipped still move the cursor, so they are not read again.
        if (!moved && page.cursor !== cursor) {
          await driver.eventSubscriptionAdvance({ name, from: cursor, to: page.cursor });
        }
        failures = 0;
        if (!page.more && !moved) await sleep(pollMs);
      } catch (error) {
        failures++;
        const retryInMs = Math.min(30_000, 100 * 2 ** Math.min(failures, 9));
        const at = clock.now();
        events.emit('service:error', {
          service: `subscription:${name}`,
          operation: 'deliver',
          error: toStoredError(error, 0, at),
          retryInMs,
          at,
        });
        await sleep(retryInMs);
      }
    }
  };
  const done = run();
  return {
    name,
    done,
    stop() {
      controller.abort();
      return done;
    },
  };
}
