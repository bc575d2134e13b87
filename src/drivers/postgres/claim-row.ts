/**
 * The claim statement's answer packed into one text value per job. `pg` turns every column of
 * every row into a string slice and a parsed value on a property of a new object: for a claim of
 * 500 jobs × 17 columns that was most of what a claim cost the Node process (4.4 against 2.1 µs
 * per row for the same row packed and split, measured over 500-row results). Both claim paths
 * answer this way: the plain claim (claim-sql.ts) and the flow-claim function (flow-claim.ts),
 * whose rows add round-robin positions and rows of another kind.
 *
 * Fields are joined by U+001F (unit separator). JSON text never holds it unescaped (payload,
 * metadata, backoff), task and queue names cannot (`NAME_PATTERN`) and numbers do not; the one
 * free text, the correlation id, comes last, so a separator inside it is read back as part of it.
 * `concat_ws` skips NULLs, so the nullable columns are written as '' for NULL (neither can be
 * empty otherwise: a number, or a JSON object).
 */
import type { BackoffSpec, EpochMs } from '../../core/types.js';
import type { ClaimedJob } from '../../driver/driver.js';
import { compareIds, epochMs } from './row.js';

const SEPARATOR = '\u001f';

/**
 * The packed job as one text column `job`: of a `jobs` row `r`, or with `selected` of a row with
 * the columns `CLAIM_COLUMNS` selects (times already in epoch ms, JSON already text).
 */
export function packedClaimSql(r: string, selected = false): string {
  const time = (column: string) => (selected ? `${r}.${column}` : epochMs(`${r}.${column}`));
  return `concat_ws(chr(31), ${r}.id, ${r}.task, ${r}.queue, ${r}.payload::text, ${r}.priority, ${r}.attempt,
  ${r}.max_attempts, ${r}.interruptions, ${time('run_at')}, ${time('created_at')}, ${time('started_at')},
  ${r}.lease_token, coalesce(${r}.timeout_ms::text, ''), coalesce(${r}.backoff::text, ''), ${r}.dependents,
  ${r}.metadata::text, ${r}.correlation_id) AS job`;
}

/** Fields before the correlation id. */
const LEADING_FIELDS = 16;

/** A claimed job from its packed text (see the module comment). */
export function packedToClaimed(text: string): ClaimedJob {
  const f = text.split(SEPARATOR);
  const correlationId =
    f.length === LEADING_FIELDS + 1 ? f[LEADING_FIELDS]! : f.slice(LEADING_FIELDS).join(SEPARATOR);
  const claimed: ClaimedJob = {
    id: f[0]!,
    task: f[1]!,
    queue: f[2]!,
    payloadJson: f[3]!,
    priority: Number(f[4]),
    attempt: Number(f[5]),
    maxAttempts: Number(f[6]),
    interruptions: Number(f[7]),
    leaseToken: Number(f[11]),
    runAt: Number(f[8]) as EpochMs,
    createdAt: Number(f[9]) as EpochMs,
    startedAt: Number(f[10]) as EpochMs,
    correlationId,
    metadataJson: f[15]!,
    timeoutMs: f[12] === '' ? null : Number(f[12]),
    backoff: f[13] === '' ? null : (JSON.parse(f[13]!) as BackoffSpec),
  };
  const dependents = Number(f[14]);
  // Most jobs have no dependents: they carry no field for it.
  if (dependents > 0) claimed.dependents = dependents;
  return claimed;
}

/**
 * Claim order — priority (highest first), then due time, then id — for jobs a statement returned
 * in no promised order (RETURNING gives none).
 */
export const byClaimOrder = (a: ClaimedJob, b: ClaimedJob): number =>
  b.priority - a.priority || a.runAt - b.runAt || compareIds(a.id, b.id);
