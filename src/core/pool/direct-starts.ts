/**
 * Direct starts: a job enqueued in a process whose pool has an idle slot for it is stored already
 * started for that pool by the enqueue's own write (see `DirectStart` in driver/params.ts), and the
 * pool runs it without claiming it — a claim's round trip less between enqueue and start.
 *
 * Before the write, the client asks the running pools for a slot (`reserve`); a pool that offers
 * one sets that slot aside, so no claim fills it meanwhile. After the write the reservation is
 * either given the started job (`accept`) or freed (`cancel`, when storage inserted the job as
 * pending because a claim would have taken another job first, or when the write failed).
 */
import type { ClaimedJob, DirectStart } from '../../driver/driver.js';

/** A slot a pool set aside for the job of one enqueue in flight. */
export interface DirectStartReservation {
  /** What to tell the driver (`JobInsertManyParams.start`). */
  readonly start: DirectStart;
  /** Run the job storage started for this pool (or give it back if the pool stopped meanwhile). */
  accept(job: ClaimedJob): void;
  /** Free the slot: the job was not started for this pool. */
  cancel(): void;
}

/** A pool that may take enqueued jobs directly. */
export interface DirectStarter {
  /** A reservation for a job of `task` in `queue`, if this pool has an idle slot for it now. */
  offer(queue: string, task: string): DirectStartReservation | undefined;
}

/** The running pools of one client that take direct starts. */
export class DirectStarts {
  readonly #starters = new Set<DirectStarter>();

  /** A pool started: offer it enqueued jobs. Returns the function that stops that. */
  add(starter: DirectStarter): () => void {
    this.#starters.add(starter);
    return () => this.#starters.delete(starter);
  }

  /** A slot for a job of `task` in `queue` from the first pool that has one, if any. */
  reserve(queue: string, task: string): DirectStartReservation | undefined {
    for (const starter of this.#starters) {
      const reservation = starter.offer(queue, task);
      if (reservation) return reservation;
    }
    return undefined;
  }
}
