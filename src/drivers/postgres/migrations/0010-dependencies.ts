/**
 * Schema 10: job dependencies (8 and 9 are flow limits and unique jobs, other changes). See the
 * SQLite migration of the same number for what each part is for.
 *
 * The state CHECK is rebuilt from its stored definition with `'blocked'` added (a DO block), so
 * states added by other migrations are kept whichever order they are merged in. The two new
 * columns have constant defaults: adding them rewrites no row.
 */
export const migration0010Dependencies = (s: string): string => `
DO $jobwire$
DECLARE
  found record;
BEGIN
  FOR found IN
    SELECT c.conname, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c
    WHERE c.conrelid = '${s}.jobs'::regclass AND c.contype = 'c' AND pg_get_constraintdef(c.oid) LIKE '%state%ARRAY[%'
  LOOP
    IF position('''blocked''' IN found.def) = 0 THEN
      EXECUTE format('ALTER TABLE ${s}.jobs DROP CONSTRAINT %I, ADD CONSTRAINT %I %s', found.conname, found.conname,
        replace(found.def, 'ARRAY[', 'ARRAY[''blocked''::text, '));
    END IF;
  END LOOP;
END
$jobwire$;

ALTER TABLE ${s}.jobs ADD COLUMN dependencies_waiting integer NOT NULL DEFAULT 0,
                      ADD COLUMN dependents integer NOT NULL DEFAULT 0;

CREATE INDEX jobs_blocked ON ${s}.jobs (id) WHERE state = 'blocked';

CREATE TABLE ${s}.dependencies (
  job_id     bigint NOT NULL,
  depends_on bigint NOT NULL,
  on_failure text   NOT NULL CHECK (on_failure IN ('cancel', 'run', 'block')),
  state      text   NOT NULL CHECK (state IN ('waiting', 'stuck', 'done', 'ignored', 'cancelled')),
  PRIMARY KEY (job_id, depends_on)
);

-- A dependency's edges, read when it finishes, is cancelled or is deleted.
CREATE INDEX dependencies_depends_on ON ${s}.dependencies (depends_on);
`;
