/** The compact `job:queued` log entry of an inserted row, as SQL (insert statements share it). */
import { QUEUED_CODE } from '../../driver/event-codes.js';

/**
 * The `job:queued` entry of an inserted row, built in SQL (the database decides the id, state and
 * times), in the compact form of event-pack.ts (`packQueued`: code, then the fields in its order,
 * the metadata left out when empty); the reader expands it into the client's `queuedEvent`
 * payload, and the conformance suite compares the two. `i` is the inserted row, `p` the input
 * with the other columns. Written as text by concatenation: `json_build_object` looks up every
 * argument's output function on every row, which made the log cost a bulk enqueue about a third
 * of its speed (as in claim-log.ts). Strings go through `to_json` (JSON escaping; `null` for the
 * nullable unique key), numbers print as themselves (times are whole milliseconds, see
 * `epochMs`), metadata is JSON text already. Every operand is cast to text explicitly, as in
 * claim-log.ts: `text || <other type>` looks up that type's output function on every call. A NULL anywhere would drop the entry from
 * `string_agg`: hence the coalesces.
 */
export const queuedEntrySql = (i: string, p: string): string => `'[${QUEUED_CODE},"' || ${i}.id::text
  || '",' || to_json(${p}.task)::text || ',' || to_json(${i}.queue)::text
  || ',' || coalesce(to_json(${p}.correlation_id)::text, 'null') || ',' || ${p}.max_attempts::text
  || ',' || to_json(${i}.state)::text || ',' || ${p}.priority::text || ',' || ${i}.created_at::bigint::text
  || ',' || (${i}.run_at - ${i}.created_at)::bigint::text || ',' || coalesce(to_json(${i}.unique_key)::text, 'null')
  || CASE WHEN ${p}.metadata = '{}' THEN ']' ELSE ',' || coalesce(${p}.metadata::text, 'null') || ']' END`;
