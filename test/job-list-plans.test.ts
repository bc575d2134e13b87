/**
 * A filtered job list reads at most JOB_LIST_SCAN_CAP jobs, however its filters match: these
 * tests look at what the database does with the exact statement `jobList` runs on a table whose
 * matches are old (pending jobs under many newer finished ones) — SQLite's query plan, and
 * PostgreSQL's EXPLAIN ANALYZE under custom and generic plans (the driver forces generic ones,
 * where `($1 IS NULL OR queue = ANY($1))` filters once chose a parallel backward scan of the
 * primary key that walked the table) — never at time.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { type Driver, JOB_LIST_SCAN_CAP, type JobListParams } from '../src/driver/driver.js';
import { listStatement as pgListStatement } from '../src/drivers/postgres/jobs-list.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { listStatement as sqliteListStatement } from '../src/drivers/sqlite/job-list.js';
import { explainPrepared, jobsRowsVisited, nodesOf } from './support/plans.js';
import { openTestDriverWithClient } from './support/postgres.js';

/** Pending jobs in `email`, the oldest ids. */
const OLD_PENDING = 1_000;
/** Finished jobs above them: several caps' worth. */
const FINISHED = 5 * JOB_LIST_SCAN_CAP;
/** Pending jobs in `reports`, the newest ids. */
const NEW_PENDING = 30;
const LIMIT = 50;

const LISTS: [string, JobListParams][] = [
  ['pending in email (old matches)', { states: ['pending'], queues: ['email'], limit: LIMIT }],
  [
    'pending in reports (newest, too few to fill the page)',
    { states: ['pending'], queues: ['reports'], limit: LIMIT },
  ],
  ['cancelled (no match)', { states: ['cancelled'], limit: LIMIT }],
  ['two states and a task', { states: ['pending', 'scheduled'], tasks: ['t'], limit: LIMIT }],
  ['email, second page', { queues: ['email'], limit: LIMIT, before: String(OLD_PENDING + FINISHED) }],
];

