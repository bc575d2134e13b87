/**
 * Schema 15: the trigger that marked a concurrency key as having waiting work when one of its
 * jobs came back to `pending` or `scheduled` from a finished or blocked state
 * (`jobwire_flow_key_waiting`, schema 8) is gone; the two writes that make such a move mark the
 * key themselves, in their transaction (`markKeyWaiting` in flow-keys.ts): a retry of a finished
 * job and a dependency's release of a blocked one.
 *
 * SQLite runs a row trigger's WHEN clause inside the trigger's own program, which it enters for
 * every row the UPDATE changes: the claim and the finalize of every job paid for it although
 * neither can ever satisfy it (they move jobs into and out of `running`). Alternated 40,000-job
 * drains ran 5–16 % faster without it (4 of 4 rounds; 1.2–3.7 µs less per job).
 * The insert trigger (`jobwire_flow_key_inserted`) stays: inserts are not the hot path's cost.
 */
export const MIGRATION_0015_FLOW_KEY_MARKS = `
DROP TRIGGER IF EXISTS jobwire_flow_key_waiting;
`;
