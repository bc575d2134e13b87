/**
 * The flow claim's locking statement on an analyzed table with a long history of keyed jobs.
 * Its walk over the ready keys also takes keys with nothing due, to mark them idle once nothing
 * of theirs waits or runs. That test once named the three states at once, which no partial index
 * covers, and was planned as a sequential scan of all of `jobs` per such key: at the end of every
 * key's backlog (its last jobs running) each claim read the whole table, 2.4 ms per key at
 * 20,000 rows in the flow benchmark. Here 60 keys have a running job and nothing waiting and
 * 30,000 finished keyed rows sit in the table; EXPLAIN ANALYZE (custom and generic plans, as the
 * claim function caches them) must reach `jobs` only through indexes, reading rows by the keys
 * walked, not by the table. Nothing here measures time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { lockSql } from '../src/drivers/postgres/flow.js';
import { jobsRowsVisited, nodesOf, type PlanNode } from './support/plans.js';
import { openTestDriverWithClient } from './support/postgres.js';

const FINISHED = 30_000;
const DRAINED_KEYS = 60;
const WAITING_KEYS = 20;

describe('postgres flow claim lock on an analyzed jobs table', () => {
  let opened: Awaited<ReturnType<typeof openTestDriverWithClient>>;
  let client: pg.Client;
  let schema: string;

  before(async () => {
    opened = await openTestDriverWithClient({ poolSize: 2 });
    ({ schema, client } = opened);
    await opened.driver.flowRuleSet({
      rules: [{ queue: 'default', key: '*', concurrency: 1000, rate: null }],
    });
    const s = `"${schema}"`;
    await client.query(
      `INSERT INTO ${s}.jobs (task, queue, payload, state, attempt, max_attempts, run_at, created_at, started_at,
         finished_at, lease_token, result, correlation_id, concurrency_key)
       SELECT 'work', 'default', '{}', 'completed', 1, 3, now(), now(), now(), now(), 1, 'null', 'c',
              'k' || (g % ${DRAINED_KEYS + WAITING_KEYS})
       FROM generate_series(1, ${FINISHED}) g`,
    );
    // Keys k0…k59: one running job each, nothing waiting. Keys k60…k79: a waiting job each.
    await client.query(
      `INSERT INTO ${s}.jobs (task, queue, payload, state, attempt, max_attempts, run_at, created_at, started_at,
         lease_token, lease_expires_at, worker_id, correlation_id, concurrency_key)
       SELECT 'work', 'default', '{}', 'running', 1, 3, now(), now(), now(), 1, now() + interval '1 hour', 'w', 'c',
              'k' || g
       FROM generate_series(0, ${DRAINED_KEYS - 1}) g`,
    );
    await client.query(
      `INSERT INTO ${s}.jobs (task, queue, payload, state, max_attempts, run_at, created_at, correlation_id, concurrency_key)
       SELECT 'work', 'default', '{}', 'pending', 3, now() - interval '1 minute', now(), 'c', 'k' || g
       FROM generate_series(${DRAINED_KEYS}, ${DRAINED_KEYS + WAITING_KEYS - 1}) g`,
    );
    // The drained keys were started longest ago: the walk meets them first.
    await client.query(
      `INSERT INTO ${s}.flow_keys (queue, key, active, last_started_at)
       SELECT 'default', 'k' || g, true, now() - interval '1 hour' + g * interval '1 second'
       FROM generate_series(0, ${DRAINED_KEYS + WAITING_KEYS - 1}) g
       ON CONFLICT (queue, key) DO UPDATE SET active = true, last_started_at = excluded.last_started_at`,
    );
    await client.query(`VACUUM ANALYZE ${s}.jobs`);
    await client.query(`ANALYZE ${s}.flow_keys`);
  });

  after(async () => {
    await opened?.cleanup();
  });

  for (const mode of ['custom', 'generic'] as const) {
    it(`walks the keys through indexes only, never a scan of jobs (${mode} plan)`, async () => {
      const values = [['default'], DRAINED_KEYS + 10, null, [], []];
      await client.query(`PREPARE lock_${mode} AS ${lockSql(`"${schema}"`)}`);
      try {
        await client.query('BEGIN');
        await client.query(`SET LOCAL plan_cache_mode = force_${mode}_plan`);
        const args = `ARRAY['default'], ${values[1]}, NULL, '{}'::text[], '{}'::text[]`;
        const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE lock_${mode}(${args})`);
        const plan = (rows[0]['QUERY PLAN'] as [{ Plan: PlanNode }])[0].Plan;
        const onJobs = nodesOf(plan).filter((n) => n['Relation Name'] === 'jobs');
        const scans = onJobs.filter((n) => n['Node Type'] === 'Seq Scan');
        assert.deepEqual(scans.length, 0, `jobs reached by: ${onJobs.map((n) => n['Node Type'])}`);
        const read = jobsRowsVisited(plan);
        // A few rows per key walked (its running job, its waiting job), not the table.
        assert.ok(read <= 5 * (DRAINED_KEYS + WAITING_KEYS), `rows of jobs read: ${read}`);
        const locked = (await client.query(`EXECUTE lock_${mode}(${args})`)).rows;
        // The drained keys are walked past (running jobs: not idle, nothing due); the waiting ones locked.
        assert.equal(locked.filter((r) => r.key !== null).length, WAITING_KEYS);
      } finally {
        await client.query('ROLLBACK');
        await client.query(`DEALLOCATE lock_${mode}`);
      }
    });
  }
});
