/**
 * PostgreSQL flow control between processes (two drivers on one schema stand for two
 * processes): a driver that found a queue without flow work skips the flow-claim function on its
 * next short claims (so unkeyed claims of a shallow queue stay one statement), and drops that
 * mark as soon as another process inserts keyed jobs or sets a queue-wide rule — announced on
 * commit over NOTIFY.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { SchemaVersionError } from '../src/core/errors.js';
import { jobParams } from '../src/driver/conformance/harness.js';
import type { Driver } from '../src/driver/driver.js';
import { flowClaimFunction } from '../src/drivers/postgres/flow-claim.js';
import { postgresDriver } from '../src/drivers/postgres/index.js';
import { openTestDriver } from './support/postgres.js';

const FLOW_CHANNEL = 'jobwire_flow_changed';
const claim = (driver: Driver) =>
  driver.jobClaim({ queues: ['default'], limit: 10, leaseMs: 30_000, poolId: 'p' });

/** The next flow announcement `driver` hears. Subscribe before the change. */
function nextAnnouncement(driver: Driver): Promise<void> {
  return new Promise((resolve) => {
    const stop = driver.notifier.listen(FLOW_CHANNEL, () => {
      stop();
      resolve();
    });
  });
}

test('another process inserting keyed jobs or setting a queue rule is heard at once', async (t) => {
  const a = await openTestDriver();
  const b = postgresDriver({ connectionString: a.url, schema: a.schema, poolSize: 2 });
  t.after(async () => {
    await b.close();
    await a.cleanup();
  });
  // An unkeyed job: A claims it, and its flow path finds the queue idle and marks it.
  await b.jobInsertMany({ jobs: [jobParams()] });
  assert.equal((await claim(a.driver)).length, 1);
  assert.deepEqual(await claim(a.driver), []);

  // B inserts keyed jobs; A hears of it and claims them on its next claim.
  let heard = nextAnnouncement(a.driver);
  await b.jobInsertMany({ jobs: [jobParams({ concurrencyKey: 'k' }), jobParams({ concurrencyKey: 'k' })] });
  await heard;
  assert.equal((await claim(a.driver)).length, 2);

  // Idle again; B sets a queue-wide rule: unkeyed jobs now go through the flow path, and A
  // must not skip it on a stale mark. Three jobs run, so a limit of 5 leaves two slots.
  assert.deepEqual(await claim(a.driver), []);
  await b.jobInsertMany({ jobs: [jobParams(), jobParams(), jobParams()] });
  heard = nextAnnouncement(a.driver);
  await b.flowRuleSet({ rules: [{ queue: 'default', key: null, concurrency: 5, rate: null }] });
  await heard;
  assert.equal((await claim(a.driver)).length, 2);
});

test('the claim function: installed by migrate, by a claim that finds it missing, beside other versions', async (t) => {
  const a = await openTestDriver();
  t.after(() => a.cleanup());
  const admin = new pg.Client({ connectionString: a.url });
  await admin.connect();
  t.after(() => admin.end());
  const functions = async () =>
    (
      await admin.query<{ name: string }>(
        `SELECT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = $1 AND p.proname LIKE 'flow_claim_%' ORDER BY 1`,
        [a.schema],
      )
    ).rows.map((r) => r.name);
  const { name } = flowClaimFunction(`"${a.schema}"`);
  assert.deepEqual(await functions(), [name]);
  // Another version's function (another body, another name) is left alone.
  await admin.query(
    `CREATE FUNCTION "${a.schema}".flow_claim_0000000000000000() RETURNS int LANGUAGE sql AS 'SELECT 1'`,
  );
  // A schema migrated by another version lacks this one: the first claim installs it.
  await admin.query(`DROP FUNCTION "${a.schema}".${name}`);
  await a.driver.jobInsertMany({ jobs: [jobParams({ concurrencyKey: 'k' })] });
  const b = postgresDriver({ connectionString: a.url, schema: a.schema, poolSize: 2 });
  t.after(() => b.close());
  assert.equal((await claim(b)).length, 1);
  assert.deepEqual(await functions(), ['flow_claim_0000000000000000', name].sort());
});

test('a role that may not create the missing claim function gets a SchemaVersionError saying what to run', async (t) => {
  const a = await openTestDriver();
  const admin = new pg.Client({ connectionString: a.url });
  await admin.connect();
  let limited: Driver | undefined;
  const role = `jobwire_limited_${process.pid}_${Date.now() % 100000}`;
  const s = `"${a.schema}"`;
  await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'limited'`);
  t.after(async () => {
    await limited?.close();
    await admin.query(`DROP OWNED BY ${role}`);
    await admin.query(`DROP ROLE ${role}`);
    await admin.end();
    await a.cleanup();
  });
  await admin.query(`GRANT USAGE ON SCHEMA ${s} TO ${role}`);
  await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${role}`);
  await admin.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${role}`);
  await admin.query(`DROP FUNCTION ${s}.${flowClaimFunction(s).name}`);
  await a.driver.jobInsertMany({ jobs: [jobParams({ concurrencyKey: 'k' })] });
  const url = new URL(a.url);
  url.username = role;
  url.password = 'limited';
  limited = postgresDriver({ connectionString: url.toString(), schema: a.schema, poolSize: 2 });
  await assert.rejects(claim(limited!), (err: Error) => {
    assert.ok(err instanceof SchemaVersionError, `${err.name}: ${err.message}`);
    assert.match(err.message, /jobwire migrate/);
    return true;
  });
  // Nothing was lost: once migrated, the job is claimed.
  await a.driver.migrate();
  assert.equal((await claim(limited!)).length, 1);
});
