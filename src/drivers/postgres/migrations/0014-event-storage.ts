/**
 * Schema 14: how the event log's rows are stored (docs/event-log.md, "Storage and cost").
 *
 * A claim of 100 jobs writes one `events` row of about 10 KB, a finalize one of similar size.
 * With PostgreSQL's defaults such a row is compressed with pglz and then, still above the 2 KB
 * TOAST target, moved out of line into three TOAST chunks with their index entries — per claim
 * and per finalize, on the hot path. Here:
 *
 * - `entries` is compressed with lz4 where the server has it (PostgreSQL 14+ built with lz4, as
 *   the common distributions are); pglz otherwise (PostgreSQL 13, or a build without lz4: the
 *   statement is skipped, nothing else depends on it). lz4 compresses these arrays several times
 *   faster for a slightly larger result.
 * - `toast_tuple_target` = 8160, the largest a page holds: a row up to about 8 KB after
 *   compression stays in the table itself (no TOAST chunks to write, nor to read back when the
 *   log is read). A row under 8 KB is then kept uncompressed.
 *
 * Both apply to rows written from now on; older rows read as they are.
 */
export const migration0014EventStorage = (s: string): string => `
DO $jobwire_event_storage$
BEGIN
  EXECUTE 'ALTER TABLE ${s}.events ALTER COLUMN entries SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported OR syntax_error THEN
  NULL;
END
$jobwire_event_storage$;
ALTER TABLE ${s}.events SET (toast_tuple_target = 8160);
`;
