/**
 * The columns a batch of the log takes from its claimed jobs — id, task, queue, correlation id,
 * attempt, maximum attempts and metadata, the first six columns of both a claim's `job:started`
 * batch (`startedBatchJson`, below) and a finalize's `job:completed` batch (completed-entry.ts) —
 * gathered in the one pass each builder makes over its jobs.
 *
 * No array per column: a claim's jobs almost always share task, queue, attempt and maximum (and a
 * chain shares its correlation id), so each is compared with the first job's as the pass goes and
 * gets an array only when one differs; the correlation ids are encoded into their bytes as it
 * goes (uuid-column.ts); the metadata's stored JSON text goes in as it is, unparsed. Each column's
 * text is exactly what `columnJson` makes of its values (test/column-batch-builders.test.ts).
 */
import { Buffer } from 'node:buffer';
import { isInt, STARTED_CODE } from './event-codes.js';
import { columnBatchJson, columnJson, type PackableClaim } from './event-pack.js';
import { uuidBytesInto, uuidBytesJson } from './uuid-column.js';

/** A batch's columns from its claimed jobs, filled by `add` in order (see the module comment). */
export class ClaimColumns {
  readonly #first: PackableClaim;
  // Filled in order from index 0, so the array stays packed (JSON.stringify's fast path).
  readonly #ids: string[] = [];
  readonly #uuids: Buffer;
  #uuidsOk = true;
  #sameTask = true;
  #sameQueue = true;
  #sameAttempt = true;
  #sameMaxAttempts = true;
  #sameCorrelation = true;
  /** Every job's metadata text, from the first that has any on (`{}` for those before it). */
  #metadatas: string[] | undefined;

  /** For `n` jobs, the first of them `first`. */
  constructor(first: PackableClaim, n: number) {
    this.#first = first;
    this.#uuids = Buffer.allocUnsafe(16 * n);
  }

  /**
   * Add job `i` (from 0, in order). False when its metadata is not an object's JSON text: then the
   * batch cannot hold it.
   */
  add(i: number, job: PackableClaim): boolean {
    const first = this.#first;
    const { correlationId, metadataJson } = job;
    if (metadataJson.charCodeAt(0) !== 123 /* { */) return false;
    this.#ids[i] = job.id;
    if (job.task !== first.task) this.#sameTask = false;
    if (job.queue !== first.queue) this.#sameQueue = false;
    if (job.attempt !== first.attempt) this.#sameAttempt = false;
    if (job.maxAttempts !== first.maxAttempts) this.#sameMaxAttempts = false;
    if (correlationId !== first.correlationId) this.#sameCorrelation = false;
    if (this.#uuidsOk) this.#uuidsOk = uuidBytesInto(correlationId, this.#uuids, 16 * i);
    if (this.#metadatas === undefined && metadataJson !== '{}')
      this.#metadatas = new Array<string>(i).fill('{}');
    if (this.#metadatas !== undefined) this.#metadatas[i] = metadataJson;
    return true;
  }

  /**
   * The JSON texts of the id, task, queue, correlation id, attempt and maximum columns, in that
   * order. `jobs` gives the jobs again, for a column that differs (rare): it is read only then.
   */
  columns(jobs: () => readonly PackableClaim[]): string[] {
    const first = this.#first;
    const column = <T>(same: boolean, value: T, pick: (job: PackableClaim) => T): string =>
      same ? JSON.stringify(value) : columnJson(jobs().map(pick));
    const correlations =
      this.#sameCorrelation || !this.#uuidsOk
        ? column(this.#sameCorrelation, first.correlationId, (job) => job.correlationId)
        : uuidBytesJson(this.#uuids);
    return [
      columnJson(this.#ids),
      column(this.#sameTask, first.task, (job) => job.task),
      column(this.#sameQueue, first.queue, (job) => job.queue),
      correlations,
      column(this.#sameAttempt, first.attempt, (job) => job.attempt),
      column(this.#sameMaxAttempts, first.maxAttempts, (job) => job.maxAttempts),
    ];
  }

  /** Every job's metadata JSON text (`{}` for none), or undefined when no job has any. */
  get metadatas(): readonly string[] | undefined {
    return this.#metadatas;
  }
}

/**
 * The `job:started` of the jobs one claim started, as the JSON text of ONE column batch (see
 * `columnsJson` in event-pack.ts), or undefined when a job needs its own entry (a time that is not
 * an integer, or metadata that is not an object's JSON text): then build those one by one
 * (`packedStarted`). Built in one pass over the jobs (`ClaimColumns`). (PostgreSQL's claim builds
 * the older `STARTED_BATCH_CODE` in SQL.)
 */
export function startedBatchJson(jobs: readonly PackableClaim[], poolId: string): string | undefined {
  const n = jobs.length;
  if (n === 0) return undefined;
  const claimed = new ClaimColumns(jobs[0]!, n);
  const runAts: number[] = [];
  const waits: number[] = [];
  for (let i = 0; i < n; i++) {
    const job = jobs[i]!;
    const { runAt, startedAt } = job;
    if (!isInt(runAt) || !isInt(startedAt) || !claimed.add(i, job)) return undefined;
    runAts[i] = runAt;
    waits[i] = startedAt - runAt;
  }
  const columns = claimed.columns(() => jobs);
  columns.push(JSON.stringify(poolId), columnJson(runAts), columnJson(waits));
  return columnBatchJson(STARTED_CODE, n, columns, claimed.metadatas);
}
