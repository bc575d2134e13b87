/**
 * Events of jobs enqueued inside a caller's transaction are facts only once that transaction
 * commits, which the client cannot see. Drivers that can (PostgreSQL: NOTIFY is delivered on
 * commit and never after a rollback) announce the commit under a token the insert carried; this
 * holds each insert's events under its token until then. A rolled-back insert's events are never
 * announced: they expire after `TTL_MS` (and the oldest go first beyond `MAX_PENDING`), so
 * memory stays bounded.
 */
import { randomUUID } from 'node:crypto';
import { CHANNELS } from '../driver/driver.js';
import type { Runtime } from './runtime.js';

const TTL_MS = 60 * 60 * 1000;
const MAX_PENDING = 10_000;

/** See the module comment. One per client, created on the first transactional enqueue. */
export class CommitWatch {
  readonly #pending = new Map<string, { run: () => void; expiresAt: number }>();
  readonly #unlisten: () => void;

  constructor(runtime: Runtime) {
    this.#unlisten = runtime.driver.notifier.listen(CHANNELS.committed, (token) => {
      const entry = this.#pending.get(token);
      if (!entry) return;
      this.#pending.delete(token);
      entry.run();
    });
  }

  /** A token to pass as `commitToken`; `run` is called when its transaction commits. */
  register(run: () => void): string {
    const now = Date.now();
    for (const [token, entry] of this.#pending) {
      if (entry.expiresAt > now && this.#pending.size < MAX_PENDING) break;
      this.#pending.delete(token);
    }
    const token = randomUUID();
    this.#pending.set(token, { run, expiresAt: now + TTL_MS });
    return token;
  }

  /** Forget a token whose insert failed (nothing will commit). */
  forget(token: string): void {
    this.#pending.delete(token);
  }

  close(): void {
    this.#unlisten();
    this.#pending.clear();
  }
}
