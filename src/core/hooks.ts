/**
 * Instrumentation hooks: code installed on a client (tracing, see `src/sinks/tracing.ts`) that
 * wraps every enqueue write and every attempt — to add reserved metadata to the stored jobs and
 * to run the handler inside a context of its own. The core knows no instrumentation library;
 * with no hook installed the wrapped paths cost one array-length check.
 */
import type { AttemptOutcome } from './attempt.js';
import type { JobRecord } from './types.js';

/** One enqueue call's write, as an `EnqueueHook` sees it. */
export interface EnqueueBatch {
  /** The jobs about to be stored, validated and encoded, in the caller's order. */
  readonly jobs: readonly { readonly task: string; readonly queue: string }[];
  /** True when the write joins the caller's transaction: its jobs exist only if that commits. */
  readonly inTransaction: boolean;
}

/**
 * Wraps every enqueue write of a client. `write` stores the batch and must be called once; the
 * keys of `metadata` given to it are added to every job's stored metadata (replacing the caller's
 * keys of the same name — instrumentation keeps to reserved `$` keys). The jobs it resolves to
 * (unique-key duplicates included) are the enqueue's result, whatever the hook returns.
 */
export interface EnqueueHook {
  aroundInsert<J extends JobRecord>(
    batch: EnqueueBatch,
    write: (metadata?: Readonly<Record<string, unknown>>) => Promise<J[]>,
  ): Promise<unknown>;
}

/** The attempt an `AttemptHook` wraps. */
export interface AttemptInfo {
  readonly jobId: string;
  readonly task: string;
  readonly queue: string;
  /** The attempt's number (1 for the first run). */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly correlationId: string;
  readonly workerId: string;
  /** The job's stored metadata (decoded on first read: most hooks only look at one key). */
  metadata(): Readonly<Record<string, unknown>>;
}

/**
 * Wraps every attempt run by a client's pools. `run` decodes the payload and calls the handler in
 * the async context current when `run` is called (so a hook can make its own context the
 * handler's); it never rejects and must be called once. Its outcome is the attempt's, whatever
 * the hook returns.
 */
export interface AttemptHook {
  aroundAttempt(attempt: AttemptInfo, run: () => Promise<AttemptOutcome>): Promise<unknown>;
}

/**
 * The hooks installed on a client. Instrumentation only observes: a hook that throws, rejects or
 * never calls its `write`/`run` is reported (`onError`) and the wrapped work runs all the same,
 * with the result it would have had without the hook.
 */
export class RuntimeHooks {
  #enqueue: readonly EnqueueHook[] = [];
  #attempt: readonly AttemptHook[] = [];

  /** Install hooks. Returns a function that removes them. */
  add(hooks: { enqueue?: EnqueueHook; attempt?: AttemptHook }): () => void {
    const { enqueue, attempt } = hooks;
    // Copy on write: a wrap in progress keeps the list it started with.
    if (enqueue) this.#enqueue = [...this.#enqueue, enqueue];
    if (attempt) this.#attempt = [...this.#attempt, attempt];
    return () => {
      this.#enqueue = this.#enqueue.filter((hook) => hook !== enqueue);
      this.#attempt = this.#attempt.filter((hook) => hook !== attempt);
    };
  }

  /** The enqueue hooks, outermost first (the order they were added in). */
  get enqueue(): readonly EnqueueHook[] {
    return this.#enqueue;
  }

  /** The attempt hooks, outermost first (the order they were added in). */
  get attempt(): readonly AttemptHook[] {
    return this.#attempt;
  }
}

/**
 * Run `work` inside `wrap`, guarded as `RuntimeHooks` promises: `work` runs exactly once, its
 * result (or rejection) is what this returns, and a failure of `wrap` itself goes to `onError`.
 */
export async function runWrapped<T>(
  wrap: (proceed: () => Promise<T>) => Promise<unknown>,
  work: () => Promise<T>,
  onError: (error: unknown) => void,
): Promise<T> {
  let result: Promise<T> | undefined;
  const proceed = () => {
    if (result === undefined) {
      result = work();
      // Handled here for the time a hook holds it unawaited; the caller still gets the rejection.
      result.catch(() => {});
    }
    return result;
  };
  try {
    await wrap(proceed);
  } catch (error) {
    // A hook that passes the work's own rejection on has not failed itself.
    const own =
      result === undefined ||
      (await result.then(
        () => true,
        (failure) => failure !== error,
      ));
    if (own) onError(error);
  }
  return proceed();
}
