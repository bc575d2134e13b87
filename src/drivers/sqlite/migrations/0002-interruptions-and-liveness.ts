/**
 * Schema 2: interruptions counted apart from failures, and lease liveness that does not depend
 * on any process's wall clock.
 *
 * - `interruptions`: attempts that ended without the handler deciding (the process died or froze
 *   past its lease, or a shutdown cut the attempt off). They do not use up `max_attempts`; a job
 *   interrupted too often is abandoned on a budget of its own.
 * - `heartbeat_seq`: bumped by every heartbeat, so a rescuer can see that a lease is alive by
 *   watching it change on its own monotonic clock, whatever the writer's wall clock says.
 * - `lease_ms`: the lease length the claiming pool asked for, so the rescuer knows how long a
 *   silent lease may stay silent.
 * - `jobwire_leaders.renewal_seq`: the same idea for leadership.
 */
export const MIGRATION_0002_INTERRUPTIONS_AND_LIVENESS = `
ALTER TABLE jobwire_jobs ADD COLUMN interruptions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobwire_jobs ADD COLUMN heartbeat_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobwire_jobs ADD COLUMN lease_ms INTEGER;
ALTER TABLE jobwire_leaders ADD COLUMN renewal_seq INTEGER NOT NULL DEFAULT 0;
`;
