/**
 * PostgreSQL driver under contention from several drivers (as several processes would be):
 * SKIP LOCKED claiming, queue limits enforced across concurrent enqueues, and one leader.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { jobParams } from '../src/driver/conformance/harness.js';
import type { Driver, JobInsertParams } from '../src/driver/driver.js';
import { postgresDriver } from '../src/drivers/postgres/index.js';
import { openTestDriver } from './support/postgres.js';

const job = (overrides: Partial<JobInsertParams> = {}): JobInsertParams =>
  jobParams({ maxAttempts: 1, ...overrides });

/** `count` more drivers on the same schema as `url`/`schema`, closed after the test. */
function moreDrivers(
  t: { after: (fn: () => Promise<void>) => void },
  url: string,
  schema: string,
  count: number,
) {
  const drivers = Array.from({ length: count }, () =>
    postgresDriver({ connectionString: url, schema, poolSize: 3 }),
  );
  t.after(async () => {
    await Promise.all(drivers.map((d) => d.close()));
  });
  return drivers;
}

describe('postgres under contention', () => {
  it('four drivers claiming 2,000 jobs at once never share a job', async (t) => {
    const { url, schema, driver, cleanup } = await openTestDriver();
    t.after(cleanup);
    const total = 2000;
    for (let i = 0; i < total; i += 500) {
      const result = await driver.jobInsertMany({
        jobs: Array.from({ length: 500 }, (_, n) => job({ priority: (i + n) % 4 })),
      });
      assert.ok('inserted' in result);
    }
    const drivers = moreDrivers(t, url, schema, 4);
    const claimedBy = new Map<string, string>();
    const duplicates: string[] = [];
    // Two claim loops per driver, so each driver also races itself on separate connections.
    const loop = async (d: Driver, name: string) => {
      for (;;) {
        const batch = await d.jobClaim({ queues: ['default'], limit: 17, leaseMs: 60_000, poolId: name });
        if (batch.length === 0) return;
        for (const claimed of batch) {
          if (claimedBy.has(claimed.id)) duplicates.push(claimed.id);
          claimedBy.set(claimed.id, name);
        }
      }
    };
    await Promise.all(drivers.flatMap((d, i) => [loop(d, `driver-${i}-a`), loop(d, `driver-${i}-b`)]));
    assert.deepEqual(duplicates, [], 'jobs claimed twice');
    assert.equal(claimedBy.size, total);
    const counts = await driver.jobCountByState({});
    assert.equal(counts.running, total);
    assert.equal(counts.pending, 0);
    const perWorker = new Map<string, number>();
    for (const name of claimedBy.values()) perWorker.set(name, (perWorker.get(name) ?? 0) + 1);
    assert.ok(perWorker.size > 1, `all jobs went to one worker: ${JSON.stringify([...perWorker])}`);
  });

  it('concurrent enqueues to a limited queue never overfill it', async (t) => {
    const { url, schema, driver, cleanup } = await openTestDriver();
    t.after(cleanup);
    const drivers = moreDrivers(t, url, schema, 4);
    const limits = new Map([['limited', 25]]);
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        drivers[i % drivers.length]!.jobInsertMany({
          jobs: [job({ queue: 'limited' }), job({ queue: 'limited' })],
          maxPendingByQueue: limits,
        }),
      ),
    );
    const accepted = outcomes.filter((o) => 'inserted' in o).length;
    const pending = (await driver.jobCountByState({ queues: ['limited'] })).pending;
    assert.equal(pending, accepted * 2);
    assert.ok(pending <= 25, `${pending} jobs waiting in a queue limited to 25`);
    assert.equal(accepted, 12, 'batches of two fill 24 of 25 places, then every batch is refused');
  });

  it('concurrent inserts with one unique key create one job', async (t) => {
    const { url, schema, driver, cleanup } = await openTestDriver();
    t.after(cleanup);
    const drivers = moreDrivers(t, url, schema, 4);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        drivers[i % drivers.length]!.jobInsertMany({ jobs: [job({ uniqueKey: 'only-one', task: `t${i}` })] }),
      ),
    );
    const inserted = results.flatMap((r) => ('inserted' in r ? r.inserted : []));
    assert.equal(inserted.length, 20);
    assert.equal(inserted.filter((r) => !r.duplicate).length, 1);
    assert.equal(new Set(inserted.map((r) => r.job.id)).size, 1, 'every duplicate names the one job');
    assert.equal((await driver.jobCountByState({})).pending, 1);
  });

  it('of many owners electing at once exactly one becomes leader', async (t) => {
    const { url, schema, cleanup } = await openTestDriver();
    t.after(cleanup);
    const drivers = moreDrivers(t, url, schema, 4);
    const wins = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        drivers[i % drivers.length]!.leaderAttemptElect({
          name: 'maintenance',
          ownerId: `owner-${i}`,
          ttlMs: 60_000,
        }),
      ),
    );
    assert.equal(wins.filter(Boolean).length, 1);
  });

  it('a finalize blocked on a concurrent update of its rows applies to their newest versions, fenced', async (t) => {
    // The finalize reaches its rows by the addresses its own lookup read (jobs-lease.ts). A row
    // updated by another transaction after that read has a newer version elsewhere: the write must
    // wait for it and apply the fence to that version — a lease extended meanwhile still lets the
    // outcome land, a lease taken meanwhile (a new token) fences it off.
    const { url, schema, driver, cleanup } = await openTestDriver();
    t.after(cleanup);
    const inserted = await driver.jobInsertMany({ jobs: [job(), job()] });
    assert.ok('inserted' in inserted);
    const [kept, taken] = await driver.jobClaim({
      queues: ['default'],
      limit: 2,
      leaseMs: 60_000,
      poolId: 'w',
    });
    assert.ok(kept && taken);
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    t.after(() => other.end());
    await other.query('BEGIN');
    // A heartbeat of one, a rescue-like takeover of the other, both uncommitted for now.
    await other.query(
      `UPDATE "${schema}".jobs SET lease_expires_at = lease_expires_at + interval '1 minute' WHERE id = $1`,
      [kept.id],
    );
    await other.query(`UPDATE "${schema}".jobs SET lease_token = lease_token + 1 WHERE id = $1`, [taken.id]);
    const finalizing = driver.jobFinalizeMany({
      items: [kept, taken].map((j) => ({
        id: j.id,
        leaseToken: j.leaseToken,
        outcome: 'completed' as const,
        resultJson: '1',
      })),
    });
    // Commit only once the finalize waits on the other transaction's row locks.
    const watcher = new pg.Client({ connectionString: url });
    await watcher.connect();
    t.after(() => watcher.end());
    for (let waited = 0; ; waited += 20) {
      const { rows } = await watcher.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%finalized AS%'",
      );
      if (rows[0].n > 0) break;
      assert.ok(waited < 10_000, 'the finalize never waited on the locked rows');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await other.query('COMMIT');
    const results = await finalizing;
    assert.deepEqual(
      results.map((r) => [r.id, r.applied]),
      [
        [kept.id, true],
        [taken.id, false],
      ],
    );
    const { rows } = await other.query(
      `SELECT id::text, state, result::text FROM "${schema}".jobs WHERE id = ANY($1::bigint[]) ORDER BY id`,
      [[kept.id, taken.id]],
    );
    assert.deepEqual(rows, [
      { id: kept.id, state: 'completed', result: '1' },
      { id: taken.id, state: 'running', result: null },
    ]);
  });
});
