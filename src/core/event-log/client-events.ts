/**
 * `jobwire.events`: the in-process bus (`on`, `off`, `onAny`) and the durable log (`read`,
 * `tail`, `subscribe`) on one object, so listening here and reading from anywhere look alike.
 */
import { EventBus, type JobwireEventName, type JobwireListener } from '../events.js';
import type { Runtime } from '../runtime.js';
import { assertEventNames } from './names.js';
import type { EventLogReader } from './reader.js';
import {
  type SubscribeOptions,
  type Subscription,
  type SubscriptionHandler,
  startSubscription,
} from './subscription.js';
import type { EventPage, EventReadOptions, EventTailOptions, LoggedEvent } from './types.js';

/** See the module comment. */
export class JobwireEventStream extends EventBus {
  #log: { runtime: Runtime; reader: EventLogReader } | undefined;
  readonly #subscriptions = new Set<Subscription>();

  /**
   * Listen to one event. A name no event has (`job:complete`) is an `InvalidOptionError` with the
   * closest name: from JavaScript, a typo would otherwise listen for ever to nothing.
   */
  override on<K extends JobwireEventName>(name: K, listener: JobwireListener<K>): () => void {
    assertEventNames('name', [name]);
    return super.on(name, listener);
  }

  /** Listen to the next occurrence of one event only (the name checked as by `on`). */
  override once<K extends JobwireEventName>(name: K, listener: JobwireListener<K>): () => void {
    assertEventNames('name', [name]);
    return super.once(name, listener);
  }

  /** @internal Wire the log once the client's runtime exists. */
  attachLog(runtime: Runtime, reader: EventLogReader): void {
    this.#log = { runtime, reader };
  }

  #use(): { runtime: Runtime; reader: EventLogReader } {
    if (!this.#log) throw new Error('jobwire: this event bus has no durable log attached');
    return this.#log;
  }

  /**
   * A page of committed events from the durable log, written by any process, in commit order:
   * `after` a cursor (default `'start'`, the oldest kept). Continue with the page's `cursor`.
   * Throws `EventCursorExpiredError` when events after the cursor were pruned.
   */
  read(options?: EventReadOptions): Promise<EventPage> {
    return this.#use().reader.read(options);
  }

  /**
   * Every event committed after `after` (default `'now'`) by any process, live, as an async
   * iterable: `for await (const event of jobwire.events.tail({ signal })) …`. Never skips an
   * event and never repeats one; keep `event.cursor` to resume after a restart.
   */
  tail(options?: EventTailOptions): AsyncGenerator<LoggedEvent, void, undefined> {
    return this.#use().reader.tail(options);
  }

  /** The cursor after the newest committed event. */
  head(): Promise<string> {
    return this.#use().reader.head();
  }

  /**
   * A durable named subscription: `handler` gets every matching event at least once, in order,
   * and the position is stored under `name` (a restart resumes there). On PostgreSQL the handler
   * gets the transaction the position is stored in: write through it for effectively-once.
   */
  subscribe(name: string, handler: SubscriptionHandler, options?: SubscribeOptions): Subscription {
    const subscription = startSubscription(this.#use().runtime, name, handler, options);
    this.#subscriptions.add(subscription);
    void subscription.done.finally(() => this.#subscriptions.delete(subscription));
    return subscription;
  }

  /** Forget a subscription's stored position (it starts over when subscribed again). */
  deleteSubscription(name: string): Promise<boolean> {
    return this.#use().runtime.driver.eventSubscriptionDelete({ name });
  }

  /** @internal Stop every subscription (the client is closing). */
  async stopSubscriptions(): Promise<void> {
    await Promise.all([...this.#subscriptions].map((s) => s.stop()));
  }
}
