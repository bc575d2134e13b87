/**
 * Writes this process's own events (no stored change causes them: pools and workers coming and
 * going, progress, leader changes, service errors) to the durable log, so other processes see
 * who is working. They are buffered and written as one row a few times a second; the buffer is
 * bounded, and when storage is away longer than it can cover the oldest are dropped (counted in
 * `dropped`): these events describe this process, and losing some during an outage costs no job.
 */
import type { LogEntry } from '../../driver/driver.js';
import type { JobwireEventName } from '../events.js';
import type { Runtime } from '../runtime.js';

/** How long events wait to be written together. */
const FLUSH_MS = 250;
/** Most events buffered; beyond it the oldest are dropped. */
const MAX_BUFFERED = 10_000;

/** See the module comment. */
export class ProcessEventWriter {
  readonly #runtime: Runtime;
  readonly #off: (() => void)[] = [];
  #buffer: LogEntry[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  /** Events dropped because the buffer was full (storage away too long). */
  dropped = 0;

  constructor(runtime: Runtime, types: readonly JobwireEventName[]) {
    this.#runtime = runtime;
    for (const type of new Set(types)) {
      this.#off.push(runtime.events.on(type, (data) => this.#add({ type, data })));
    }
  }

  #add(entry: LogEntry): void {
    // A payload JSON cannot hold (a BigInt in progress, a cycle) must not block the buffer.
    try {
      JSON.stringify(entry.data);
    } catch (error) {
      entry = { type: entry.type, data: { unencodable: true, error: String(error) } };
    }
    this.#buffer.push(entry);
    if (this.#buffer.length > MAX_BUFFERED) {
      this.#buffer.splice(0, this.#buffer.length - MAX_BUFFERED);
      this.dropped++;
    }
    if (!this.#timer) {
      this.#timer = setTimeout(() => void this.flush(), FLUSH_MS);
      this.#timer.unref();
    }
  }

  /** Write what is buffered (one row). A failed write keeps the events for the next try. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flushing ??= this.#write().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #write(): Promise<void> {
    const entries = this.#buffer;
    if (entries.length === 0) return;
    this.#buffer = [];
    try {
      await this.#runtime.driver.eventAppend({ entries });
    } catch {
      // Storage away: put them back in front and try again later (the buffer stays bounded).
      this.#buffer = [...entries, ...this.#buffer].slice(-MAX_BUFFERED);
      if (!this.#timer) {
        this.#timer = setTimeout(() => void this.flush(), FLUSH_MS * 4);
        this.#timer.unref();
      }
    }
  }

  /**
   * Stop listening and write what is left: best effort, for at most `timeoutMs` (closing must not
   * wait on a database that went away).
   */
  async close(timeoutMs = 2000): Promise<void> {
    for (const off of this.#off) off();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.flush(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