test('sqlite: a filtered list reads a capped run of the primary key below the cursor, with no sort', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-list-plans-'));
  try {
    const driver = sqliteDriver({ path: join(dir, 'plans.db') });
    await driver.migrate();
    await driver.close();
    const db = new Database(join(dir, 'plans.db'));
    db.prepare(
      `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :old + :finished + :new)
       INSERT INTO jobwire_jobs (task, queue, payload, state, max_attempts, run_at, created_at, finished_at, correlation_id)
       SELECT 't', CASE WHEN n <= :old THEN 'email' WHEN n <= :old + :finished THEN 'bulk' ELSE 'reports' END, '{}',
         CASE WHEN n <= :old OR n > :old + :finished THEN 'pending' ELSE 'completed' END, 1, 0, 0,
         CASE WHEN n <= :old OR n > :old + :finished THEN NULL ELSE 0 END, 'c'
       FROM g`,
    ).run({ old: OLD_PENDING, finished: FINISHED, new: NEW_PENDING });
    db.exec('ANALYZE');
    for (const [name, params] of LISTS) {
      const { sql, args } = sqliteListStatement(params);
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map(
        (row) => row.detail,
      );
      const shown = `${name}: ${plan.join(' | ')}`;
      // The primary-key read sits in a subquery of its own (where its LIMIT is), read in id order.
      assert.deepEqual(
        plan.filter((detail) => /jobwire_jobs\b/.test(detail)),
        ['SEARCH jobwire_jobs USING INTEGER PRIMARY KEY (rowid<?)'],
        shown,
      );
      assert.ok(
        plan.some((detail) => /^CO-ROUTINE/.test(detail)),
        shown,
      );
      assert.ok(!plan.some((detail) => /TEMP B-TREE/.test(detail)), shown);
      // What the plan text cannot show: the read stops at the cap, so the old matches under
      // FINISHED newer jobs are not reached.
      const rows = db.prepare(sql).all(...args) as { queue: string }[];
      assert.ok(!rows.some((row) => row.queue === 'email'), shown);
    }
    // Running jobs alone: through their own index, not the primary key (they are few, and old).
    const running = sqliteListStatement({ states: ['running'], queues: ['email'], limit: LIMIT });
    const runningPlan = (
      db.prepare(`EXPLAIN QUERY PLAN ${running.sql}`).all(...running.args) as { detail: string }[]
    ).map((row) => row.detail);
    assert.ok(
      runningPlan.some((detail) => /USING INDEX jobwire_jobs_running/.test(detail)),
      runningPlan.join(' | '),
    );
    assert.equal(running.capped, false);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('postgres: a filtered list reads at most JOB_LIST_SCAN_CAP jobs', () => {
  let driver: Driver;
  let client: pg.Client;
  let schema: string;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ driver, schema, client, cleanup } = await openTestDriverWithClient({ poolSize: 2 }));
    await client.query(
      `INSERT INTO "${schema}".jobs (task, queue, payload, state, max_attempts, run_at, created_at, finished_at, correlation_id)
       SELECT 't', CASE WHEN g <= $1::int THEN 'email' WHEN g <= $1::int + $2::int THEN 'bulk' ELSE 'reports' END,
         '{}', CASE WHEN g <= $1::int OR g > $1::int + $2::int THEN 'pending' ELSE 'completed' END, 1, now(), now(),
         CASE WHEN g <= $1::int OR g > $1::int + $2::int THEN NULL ELSE now() END, 'c'
       FROM generate_series(1, $1::int + $2::int + $3::int) g`,
      [OLD_PENDING, FINISHED, NEW_PENDING],
    );
    // What autovacuum does to a loaded table; the planner then knows the table is large.
    await client.query(`VACUUM ANALYZE "${schema}".jobs`);
  });

  after(async () => {
    await cleanup?.();
  });

  for (const mode of ['custom', 'generic'] as const) {
    for (const [name, params] of LISTS) {
      test(`${name} (${mode} plan): a backward scan of the primary key, at most the cap`, async () => {
        const plan = await explainPrepared(client, pgListStatement(`"${schema}"`, params), mode);
        const onJobs = nodesOf(plan).filter((n) => n['Relation Name'] === 'jobs');
        assert.deepEqual(
          onJobs.map((n) => `${n['Node Type']} ${n['Index Name']}`),
          ['Index Scan jobs_pkey'],
          JSON.stringify(plan),
        );
        assert.ok(!nodesOf(plan).some((n) => /Gather/.test(n['Node Type'])), 'no parallel plan');
        // No sort either: the scan's order carries through, so the outer LIMIT stops it early.
        assert.ok(!nodesOf(plan).some((n) => n['Node Type'] === 'Sort'), 'no sort');
        const visited = jobsRowsVisited(plan);
        assert.ok(visited <= JOB_LIST_SCAN_CAP, `visited ${visited} rows of jobs`);
      });
    }
  }

  for (const mode of ['custom', 'generic'] as const) {
    test(`running jobs alone (${mode} plan): read through the running jobs' index, never the primary key`, async () => {
      const running = pgListStatement(`"${schema}"`, {
        states: ['running'],
        queues: ['email'],
        limit: LIMIT,
      });
      const plan = await explainPrepared(client, running, mode);
      const onJobs = nodesOf(plan).filter((n) => n['Relation Name'] === 'jobs');
      assert.ok(
        onJobs.length > 0 && onJobs.every((n) => n['Index Name'] === 'jobs_rescue'),
        JSON.stringify(plan),
      );
      assert.equal(jobsRowsVisited(plan), 0, 'no running job here: nothing else read');
    });
  }

  // Ids run from 1 in insertion order: the newest JOB_LIST_SCAN_CAP end with the one returned.
  test('the driver returns what the contract says on this table', async () => {
    const email = await driver.jobList(LISTS[0]![1]);
    assert.deepEqual(email.jobs, []);
    assert.equal(email.nextCursor, String(OLD_PENDING + FINISHED + NEW_PENDING - JOB_LIST_SCAN_CAP + 1));
    const reports = await driver.jobList(LISTS[1]![1]);
    assert.equal(reports.jobs.length, NEW_PENDING);
    assert.equal(reports.nextCursor, email.nextCursor);
  });
});
