/**
 * Upgrading PostgreSQL schemas that released builds of jobwire made, with the schema those
 * builds left, which is not always "versions 1 to n":
 *
 * - Branches were merged out of order, so released builds had numbered gaps: the dedup merge
 *   (dddec96) shipped 1–7 and 9, the counts merge (ddf10f9) 1–7, 9 and 11, the flow-control
 *   merge (6d35db8) 1–9 and 11. The runner applied only versions above the highest recorded:
 *   the first two failed to upgrade (`relation "flow_keys" does not exist`, with a hint to run
 *   migrate), and the third was recorded at 16 without schema 10, after which every claim failed
 *   (`column j.dependents does not exist`) — a pool that never runs anything.
 * - Released migrations were edited afterwards: schema 6 as first released (2a606e0, 57ff92f)
 *   stored `events.entries` as json, and every write that logs an event failed on it (`column
 *   "entries" is of type json but expression is of type text`); schema 1 as first released
 *   (ad188e9) had two more indexes and not the failed-jobs one.
 *
 * Each schema is built here from the migration files (unchanged since those builds) plus the
 * recorded edit, holds a job from before the upgrade, and must upgrade to what a new schema
 * gets, then run that job and new ones with flow keys and dependencies.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postgresDriver } from '../src/drivers/postgres/index.js';
import { LATEST_VERSION, MIGRATIONS } from '../src/drivers/postgres/migrations/index.js';
import { createJobwire, defineTask } from '../src/index.js';
import { createIsolatedSchema, getAdminPool } from './support/postgres.js';

const work = defineTask({ name: 'work', handler: async (payload: { n: number }) => payload.n });

/** A schema with exactly `versions` applied (and recorded), then `edit`, holding one pending job. */
async function oldSchema(schema: string, versions: number[], edit = ''): Promise<void> {
  const admin = await getAdminPool();
  const s = `"${schema}"`;
  const client = await admin.connect();
  try {
    await client.query(`CREATE SCHEMA ${s}`);
    await client.query(
      `CREATE TABLE ${s}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    for (const version of versions) {
      const migration = MIGRATIONS.find((m) => m.version === version)!;
      await client.query(migration.sql(s));
      await client.query(`INSERT INTO ${s}.migrations (version, name) VALUES ($1, $2)`, [
        version,
        migration.name,
      ]);
    }
    await client.query(edit.replaceAll('$s', s));
    await client.query(
      `INSERT INTO ${s}.jobs (task, queue, payload, state, max_attempts, run_at, created_at, correlation_id)
       VALUES ('work', 'default', '{"n":41}', 'pending', 3, now(), now(), 'old')`,
    );
  } finally {
    client.release();
  }
}

/** Columns (with their compression), indexes, constraints and table options of `schema`. */
async function schemaOf(schema: string): Promise<string[]> {
  const admin = await getAdminPool();
  const { rows } = await admin.query<{ line: string }>(
    `SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
            || ' ' || a.attnotnull || ' ' || a.attcompression::text AS line
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      WHERE c.relnamespace = $1::text::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
     UNION ALL
     SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = $1::text
     UNION ALL
     SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
       FROM pg_constraint WHERE connamespace = $1::text::regnamespace
     UNION ALL
     SELECT 'options ' || relname || ' ' || coalesce(array_to_string(reloptions, ','), '')
       FROM pg_class WHERE relnamespace = $1::text::regnamespace AND relkind = 'r'
     ORDER BY 1`,
    [schema],
  );
  return rows.map((r) => r.line.replaceAll(schema, 'S'));
}

let freshSchema: Promise<string[]> | undefined;
function fresh(): Promise<string[]> {
  freshSchema ??= (async () => {
    const isolated = await createIsolatedSchema();
    try {
      const driver = postgresDriver({ connectionString: isolated.url, schema: isolated.schema });
      await driver.migrate();
      await driver.close();
      const lines = await schemaOf(isolated.schema);
      assert.ok(lines.length > 150, `the catalog read sees the schema (${lines.length} lines)`);
      return lines;
    } finally {
      await isolated.drop();
    }
  })();
  return freshSchema;
}

const upToLatest = (from: number) => MIGRATIONS.filter((m) => m.version > from).map((m) => m.version);

const cases: { name: string; versions: number[]; edit?: string; applied: number[] }[] = [
  { name: 'the dedup merge (1–7, 9)', versions: [1, 2, 3, 4, 5, 6, 7, 9], applied: [8, ...upToLatest(9)] },
  {
    name: 'the counts merge (1–7, 9, 11)',
    versions: [1, 2, 3, 4, 5, 6, 7, 9, 11],
    applied: [8, 10, ...upToLatest(11)],
  },
  {
    name: 'the flow-control merge (1–9, 11)',
    versions: [1, 2, 3, 4, 5, 6, 7, 8, 9, 11],
    applied: [10, ...upToLatest(11)],
  },
  {
    name: 'a 1–9, 11 schema the old runner took to the latest without 10',
    versions: MIGRATIONS.map((m) => m.version).filter((v) => v !== 10),
    applied: [10],
  },
  {
    name: 'schema 6 as first released (entries as json)',
    versions: [1, 2, 3, 4, 5, 6, 7],
    edit: 'ALTER TABLE $s.events ALTER COLUMN entries TYPE json USING entries::json',
    applied: upToLatest(7),
  },
  {
    name: 'schema 1 as first released (state indexes, no failed-jobs index)',
    versions: [1],
    edit: `DROP INDEX $s.jobs_failed;
           CREATE INDEX jobs_state ON $s.jobs (state, id);
           CREATE INDEX jobs_queue_state ON $s.jobs (queue, state);`,
    applied: upToLatest(1),
  },
];

for (const c of cases) {
  test(`upgrade from ${c.name}: every missing migration applied, the old job and new ones run`, async (t) => {
    const isolated = await createIsolatedSchema();
    t.after(() => isolated.drop());
    await oldSchema(isolated.schema, c.versions, c.edit);
    const driver = postgresDriver({ connectionString: isolated.url, schema: isolated.schema });
    const before = await driver.schemaVersion();
    assert.ok(
      before.current < LATEST_VERSION,
      `a schema missing migrations reads as not current (${before.current})`,
    );
    const result = await driver.migrate();
    assert.deepEqual(result.applied, c.applied);
    assert.equal(result.to, LATEST_VERSION);
    assert.deepEqual(await driver.schemaVersion(), { current: LATEST_VERSION, latest: LATEST_VERSION });
    await driver.close();
    assert.deepEqual(await schemaOf(isolated.schema), await fresh());

    const jobwire = await createJobwire({
      driver: postgresDriver({ connectionString: isolated.url, schema: isolated.schema }),
      tasks: [work],
    });
    t.after(() => jobwire.close());
    const keyed = await jobwire.enqueue(work, { n: 1 }, { concurrencyKey: 'k' });
    const blocked = await jobwire.enqueue(work, { n: 2 }, { dependsOn: [keyed.id] });
    assert.equal((await jobwire.getJob(blocked.id))?.state, 'blocked');
    const pool = jobwire.createPool({ concurrency: 2, handleSignals: false });
    await pool.start();
    t.after(() => pool.stop());
    assert.equal(await jobwire.waitForJob('1', { timeoutMs: 10_000 }), 41);
    assert.equal(await jobwire.waitForJob(keyed.id, { timeoutMs: 10_000 }), 1);
    assert.equal(await jobwire.waitForJob(blocked.id, { timeoutMs: 10_000 }), 2);
    await pool.stop();
    const timeline = (await jobwire.jobEvents(blocked.id)).map((e) => e.type);
    assert.ok(timeline.includes('job:completed'), `the log holds the new job's events: ${timeline}`);
    // Nothing left to apply or repair on the next start.
    assert.deepEqual((await jobwire.migrate()).applied, []);
    assert.deepEqual(await schemaOf(isolated.schema), await fresh());
  });
}
