/**
 * The log's `job:completed`, built from the attempt's facts. It is the most frequent event a
 * worker writes (one per job run), so it is one small object per job — no payload object, no
 * array of its fields, the result's stored JSON text taken as it is — and the completions of one
 * write are packed into one column batch in a single pass over them (`COMPLETED_COLUMNS`, handed
 * the run by `packEntries`). What it stands for is exactly the payload `outcomeEntries` builds:
 * `{ ...attemptEventBase(job, poolId, workerId, startedAt), completedAt, durationMs, result }`,
 * plus `resultOmitted: true` for a result over `MAX_LOGGED_RESULT_BYTES`.
 *
 * Measured in instructions (valgrind, a fresh worker draining 50,000 jobs on SQLite): the log's
 * `job:completed` took 0.49 G of the log's 1.37 G as per-job arrays packed column by column
 * afterwards, 0.31 G like this (bench/results/2026-12-04-s37-log-instructions.md).
 */

import { ClaimColumns } from './claim-columns.js';
import { COMPLETED_CODE, type ColumnBatcher, isInt, type LogEntry } from './event-codes.js';
import { columnBatchJson, columnJson, type PackableClaim } from './event-pack.js';
import { unpackEntry } from './event-unpack.js';

/** Largest result (JSON bytes) the log's `job:completed` carries; a larger one is left out. */
export const MAX_LOGGED_RESULT_BYTES = 16 * 1024;

/** Most worker slots a pool can have and still be stored as a slot number. */
const MAX_SLOT = 999_999_999;

/** A `job:completed` for the log, kept as the facts it is built from (see the module comment). */
class CompletedEntry implements LogEntry {
  readonly type = 'job:completed';
  readonly batcher: ColumnBatcher = COMPLETED_COLUMNS;
  #packed: unknown[] | undefined;

  constructor(
    readonly job: PackableClaim,
    readonly poolId: string,
    readonly slot: number,
    readonly startedAt: number,
    readonly completedAt: number,
    readonly durationMs: number,
    /** The result's stored JSON text (`null` for none); ignored when `omitted`. */
    readonly resultJson: string,
    readonly omitted: boolean,
  ) {}

  /** The compact entry (event-pack.ts), built only when this entry is stored on its own. */
  get packed(): readonly unknown[] {
    if (this.#packed === undefined) {
      const { job, startedAt } = this;
      const packed: unknown[] = [
        COMPLETED_CODE,
        job.id,
        job.task,
        job.queue,
        job.correlationId,
        job.attempt,
        job.maxAttempts,
        this.poolId,
        this.slot,
        job.runAt,
        startedAt - job.runAt,
        this.completedAt - startedAt,
        this.durationMs,
        this.omitted ? null : (JSON.parse(this.resultJson) as unknown),
        this.omitted ? 1 : 0,
      ];
      const metadata = JSON.parse(job.metadataJson) as Record<string, unknown>;
      if (Object.keys(metadata).length > 0) packed.push(metadata);
      this.#packed = packed;
    }
    return this.#packed;
  }

  /** The payload (`outcomeEntries`'s, key for key): the compact entry read back. */
  get data(): unknown {
    return unpackEntry(this.packed).data;
  }
}

/**
 * The log's `job:completed` of an attempt that ran in slot `slot` of pool `poolId` (its worker
 * `<poolId>/<slot>`), or undefined when it needs the object form: a time that is not an integer,
 * a duration JSON cannot hold, metadata that is not an object's JSON text.
 */
export function completedEntry(
  job: PackableClaim,
  poolId: string,
  slot: number,
  startedAt: number,
  completedAt: number,
  durationMs: number,
  resultJson: string | null,
): LogEntry | undefined {
  if (!isInt(job.runAt) || !isInt(startedAt) || !isInt(completedAt) || !Number.isFinite(durationMs))
    return undefined;
  if (!isInt(slot) || slot < 0 || slot > MAX_SLOT || job.metadataJson.charCodeAt(0) !== 123 /* { */)
    return undefined;
  const omitted = resultJson !== null && resultJson.length > MAX_LOGGED_RESULT_BYTES;
  return new CompletedEntry(
    job,
    poolId,
    slot,
    startedAt,
    completedAt,
    durationMs,
    resultJson ?? 'null',
    omitted,
  );
}

/**
 * A run of `CompletedEntry` as one column batch `[8 or 10, 2, n, column…]`, the layout
 * `columnsJson` (event-pack.ts) gives the same entries' compact forms, built in one pass over
 * them: the columns of the claimed jobs as a claim's batch builds them (`ClaimColumns`), the
 * attempt's own beside them, the result and omitted columns compared with the first entry's as
 * the pass goes. Undefined when they ran in different pools (then each is stored on its own).
 */
const COMPLETED_COLUMNS: ColumnBatcher = {
  json(entries, from, to) {
    const n = to - from;
    const head = entries[from] as CompletedEntry;
    const poolId = head.poolId;
    const firstResult = head.omitted ? 'null' : head.resultJson;
    const claimed = new ClaimColumns(head.job, n);
    // Filled in order from index 0, so each array stays packed (JSON.stringify's fast path).
    const slots: number[] = [];
    const runAts: number[] = [];
    const waits: number[] = [];
    const runs: number[] = [];
    const durations: number[] = [];
    const results: string[] = [];
    let sameResult = true;
    let sameOmitted = true;
    for (let k = 0; k < n; k++) {
      const entry = entries[from + k] as CompletedEntry;
      // completedEntry admits only metadata the batch can hold: `add` never refuses it here.
      if (entry.poolId !== poolId || !claimed.add(k, entry.job)) return undefined;
      const { job, startedAt } = entry;
      slots[k] = entry.slot;
      runAts[k] = job.runAt;
      waits[k] = startedAt - job.runAt;
      runs[k] = entry.completedAt - startedAt;
      durations[k] = entry.durationMs;
      const result = entry.omitted ? 'null' : entry.resultJson;
      results[k] = result;
      if (result !== firstResult) sameResult = false;
      if (entry.omitted !== head.omitted) sameOmitted = false;
    }
    const columns = claimed.columns(() => (entries.slice(from, to) as CompletedEntry[]).map((e) => e.job));
    // One value for the result column only when it is not an array or object itself (a reader
    // takes an array for a column of one value per entry).
    const composite = firstResult.charCodeAt(0) === 91 /* [ */ || firstResult.charCodeAt(0) === 123; /* { */
    const omitted = sameOmitted
      ? String(head.omitted ? 1 : 0)
      : columnJson(entries.slice(from, to).map((e) => ((e as CompletedEntry).omitted ? 1 : 0)));
    columns.push(
      JSON.stringify(poolId),
      columnJson(slots),
      columnJson(runAts),
      columnJson(waits),
      columnJson(runs),
      columnJson(durations),
      !composite && sameResult ? firstResult : `[${results.join(',')}]`,
      omitted,
    );
    return columnBatchJson(COMPLETED_CODE, n, columns, claimed.metadatas);
  },
};
