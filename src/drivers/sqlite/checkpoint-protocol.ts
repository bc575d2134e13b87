/** What the checkpointer (driver thread) and the checkpoint worker say to each other. */

/** The worker's start-up data. */
export interface CheckpointWorkerData {
  /** The database file (never `:memory:`: another connection could not see it). */
  readonly path: string;
  readonly busyTimeoutMs: number;
  readonly synchronous: 'normal' | 'full';
  /** How often the worker looks for new commits in the WAL (and syncs it when it has some). */
  readonly intervalMs: number;
  /**
   * The longest time between checkpoints (each copies the WAL, which the next write rewinds)
   * while the WAL grows slowly; between checkpoints new commits are only synced. See the worker.
   */
  readonly rewindEveryMs: number;
  /** From this many frames in the WAL on, the tail is copied under the write lock (see the worker). */
  readonly fullAfterFrames: number;
}

/**
 * One checkpoint: `log` frames in the WAL when it began, of which `checkpointed` are now copied
 * into the database; `busy` when it could not take a lock it needed (another checkpointer, or for
 * `full` the write lock or a reader of an older snapshot).
 */
export interface CheckpointResult {
  readonly mode: 'passive' | 'full';
  readonly busy: boolean;
  readonly log: number;
  readonly checkpointed: number;
}

/**
 * From the worker: `ready` once its connection is open (the driver then stops its own
 * automatic checkpoints), then each checkpoint's result and duration.
 */
export type CheckpointerMessage =
  | { readonly type: 'ready' }
  /** The WAL was synced without a checkpoint (its new commits are durable). */
  | { readonly type: 'synced' }
  | ({ readonly type: 'checkpointed'; readonly ms: number } & CheckpointResult);
