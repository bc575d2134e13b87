/**
 * Schema 15: the triggers that marked a concurrency key as having waiting work (schema 8) are
 * gone — `jobwire_flow_key_inserted` (a job inserted `pending` or `scheduled`) and
 * `jobwire_flow_key_waiting` (a job back to one of those from a finished or blocked state). The
 * writes that do so mark the key themselves, in their transaction (flow-keys.ts): the insert, a
 * retry of a finished job, a dependency's release of a blocked one.
 *
 * SQLite runs a row trigger's WHEN clause inside the trigger's own program, which it enters for
 * every row the statement writes: every insert, claim and finalize paid for it, although claims
 * and finalizations can never meet it (they move jobs into and out of `running`) and most jobs
 * have no key. Alternated 40,000-job drains ran 15 % faster without the update trigger
 * (42,160 → 48,372 jobs/s, 8 rounds); an insert costs about 2 µs less without the insert trigger
 * (10.5 → 8.6 µs per row, 1,000-row transactions).
 */
export const MIGRATION_0015_FLOW_KEY_MARKS = `
DROP TRIGGER IF EXISTS jobwire_flow_key_waiting;
DROP TRIGGER IF EXISTS jobwire_flow_key_inserted;
`;
