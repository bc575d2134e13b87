/**
 * The PostgreSQL claim statement's answer packed into one text value per job, in the format
 * `src/driver/claim-pack.ts` describes and reads. Both claim paths answer this way: the plain
 * claim (claim-sql.ts) and the flow-claim function (flow-claim.ts), whose rows add round-robin
 * positions and rows of another kind. `concat_ws` skips NULLs, so the nullable columns are
 * written as '' for NULL.
 */
import { epochMs } from './row.js';

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
