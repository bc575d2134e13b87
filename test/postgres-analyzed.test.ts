/**
 * The PostgreSQL hot statements on a table that has planner statistics. Autovacuum analyzes
 * `jobs` on any production server, typically while no job runs; those statistics estimate one
 * `running` row, and a statement the planner is free to drive from the `jobs_rescue` partial
 * index then scans every running job once per batch item. These tests take statistics that way
 * (VACUUM ANALYZE with only pending and finished rows), put 2,100 jobs in `running`, then run
 * EXPLAIN ANALYZE of exactly what the driver sends — custom and generic plans both, since the
 * driver prepares its statements — and bound the rows each plan touched by the batch size, not
 * by the number of running or finished jobs. Then the real driver methods run on the same table.
 * Nothing here measures time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { ClaimedJob, Driver, FinalizeItem, ReleaseLease } from '../src/driver/driver.js';
import { claimStatement } from '../src/drivers/postgres/claim-sql.js';
import { postgresDriver } from '../src/drivers/postgres/index.js';
import { countStatesStatement, INDEX_COUNT_SETTINGS } from '../src/drivers/postgres/jobs-admin.js';
import {
  finalizeStatement,
  heartbeatStatement,
  releaseStatement,
} from '../src/drivers/postgres/jobs-lease.js';
import { explainPrepared, nodesOf, type PlanNode } from './support/plans.js';
import { createIsolatedSchema } from './support/postgres.js';

const FINISHED = 20_000;
const PENDING = 30_000;
const RUNNING = 2_100;
const BATCH = 1_000;
const CLAIM_LIMIT = 100;

/** What a plan did to `jobs`: how it reached it, and rows produced or discarded (per-loop figures × loops). */
function summarize(plan: PlanNode) {
  const nodes = nodesOf(plan);
  const onJobs = nodes.filter((n) => n['Relation Name'] === 'jobs' && n['Node Type'] !== 'ModifyTable');
  const total = (n: PlanNode, field: keyof PlanNode) =>
    ((n[field] as number | undefined) ?? 0) * n['Actual Loops'];
  return {
    access: [
      ...new Set(onJobs.map((n) => `${n['Node Type']}${n['Index Name'] ? ` ${n['Index Name']}` : ''}`)),
    ],
    jobsRowsVisited: onJobs.reduce(
      (sum, n) =>
        sum +
        total(n, 'Actual Rows') +
        total(n, 'Rows Removed by Filter') +
        total(n, 'Rows Removed by Index Recheck'),
      0,
    ),
    joinFilterRemoved: nodes.reduce((sum, n) => sum + total(n, 'Rows Removed by Join Filter'), 0),
  };
}

