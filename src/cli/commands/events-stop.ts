/**
 * How `jobwire events tail` ends: SIGINT (Ctrl-C) or SIGTERM, or stdout closing under it
 * (`jobwire events tail | head`). The first of these calls `onStop`, and the listeners go at
 * once: should the graceful end hang (a database that stopped answering), a second signal gets
 * the default action and ends the process.
 */
import { once } from 'node:events';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Call `onStop` once on the first signal or stdout error; returns a function that stops listening. */
export function listenForStop(out: NodeJS.WritableStream, onStop: () => void): () => void {
  let stopped = false;
  const stop = () => {
    off();
    if (stopped) return;
    stopped = true;
    onStop();
  };
  // EPIPE and friends: nobody reads any more, so there is nothing left to do.
  const onError = () => stop();
  function off() {
    for (const signal of SIGNALS) process.off(signal, stop);
    out.off('error', onError);
  }
  for (const signal of SIGNALS) process.on(signal, stop);
  out.on('error', onError);
  return off;
}

/**
 * The cursor of the last event whose lines reached stdout's reader, with backpressure. To a pipe
 * Node writes asynchronously: a line stays queued in this process until the reader takes it,
 * and what is queued is lost when the process exits. A tail that advanced its cursor when it
 * queued a line printed a resume hint past thousands of lines its reader never got (a slow
 * reader, then SIGTERM: 989 lines delivered, the hint ~5,400 events further on); so the cursor
 * moves when the stream reports the line written, and the tail reads on only once the stream has
 * room, holding at most a buffer's worth.
 */
export class DeliveredCursor {
  #cursor: string;

  constructor(
    readonly out: NodeJS.WritableStream,
    start: string,
  ) {
    this.#cursor = start;
  }

  /** The cursor after the last event delivered. */
  get cursor(): string {
    return this.#cursor;
  }

  /**
   * Mark `cursor` as delivered once everything written so far is; wait while stdout's buffer is
   * full (until it drains, or `signal` stops the tail).
   */
  async written(cursor: string, signal: AbortSignal): Promise<void> {
    const room = this.out.write('', (error) => {
      if (!error) this.#cursor = cursor;
    });
    if (room || signal.aborted) return;
    await once(this.out, 'drain', { signal }).catch(() => {});
  }

  /** Resolves once everything written so far is delivered, or after `timeoutMs` (a reader that stopped reading). */
  flushed(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.out.write('', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
