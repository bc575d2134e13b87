/**
 * `queueStats` costs what it reports, not the backlog: with many waiting jobs it reads per queue
 * at most the cap + 1 entries of the waiting-jobs index, and for failed attempts only the
 * waiting jobs that can hold an error dated in the window (schema 13). Before, it counted every
 * waiting job and read each one's errors; with a sixth of the table waiting PostgreSQL chose
 * sequential scans of the whole table (5.2 s at 6 million jobs,
 * bench/results/2026-12-02-http-large-tables.md). These tests look at what the database does
 * with the exact statements the driver runs — SQLite's query plan, PostgreSQL's EXPLAIN ANALYZE
 * row counts on an analyzed table — never at time.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type pg from 'pg';
import type { Driver } from '../src/driver/driver.js';
import { statsSql } from '../src/drivers/postgres/health.js';
import { STATS_SQL } from '../src/drivers/sqlite/health.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { nodesOf, type PlanNode } from './support/plans.js';
import { openTestDriverWithClient } from './support/postgres.js';

const NOW = Date.UTC(2030, 0, 1);
const WINDOW_MS = 60_000;
const CAP = 1_000;
const BULK = 40_000;
const SMALL = 50;
const FINISHED = 60_000;
const IN_WINDOW = 200;
const RETRIED = 100;

test('sqlite: every read of queueStats seeks its own index, none scans the jobs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-stats-plans-'));
  try {
    const driver = sqliteDriver({ path: join(dir, 'plans.db') });
    await driver.migrate();
    await driver.close();
    const db = new Database(join(dir, 'plans.db'));
    const params = { after: '', queue: 'q', now: NOW, since: NOW - WINDOW_MS, limit: CAP + 1 };
    const planOf = (sql: string) => {
      const used = Object.fromEntries(Object.entries(params).filter(([k]) => sql.includes(`@${k}`)));
      return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(used) as { detail: string }[]).map((r) => r.detail);
    };
    // Running jobs are read whole (as many as workers hold); every other read is a seek.
    const expected: Record<keyof typeof STATS_SQL, RegExp[]> = {
      nextQueue: [/^SEARCH jobwire_jobs USING COVERING INDEX jobwire_jobs_waiting \(queue>\?\)/],
      waiting: [/^SEARCH jobwire_jobs USING COVERING INDEX jobwire_jobs_waiting \(queue=\?\)/],
      running: [/^SCAN jobwire_jobs USING INDEX jobwire_jobs_running/],
      finished: [
        /^SEARCH jobwire_jobs USING COVERING INDEX jobwire_jobs_finished \(state=\? AND finished_at>\?/,
      ],
      failures: [
        /^SEARCH jobwire_jobs USING INDEX jobwire_jobs_waiting_failed \(run_at>\?\)/,
        /^SEARCH jobwire_jobs USING INDEX jobwire_jobs_waiting_interrupted \(run_at<\?\)/,
        /^SCAN jobwire_jobs USING INDEX jobwire_jobs_running/,
        /^SEARCH jobwire_jobs USING INDEX jobwire_jobs_finished \(state=\? AND finished_at>\?/,
      ],
      deleted: [], // reads jobwire_deleted_completions only: checked below
    };
    // The window's seconds are a range of the counts' key, not a scan of a day of them.
    assert.match(
      planOf(STATS_SQL.deleted).join(' | '),
      /SEARCH jobwire_deleted_completions USING PRIMARY KEY \(at_second>\? AND at_second<\?\)/,
    );
    for (const [name, sql] of Object.entries(STATS_SQL) as [keyof typeof STATS_SQL, string][]) {
      const onJobs = planOf(sql).filter((detail) => /jobwire_jobs\b/.test(detail));
      assert.equal(onJobs.length, expected[name].length, `${name}: ${onJobs.join(' | ')}`);
      for (const [i, pattern] of expected[name].entries()) assert.match(onJobs[i]!, pattern, name);
    }
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('postgres: queueStats on an analyzed table with a large backlog', () => {
  let driver: Driver;
  let client: pg.Client;
  let schema: string;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ driver, schema, client, cleanup } = await openTestDriverWithClient({ poolSize: 2 }));
    const at = (ms: number) => `to_timestamp(${ms}::float8 / 1000)`;
    // History (finished before the window, a few in it), then the backlog: a sixth or more of
    // the table waiting, as in the bench that found the scans; a few retried jobs with errors.
    await client.query(
      `INSERT INTO "${schema}".jobs (task, queue, payload, state, attempt, max_attempts, run_at, created_at,
         finished_at, correlation_id)
       SELECT 't', 'bulk', '{}', 'completed', 1, 3, ${at(NOW - 86_400_000)}, ${at(NOW - 86_400_000)},
         CASE WHEN g <= ${IN_WINDOW} THEN ${at(NOW - 1_000)} ELSE ${at(NOW - 3_600_000)} END, 'c'
       FROM generate_series(1, ${FINISHED}) g`,
    );
    await client.query(
      `INSERT INTO "${schema}".jobs (task, queue, payload, state, max_attempts, run_at, created_at, correlation_id)
       SELECT 't', CASE WHEN g <= ${SMALL} THEN 'small' ELSE 'bulk' END, '{}', 'pending', 3,
         ${at(NOW - 600_000)} + g * interval '1 millisecond', ${at(NOW - 600_000)}, 'c'
       FROM generate_series(1, ${BULK + SMALL}) g`,
    );
    await client.query(
      `INSERT INTO "${schema}".jobs (task, queue, payload, state, attempt, max_attempts, run_at, created_at,
         errors, correlation_id)
       SELECT 't', 'bulk', '{}', 'scheduled', 1, 3, ${at(NOW + 5_000)}, ${at(NOW - 600_000)},
         jsonb_build_array(jsonb_build_object('name', 'Error', 'message', 'boom', 'attempt', 1, 'at', ${NOW - 2_000})),
         'c'
       FROM generate_series(1, ${RETRIED}) g`,
    );
    await client.query(`VACUUM ANALYZE "${schema}".jobs`);
  });

  after(async () => {
    await cleanup?.();
  });

  test(`reads about the cap per queue and the window, not the ${BULK} waiting jobs`, async () => {
    // As the driver sends it: unprepared, JIT off (a custom plan that sees the limit).
    await client.query('BEGIN');
    try {
      await client.query('SET LOCAL jit = off');
      const { rows } = await client.query({
        text: `EXPLAIN (ANALYZE, FORMAT JSON) ${statsSql(`"${schema}"`)}`,
        values: [NOW, WINDOW_MS, CAP + 1],
      });
      const plan = (rows[0]['QUERY PLAN'] as [{ Plan: PlanNode }])[0].Plan;
      const onJobs = nodesOf(plan).filter((n) => n['Relation Name'] === 'jobs');
      const scans = onJobs.filter((n) => /Seq Scan/.test(n['Node Type']));
      assert.deepEqual(
        scans.map((n) => n['Node Type']),
        [],
        'no sequential scan of jobs',
      );
      const visited = onJobs.reduce(
        (sum, n) => sum + (n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0)) * n['Actual Loops'],
        0,
      );
      // Two queues read up to the cap + 1, the jobs finished in the window (twice: counts and
      // errors), the retried jobs' errors, and one seek per queue to find the queues.
      const bound = 2 * (CAP + 1) + 2 * IN_WINDOW + RETRIED + 10;
      assert.ok(visited <= bound, `visited ${visited} rows of jobs (bound ${bound})`);
    } finally {
      await client.query('ROLLBACK');
    }
  });

  test('the driver reports the capped counts and the window on that table', async () => {
    const stats = await driver.queueStats({ windowMs: WINDOW_MS, exactUpTo: CAP, now: NOW });
    assert.deepEqual(
      stats.map((s) => [s.queue, s.pending, s.scheduled, s.precision, s.oldestPendingRunAt]),
      [
        ['bulk', CAP + 1, 0, { pending: 'atLeast', scheduled: 'atLeast' }, NOW - 600_000 + SMALL + 1],
        ['small', SMALL, 0, { pending: 'exact', scheduled: 'exact' }, NOW - 600_000 + 1],
      ],
    );
    assert.deepEqual(
      stats.map((s) => [s.completed, s.failedAttempts]),
      [
        [IN_WINDOW, RETRIED],
        [0, 0],
      ],
    );
  });
});
