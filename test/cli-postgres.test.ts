/**
 * The CLI on PostgreSQL: `--schema` (and JOBWIRE_SCHEMA) reach a deployment that uses
 * `postgresDriver({ schema })`, and the read commands never create a schema on a database
 * where jobwire has none: they say it is not initialised.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { runCliInProcess as jobwire, useCliTestEnvironment } from './support/cli.js';
import { createIsolatedSchema, getAdminPool } from './support/postgres.js';

useCliTestEnvironment();

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function schemaExists(schema: string): Promise<boolean> {
  const pool = await getAdminPool();
  const { rows } = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  return rows.length > 0;
}

test('read commands on a schema jobwire never created say "not initialised" and create nothing', async () => {
  const { url, schema, drop } = await createIsolatedSchema();
  cleanups.push(drop);
  for (const args of [['stats'], ['jobs', 'ls'], ['queues', 'ls'], ['tasks'], ['workers']]) {
    const run = await jobwire([...args, '--db', url, '--schema', schema]);
    assert.equal(run.code, 1, `${args.join(' ')}: ${run.stdout}`);
    assert.match(run.stderr, /is not initialised for jobwire/);
    assert.match(run.stderr, new RegExp(`schema ${schema}`));
    assert.match(run.stderr, /jobwire migrate/);
  }
  assert.equal(await schemaExists(schema), false, 'no schema was created');
});

test('--schema and JOBWIRE_SCHEMA inspect and administer a deployment in its own schema', async () => {
  const { url, schema, drop } = await createIsolatedSchema();
  cleanups.push(drop);
  process.env.JOBWIRE_SCHEMA = schema;
  try {
    const enqueued = await jobwire(['enqueue', 'report', '{"n": 1}', '--db', url]);
    assert.equal(enqueued.code, 0, enqueued.stderr);
  } finally {
    delete process.env.JOBWIRE_SCHEMA;
  }
  assert.equal(await schemaExists(schema), true, 'enqueue migrates the schema it was given');
  const listed = await jobwire(['jobs', 'ls', '--json', '--db', url, '--schema', schema]);
  assert.equal(listed.code, 0, listed.stderr);
  const page = JSON.parse(listed.stdout) as { jobs: { task: string }[] };
  assert.deepEqual(
    page.jobs.map((job) => job.task),
    ['report'],
  );
  const cancelled = await jobwire(['jobs', 'cancel', '--task', 'report', '--db', url, '--schema', schema]);
  assert.equal(cancelled.code, 0, cancelled.stderr);
  assert.match(cancelled.stdout, /cancelled 1 job/);
  const badName = await jobwire(['stats', '--db', url, '--schema', 'no-dashes']);
  assert.equal(badName.code, 2);
  const onSqlite = await jobwire(['stats', '--db', './x.db', '--schema', schema]);
  assert.equal(onSqlite.code, 2);
  assert.match(onSqlite.stderr, /PostgreSQL only/);
});

test('--schema reaches the deployment for events read, events --job and jobs purge too', async () => {
  const { url, schema, drop } = await createIsolatedSchema();
  cleanups.push(drop);
  const where = ['--db', url, '--schema', schema];
  const enqueued = await jobwire(['enqueue', 'report', '{"n": 1}', '--json', ...where]);
  assert.equal(enqueued.code, 0, enqueued.stderr);
  const { id } = JSON.parse(enqueued.stdout) as { id: string };
  assert.equal((await jobwire(['jobs', 'cancel', id, ...where])).code, 0);
  // Before, these three opened the default schema whatever --schema said: purge deleted there.
  const read = await jobwire(['events', 'read', '--from', 'start', '--json', ...where]);
  assert.equal(read.code, 0, read.stderr);
  assert.deepEqual(
    (JSON.parse(read.stdout) as { events: { type: string }[] }).events
      .map((event) => event.type)
      .filter((type) => type.startsWith('job:')),
    ['job:queued', 'job:cancelled'],
  );
  const timeline = await jobwire(['events', '--job', id, ...where]);
  assert.equal(timeline.code, 0, timeline.stderr);
  assert.match(timeline.stdout, /job:cancelled/);
  const purged = await jobwire(['jobs', 'purge', '--state', 'cancelled', '--json', ...where]);
  assert.equal(purged.code, 0, purged.stderr);
  assert.deepEqual(JSON.parse(purged.stdout), { deleted: 1 });
});