describe('postgres hot statements on an analyzed jobs table', () => {
  let driver: Driver;
  let client: pg.Client;
  let schema: string;
  let drop: () => Promise<void>;
  let running: ClaimedJob[] = [];

  before(async () => {
    const isolated = await createIsolatedSchema();
    schema = isolated.schema;
    drop = isolated.drop;
    driver = postgresDriver({ connectionString: isolated.url, schema, poolSize: 4 });
    await driver.migrate();
    client = new pg.Client({ connectionString: isolated.url });
    await client.connect();
    // Finished rows first (lower ids), as on a server that has run for a while.
    await client.query(
      `INSERT INTO "${schema}".jobs (task, queue, payload, state, attempt, max_attempts, run_at, created_at,
         started_at, finished_at, lease_token, result, correlation_id)
       SELECT 'work', 'default', '{}', 'completed', 1, 3, now(), now(), now(), now(), 1, 'null', 'c'
       FROM generate_series(1, ${FINISHED})`,
    );
    await client.query(
      `INSERT INTO "${schema}".jobs (task, queue, payload, state, max_attempts, run_at, created_at, correlation_id)
       SELECT 'work', 'default', json_build_object('i', g), 'pending', 3, now() - interval '1 minute', now(), 'c'
       FROM generate_series(1, ${PENDING}) g`,
    );
    // Statistics taken while nothing runs, as autovacuum takes them between bursts.
    await client.query(`VACUUM ANALYZE "${schema}".jobs`);
    while (running.length < RUNNING) {
      running = running.concat(
        await driver.jobClaim({
          queues: ['default'],
          limit: RUNNING - running.length,
          leaseMs: 60_000,
          poolId: 'w',
        }),
      );
    }
  });

  after(async () => {
    await client?.end();
    await driver?.close();
    await drop?.();
  });

  const finalizeItems = (from = 0): FinalizeItem[] =>
    running.slice(from, from + BATCH).map((job, i) =>
      i % 5 === 0
        ? {
            id: job.id,
            leaseToken: job.leaseToken,
            outcome: 'retry',
            error: { name: 'E', message: 'x', attempt: 1, at: 0 },
            delayMs: 1000,
          }
        : { id: job.id, leaseToken: job.leaseToken, outcome: 'completed', resultJson: `{"i":${i}}` },
    );

  /** Leases to give back; every third one as an interrupted attempt (the other statement branch). */
  const releaseLeases = (from = 0): ReleaseLease[] =>
    running.slice(from, from + BATCH).map((job, i) =>
      i % 3 === 0
        ? {
            id: job.id,
            leaseToken: job.leaseToken,
            interruption: { name: 'ShutdownError', message: 'cut off', attempt: 1, at: 0 },
          }
        : { id: job.id, leaseToken: job.leaseToken },
    );

  for (const mode of ['custom', 'generic'] as const) {
    it(`the finalize reaches jobs by primary key and the addresses it read, touching O(batch) rows (${mode} plan)`, async () => {
      const plan = summarize(
        await explainPrepared(client, finalizeStatement(`"${schema}"`, { items: finalizeItems() }), mode),
      );
      assert.deepEqual(
        // The fence's lookup by primary key; the UPDATE by the addresses that lookup read.
        plan.access.filter((a) => !a.endsWith('jobs_pkey') && a !== 'Tid Scan'),
        [],
        `jobs reached only by its primary key and a TID scan: ${plan.access}`,
      );
      assert.ok(plan.jobsRowsVisited <= 3 * BATCH, `rows of jobs visited: ${plan.jobsRowsVisited}`);
      assert.ok(plan.joinFilterRemoved <= BATCH, `rows removed by join filters: ${plan.joinFilterRemoved}`);
    });

    it(`the heartbeat reaches jobs by primary key, touching O(batch) rows (${mode} plan)`, async () => {
      const leases = running.slice(0, BATCH).map((j) => ({ id: j.id, leaseToken: j.leaseToken }));
      const plan = summarize(
        await explainPrepared(client, heartbeatStatement(`"${schema}"`, { leases, leaseMs: 60_000 }), mode),
      );
      assert.deepEqual(
        plan.access.filter((a) => !a.endsWith('jobs_pkey')),
        [],
        `jobs reached only by its primary key: ${plan.access}`,
      );
      assert.ok(plan.jobsRowsVisited <= 3 * BATCH, `rows of jobs visited: ${plan.jobsRowsVisited}`);
      assert.ok(plan.joinFilterRemoved <= BATCH, `rows removed by join filters: ${plan.joinFilterRemoved}`);
    });

    it(`a heartbeat carrying one job's progress reaches it by primary key (${mode} plan)`, async () => {
      const job = running[RUNNING - 1]!;
      const statement = heartbeatStatement(`"${schema}"`, {
        leases: [{ id: job.id, leaseToken: job.leaseToken, progressJson: '50' }],
        leaseMs: 60_000,
      });
      const plan = summarize(await explainPrepared(client, statement, mode));
      assert.deepEqual(
        plan.access.filter((a) => !a.endsWith('jobs_pkey')),
        [],
        `jobs reached only by its primary key: ${plan.access}`,
      );
      assert.ok(plan.jobsRowsVisited <= 3, `rows of jobs visited: ${plan.jobsRowsVisited}`);
    });

    it(`the release reaches jobs by primary key, touching O(batch) rows (${mode} plan)`, async () => {
      const plan = summarize(
        await explainPrepared(
          client,
          releaseStatement(`"${schema}"`, { leases: releaseLeases() }, 'ch'),
          mode,
        ),
      );
      assert.deepEqual(
        plan.access.filter((a) => !a.endsWith('jobs_pkey')),
        [],
        `jobs reached only by its primary key: ${plan.access}`,
      );
      assert.ok(plan.jobsRowsVisited <= 3 * BATCH, `rows of jobs visited: ${plan.jobsRowsVisited}`);
      assert.ok(plan.joinFilterRemoved <= BATCH, `rows removed by join filters: ${plan.joinFilterRemoved}`);
    });

    it(`the claim walks jobs_claim, not the ${FINISHED.toLocaleString('en')} finished rows (${mode} plan)`, async () => {
      const statement = claimStatement(`"${schema}"`, {
        queues: ['default'],
        limit: CLAIM_LIMIT,
        leaseMs: 60_000,
        poolId: 'x',
      });
      const plan = summarize(await explainPrepared(client, statement, mode));
      assert.deepEqual(
        // The UPDATE reaches the picked rows by the addresses the pick read (a TID scan).
        plan.access.filter((a) => !a.endsWith('jobs_claim') && a !== 'Tid Scan'),
        [],
        `jobs reached only by jobs_claim and the picked rows' addresses: ${plan.access}`,
      );
      assert.ok(plan.jobsRowsVisited <= 3 * CLAIM_LIMIT, `rows of jobs visited: ${plan.jobsRowsVisited}`);
      assert.ok(
        plan.joinFilterRemoved <= CLAIM_LIMIT,
        `rows removed by join filters: ${plan.joinFilterRemoved}`,
      );
    });
  }

  it('the driver methods keep their fence on the analyzed table', async () => {
    const [first, second, third] = running;
    assert.ok(first && second && third);
    // Heartbeat: every held lease is kept; a stale token is reported lost.
    const lost = await driver.jobHeartbeatMany({
      leases: [
        ...running.map((j) => ({ id: j.id, leaseToken: j.leaseToken })),
        { id: first.id, leaseToken: first.leaseToken - 1 },
      ],
      leaseMs: 60_000,
    });
    assert.deepEqual(lost, [first.id]);
    // Progress travels with the heartbeat, fenced the same way.
    assert.deepEqual(
      await driver.jobHeartbeatMany({
        leases: [{ id: second.id, leaseToken: second.leaseToken, progressJson: '7' }],
        leaseMs: 60_000,
      }),
      [],
    );
    assert.deepEqual(
      await driver.jobHeartbeatMany({
        leases: [{ id: second.id, leaseToken: second.leaseToken + 1, progressJson: '8' }],
        leaseMs: 60_000,
      }),
      [second.id],
    );
    assert.equal((await driver.jobGet({ id: second.id }))?.progress, 7);
    // Finalise: the first passing item per job applies; a stale token and a repeat are refused.
    const items = finalizeItems();
    const results = await driver.jobFinalizeMany({
      items: [
        { id: third.id, leaseToken: third.leaseToken - 1, outcome: 'completed', resultJson: '"stale"' },
        ...items,
        {
          id: first.id,
          leaseToken: first.leaseToken,
          outcome: 'abandoned',
          error: { name: 'E', message: 'late', attempt: 1, at: 0 },
        },
      ],
    });
    assert.equal(results[0]!.applied, false);
    assert.ok(results.slice(1, 1 + items.length).every((r) => r.applied));
    assert.equal(results.at(-1)!.applied, false);
    const { rows } = await client.query(
      `SELECT state, count(*)::int AS n FROM "${schema}".jobs WHERE id = ANY($1::bigint[]) GROUP BY state ORDER BY state`,
      [items.map((i) => i.id)],
    );
    assert.deepEqual(rows, [
      { state: 'completed', n: BATCH - BATCH / 5 },
      { state: 'scheduled', n: BATCH / 5 },
    ]);
    const second2 = await driver.jobGet({ id: second.id });
    assert.equal(second2?.state, 'completed');
    assert.deepEqual(second2?.result, { i: 1 });
    // The jobs not finalized are still running under their lease.
    const stillRunning = await client.query(
      `SELECT count(*)::int AS n FROM "${schema}".jobs WHERE state = 'running'`,
    );
    assert.equal(stillRunning.rows[0].n, RUNNING - BATCH);
  });
  it('with statistics taken while most rows ran, finalize, heartbeat and release still read O(batch) rows', async () => {
    // The opposite estimate: nearly every row running, so the planner expects the whole batch
    // to pass the fence, where a hash join over a sequential scan of a small table looks cheap.
    await client.query(
      `UPDATE "${schema}".jobs SET state = 'running', worker_id = 'was ' || state WHERE state <> 'running'`,
    );
    await client.query(`ANALYZE "${schema}".jobs`);
    await client.query(
      `UPDATE "${schema}".jobs SET state = substr(worker_id, 5), worker_id = NULL WHERE worker_id LIKE 'was %'`,
    );
    const leases = running.slice(BATCH, 2 * BATCH).map((j) => ({ id: j.id, leaseToken: j.leaseToken }));
    for (const mode of ['custom', 'generic'] as const) {
      for (const [name, statement] of [
        ['finalize', finalizeStatement(`"${schema}"`, { items: finalizeItems(BATCH) })],
        ['heartbeat', heartbeatStatement(`"${schema}"`, { leases, leaseMs: 60_000 })],
        ['release', releaseStatement(`"${schema}"`, { leases: releaseLeases(BATCH) }, 'ch')],
      ] as const) {
        const plan = summarize(await explainPrepared(client, statement, mode));
        const what = `${name} (${mode} plan)`;
        assert.deepEqual(
          plan.access.filter((a) => !a.endsWith('jobs_pkey') && (name !== 'finalize' || a !== 'Tid Scan')),
          [],
          `${what}: jobs reached only by its primary key (and the finalize's TID scan): ${plan.access}`,
        );
        assert.ok(
          plan.jobsRowsVisited <= 3 * BATCH,
          `${what}: rows of jobs visited: ${plan.jobsRowsVisited}`,
        );
        assert.ok(
          plan.joinFilterRemoved <= BATCH,
          `${what}: rows removed by join filters: ${plan.joinFilterRemoved}`,
        );
      }
    }
  });
  it('with statistics taken while every job waited, counting unfinished states reads only their index entries', async () => {
    // As after a bulk enqueue: statistics say every row is pending, so a count of pending jobs
    // looks cheaper as a scan of the whole table than through the index, finished rows and all.
    await client.query(`UPDATE "${schema}".jobs SET state = 'pending', worker_id = 'was ' || state`);
    await client.query(`ANALYZE "${schema}".jobs`);
    await client.query(
      `UPDATE "${schema}".jobs SET state = substr(worker_id, 5), worker_id = NULL WHERE worker_id LIKE 'was %'`,
    );
    const { rows } = await client.query(
      `SELECT count(*) FILTER (WHERE state IN ('blocked', 'scheduled', 'pending', 'running'))::int AS unfinished,
              count(*) FILTER (WHERE state = 'running')::int AS running, count(*)::int AS total
       FROM "${schema}".jobs`,
    );
    const {
      unfinished,
      running: runningNow,
      total,
    } = rows[0] as { unfinished: number; running: number; total: number };
    assert.ok(total - unfinished >= FINISHED, 'the finished rows are still there');
    for (const mode of ['custom', 'generic'] as const) {
      for (const [states, bound] of [
        [['blocked', 'scheduled', 'pending', 'running'], unfinished],
        [['running'], runningNow],
      ] as const) {
        const statement = countStatesStatement(
          `"${schema}"`,
          states,
          states.length === 1 ? ['default'] : null,
        );
        assert.ok(statement.noSeqScan, 'unfinished states only');
        const plan = summarize(await explainPrepared(client, statement, mode, INDEX_COUNT_SETTINGS));
        const what = `${states} (${mode} plan)`;
        assert.deepEqual(
          plan.access.filter((a) => a.startsWith('Seq Scan') || a.startsWith('Parallel Seq Scan')),
          [],
          `${what}: no scan of the whole table: ${plan.access}`,
        );
        assert.ok(
          plan.jobsRowsVisited <= bound + 100,
          `${what}: rows of jobs visited: ${plan.jobsRowsVisited} (${bound} in those states)`,
        );
      }
    }
    assert.deepEqual(await driver.jobCountByState({ states: ['running', 'blocked'] }), {
      running: runningNow,
      blocked: 0,
    });
  });
});
