/**
 * The durable log's share of the fenced batch writes (finalize, release): which of the items'
 * events the statement stores, in the same statement as the write. Only the items the fence let
 * through have their events stored; which those are is known only inside the statement.
 */
import type { FinalizeItem, LoggedItem } from '../../driver/driver.js';
import { MASKED_CODE } from '../../driver/event-codes.js';
import { entriesJson, RUN_AT_PLACEHOLDER_JSON } from '../../driver/event-log.js';

/**
 * The log parameters of a finalize: the events text, and how many items it covers as ONE batch
 * (0: it is the per-item form). The usual batch — every item with exactly one event and no
 * due-time placeholder, as completions are — is sent as the row the log stores, packed as a
 * whole (column batches, event-pack.ts): about 60 bytes a job instead of 120, built in one pass,
 * stored without the server splitting or rejoining it (`wholeBatchSql`). Anything else is sent
 * per item (`joinItemEvents`) and matched to the applied rows (`perItemSql`).
 */
export function finalizeLogParams(items: readonly FinalizeItem[]): [string, number] {
  const events = storableAsBatch(items);
  return events ? [entriesJson(events), items.length] : [joinItemEvents(items), 0];
}

/** The items' single events in item order, when each has exactly one and none needs a due time. */
function storableAsBatch(items: readonly FinalizeItem[]): FinalizeItem['events'] | undefined {
  const events = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (item.events?.length !== 1 || item.outcome === 'retry' || item.outcome === 'snoozed') return undefined;
    events[i] = item.events[0];
  }
  return events;
}

/**
 * Each item's events as JSON, joined by the record separator (U+001E, which JSON text never holds
 * unescaped) into ONE parameter the statement splits: a text[] parameter would make the client
 * escape every quote of every event, and the server unescape them again. An item without events
 * is an empty string.
 */
export function joinItemEvents(items: readonly LoggedItem[]): string {
  return items.map((i) => (i.events?.length ? entriesJson(i.events) : '')).join('\u001e');
}

/**
 * The CTEs that store the events of the rows in `from` (the write's RETURNING, with `ord`, the
 * item's 1-based position, `id`, and for a finalize `outcome` and `run_at`). `param` is the events
 * text; `batch`, for a finalize, the parameter saying how many items it holds as one batch
 * (`finalizeLogParams`). Both CTEs are always in the statement; the one that does not apply is cut
 * off by a one-time filter on `batch`, not evaluated per row.
 */
export const logItemsSql = (s: string, from: string, param: string, batch?: string): string =>
  `,${batch ? wholeBatchSql(s, from, param, batch) : ''}${perItemSql(s, from, param, batch)}`;

/**
 * A batch sent whole is stored as sent when every item applied. When the fence refused some (a
 * lease lost meanwhile, a job with dependents left to the transactional path, a job twice in the
 * batch), the row still holds the whole batch, wrapped in a masked entry naming the positions of
 * the events the reader leaves out (`[MASKED_CODE, [index…], entry…]`, event-pack.ts): the
 * statement cannot cut a column batch apart, and the events of the applied items must be stored
 * with their write. Rare, so the mask is built only then.
 */
const wholeBatchSql = (s: string, from: string, param: string, batch: string): string => `
logged_whole AS (
  INSERT INTO ${s}.events (job_lo, job_hi, entries)
  SELECT min(w.id), max(w.id),
    CASE WHEN count(*) = ${batch}::int THEN ${param}::text
    ELSE '[[${MASKED_CODE},[' || (SELECT string_agg((g - 1)::text, ',' ORDER BY g) FROM generate_series(1, ${batch}::int) g
                     WHERE g NOT IN (SELECT ord FROM ${from})) || '],' || substr(${param}::text, 2) || ']' END
  FROM ${from} w
  WHERE ${batch}::int > 0
  HAVING count(*) > 0
),`;

/**
 * Stores, as one row, the \`events\` arrays (as JSON) of the items a fenced write applied (in item
 * order); in retry and snoozed items the placeholder becomes the due time written. The events
 * come from \`param\` (see joinItemEvents), matched to the applied rows by item position, so they
 * are not carried through the fence's sort and the UPDATE.
 */
const perItemSql = (s: string, from: string, param: string, batch?: string): string => `
logged AS (
  INSERT INTO ${s}.events (job_lo, job_hi, entries)
  SELECT min(w.id), max(w.id),
         ('[' || string_agg(${
           batch
             ? `CASE WHEN w.outcome IN ('retry', 'snoozed')
                  THEN replace(substr(e.events, 2, length(e.events) - 2), '${RUN_AT_PLACEHOLDER_JSON}', w.run_at::bigint::text)
                  ELSE substr(e.events, 2, length(e.events) - 2) END`
             : 'substr(e.events, 2, length(e.events) - 2)'
         }, ',' ORDER BY w.ord) || ']')
  FROM ${from} w
  JOIN unnest(string_to_array(${param}::text, chr(30))) WITH ORDINALITY AS e(events, ord) ON e.ord = w.ord
  WHERE length(e.events) > 2${batch ? ` AND ${batch}::int = 0` : ''}
  HAVING count(*) > 0
)`;
