/**
 * A prune's batch reads only the rows of its state it deletes, however many jobs of other states
 * the history keeps. The default retention keeps abandoned jobs 30 days and completed ones 1
 * day, so the completed jobs to delete sit behind a month of kept dead letters in finish order;
 * an index on finish time alone made every batch walk past all of them. These tests look at
 * what the database does with the exact statement the driver runs — SQLite's query plan, and
 * PostgreSQL's EXPLAIN ANALYZE row counts on an analyzed table — never at time.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type pg from 'pg';
import type { Driver, JobDeleteFinishedParams } from '../src/driver/driver.js';
import { deleteFinishedStatement as pgDeleteStatement } from '../src/drivers/postgres/retention.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { deleteFinishedStatement as sqliteDeleteStatement } from '../src/drivers/sqlite/retention.js';
import { explainPrepared, jobsRowsVisited, type PlanNode } from './support/plans.js';
import { openTestDriverWithClient } from './support/postgres.js';

const KEPT = 20_000;
const DOOMED = 2_000;
const LIMIT = 100;
const DAY = 86_400_000;
const NOW = Date.UTC(2030, 0, 1);

/** What the pruner of completed jobs asks for: the oldest LIMIT finished over a day ago. */
const PRUNE: JobDeleteFinishedParams = { states: ['completed'], finishedBefore: NOW - DAY, limit: LIMIT };

test('sqlite: a batch of one state seeks that state in the finished-jobs index', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-retention-plans-'));
  try {
    const driver = sqliteDriver({ path: join(dir, 'plans.db') });
    await driver.migrate();
    await driver.close();
    const db = new Database(join(dir, 'plans.db'));
    for (const params of [PRUNE, { ...PRUNE, states: ['completed', 'abandoned'] } as const]) {
      const { sql, args } = sqliteDeleteStatement(params);
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map(
        (row) => row.detail,
      );
      const onJobs = plan.filter((detail) => /jobwire_jobs\b/.test(detail) && !/PRIMARY KEY/.test(detail));
      assert.ok(onJobs.length === params.states.length, `one read per state: ${plan.join(' | ')}`);
      for (const detail of onJobs) {
        assert.match(detail, /^SEARCH .*INDEX jobwire_jobs_finished \(state=\? AND finished_at/, detail);
      }
    }
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('postgres: a batch of one state reads about its own rows', () => {
  let driver: Driver;
  let client: pg.Client;
  let schema: string;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ driver, schema, client, cleanup } = await openTestDriverWithClient({ poolSize: 2 }));
    // Kept dead letters that finished 2–10 days ago, then the completed jobs to delete
    // (finished 1–2 days ago), all behind them in finish order.
    await client.query(
      `INSERT INTO "${schema}".jobs (task, queue, payload, state, max_attempts, run_at, created_at, finished_at, correlation_id)
       SELECT 't', 'default', '{}', CASE WHEN g <= $1::int THEN 'abandoned' ELSE 'completed' END, 1,
         to_timestamp($3::float8 / 1000), to_timestamp($3::float8 / 1000),
         to_timestamp(($3::float8 - CASE WHEN g <= $1::int THEN 10 * $4::float8 - g * 1000
                                     ELSE 2 * $4::float8 - (g - $1::int) * 1000 END) / 1000), 'c'
       FROM generate_series(1, $1::int + $2::int) g`,
      [KEPT, DOOMED, NOW, DAY],
    );
    await client.query(`VACUUM ANALYZE "${schema}".jobs`);
  });

  after(async () => {
    await cleanup?.();
  });

  test(`deleting ${LIMIT} completed jobs behind ${KEPT} kept abandoned ones visits about ${LIMIT} rows`, async () => {
    const { text, values } = pgDeleteStatement(`"${schema}"`, PRUNE);
    await client.query('BEGIN');
    try {
      const { rows } = await client.query({ text: `EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, values });
      const plan = (rows[0]['QUERY PLAN'] as [{ Plan: PlanNode }])[0].Plan;
      const visited = jobsRowsVisited(plan);
      // The rows deleted, found once and joined once; never the kept abandoned ones.
      assert.ok(visited <= 4 * LIMIT, `visited ${visited} rows of jobs for a batch of ${LIMIT}`);
    } finally {
      await client.query('ROLLBACK');
    }
    assert.equal(await driver.jobDeleteFinished(PRUNE), LIMIT);
  });

  // The driver prepares its statements, so after a few runs the server may keep a generic plan,
  // one made without the cutoff's value. If that plan cannot seek the cutoff in the index, a run
  // with nothing old enough to delete — the pruner's usual run on a table in its steady state —
  // walks every kept job of the state (6.8 s at 4.9 M completed jobs,
  // bench/results/2026-12-01-large-tables.md).
  for (const mode of ['custom', 'generic'] as const) {
    test(`nothing old enough to delete: a batch visits no kept row (${mode} plan)`, async () => {
      const nothingOld: JobDeleteFinishedParams = { ...PRUNE, finishedBefore: NOW - 30 * DAY };
      const plan = await explainPrepared(client, pgDeleteStatement(`"${schema}"`, nothingOld), mode);
      const visited = jobsRowsVisited(plan);
      assert.ok(visited <= LIMIT, `visited ${visited} rows of jobs to delete none`);
      assert.equal(await driver.jobDeleteFinished(nothingOld), 0);
    });
  }
});
