/**
 * The flow claim's lock with many keys and no statistics on `flow_keys` (a table created or
 * filled since the last ANALYZE, as when tenants arrive between autovacuum runs). The lock takes
 * up to a budget of ready keys in fairness order, and its index `flow_keys_ready` is in that
 * order, so it can stop at the budget. Planned with sorts allowed and the planner's guess of a
 * tiny table, it read and tested every active key, then sorted them: 1,000 keys made each claim's
 * lock take 17.7 ms instead of 1.0. Here the claim function runs once on this test's own
 * connection and the index entries it read are taken from `pg_stat_user_indexes`. Nothing here
 * measures time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { insertJobs, T0 } from '../src/driver/conformance/harness.js';
import { FLOW_MIN_KEYS, FLOW_QUANTUM } from '../src/driver/driver.js';
import { flowClaimFunction } from '../src/drivers/postgres/flow-claim.js';
import { openTestDriverWithClient } from './support/postgres.js';

const KEYS = 1_000;
const LIMIT = 500;

describe('postgres flow claim with many keys and no statistics', () => {
  let opened: Awaited<ReturnType<typeof openTestDriverWithClient>>;
  let client: pg.Client;
  let schema: string;

  before(async () => {
    opened = await openTestDriverWithClient({ poolSize: 2 });
    ({ schema, client } = opened);
    await opened.driver.flowRuleSet({
      rules: [{ queue: 'default', key: 'tenant:*', concurrency: 1000, rate: null }],
    });
    // Two waiting jobs per key, enqueued as the client does (which makes each key's row).
    await insertJobs(
      opened.driver,
      Array.from({ length: 2 * KEYS }, (_, i) => ({ concurrencyKey: `tenant:${i % KEYS}` })),
    );
    const { rows } = await client.query(
      `SELECT count(*)::int AS keys, (SELECT count(*) FROM pg_stats WHERE schemaname = $1 AND tablename = 'flow_keys')::int AS stats
       FROM "${schema}".flow_keys WHERE active`,
      [schema],
    );
    assert.deepEqual(rows[0], { keys: KEYS, stats: 0 }, 'every key active, flow_keys never analyzed');
  });

  after(async () => {
    await opened?.cleanup();
  });

  /** Index entries read from flow_keys_ready so far, as this connection's flushed statistics say. */
  async function entriesRead(): Promise<number> {
    await client.query('SELECT pg_stat_force_next_flush()');
    await client.query('SELECT 1'); // the flush happens when the backend goes idle after the call above
    const { rows } = await client.query(
      `SELECT idx_tup_read::int AS n FROM pg_stat_user_indexes WHERE schemaname = $1 AND indexrelname = 'flow_keys_ready'`,
      [schema],
    );
    return (rows[0] as { n: number }).n;
  }

  it('locks its budget of keys after reading about as many index entries, not every key', async () => {
    const fn = `"${schema}".${flowClaimFunction(`"${schema}"`).name}`;
    const before = await entriesRead();
    const { rows } = await client.query(`SELECT * FROM ${fn}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, [
      [],
      ['default'],
      LIMIT,
      null,
      T0 + 1_000, // the jobs were enqueued at the harness's clock, T0
      'pool-1',
      60_000,
      false,
      [],
      [],
      false,
    ]);
    const read = (await entriesRead()) - before;
    const started = rows.filter((row: { job: string | null }) => row.job !== null);
    const budget = Math.min(LIMIT, Math.max(FLOW_MIN_KEYS, Math.ceil(LIMIT / FLOW_QUANTUM)));
    assert.ok(started.length > 0 && started.length <= LIMIT, `jobs started: ${started.length}`);
    const keys = new Set(started.map((row: { ord: string }) => row.ord));
    assert.equal(keys.size, budget, 'one round takes its budget of keys');
    assert.ok(
      read <= 2 * budget,
      `index entries of flow_keys_ready read: ${read} for a budget of ${budget} keys`,
    );
  });
});
