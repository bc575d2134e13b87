/**
 * An in-process notifier: wake-ups reach listeners in this process only (other processes that
 * share the file poll, see `capabilities.crossProcessNotify`).
 */
import type { Notifier } from '../../driver/driver.js';

type Listener = (payload: string) => void;

/** The notifier plus a way to drop every listener when its driver closes. */
export interface InProcessNotifier extends Notifier {
  clear(): void;
}

/**
 * Delivery is deferred with `queueMicrotask`, so `notify` never runs listener code inside the
 * caller (a listener that claims jobs must not re-enter the insert that woke it). A listener
 * that throws is reported as a process warning and does not stop delivery to the others.
 */
export function createInProcessNotifier(): InProcessNotifier {
  const channels = new Map<string, Set<Listener>>();

  const deliver = (channel: string, listener: Listener, payload: string): void => {
    // Unsubscribed between notify and delivery: it asked not to hear any more.
    if (!channels.get(channel)?.has(listener)) return;
    try {
      listener(payload);
    } catch (err) {
      process.emitWarning(
        `jobwire: a listener on channel "${channel}" threw: ${err instanceof Error ? err.message : String(err)}`,
        { code: 'JOBWIRE_NOTIFIER_LISTENER' },
      );
    }
  };

  return {
    notify(channel, payload) {
      const listeners = channels.get(channel);
      if (!listeners) return;
      for (const listener of [...listeners]) queueMicrotask(() => deliver(channel, listener, payload));
    },
    listen(channel, listener) {
      let listeners = channels.get(channel);
      if (!listeners) {
        listeners = new Set();
        channels.set(channel, listeners);
      }
      // Wrap so the same function subscribed twice gets two independent subscriptions.
      const subscription: Listener = (payload) => listener(payload);
      listeners.add(subscription);
      return () => {
        const current = channels.get(channel);
        if (!current) return;
        current.delete(subscription);
        if (current.size === 0) channels.delete(channel);
      };
    },
    clear() {
      channels.clear();
    },
  };
}
