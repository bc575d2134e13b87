/** What the checkpointer (driver thread) and the checkpoint worker say to each other. */

/** The worker's start-up data. */
export interface CheckpointWorkerData {
  /** The database file (never `:memory:`: another connection could not see it). */
  readonly path: string;
  readonly busyTimeoutMs: number;
  readonly synchronous: 'normal' | 'full';
  /** How often the worker looks for new commits in the WAL. */
  readonly intervalMs: number;
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
  | ({ readonly type: 'checkpointed'; readonly ms: number } & CheckpointResult);
