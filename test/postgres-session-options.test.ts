/**
 * The driver's connections never JIT-compile its statements. They run generic plans (see
 * SESSION_OPTIONS), whose estimated cost grows with the table: with a million jobs waiting the
 * claim's passes `jit_above_cost`, and a JIT plan compiles again on every execution — 30–90 ms
 * per claim of a few ms (bench/results/2026-12-01-large-tables.md). Here `jit_above_cost` is
 * lowered to 0 so that any plan would be compiled, and EXPLAIN ANALYZE of the claim the driver
 * sends says whether it was; a connection without the options is the control. Nothing here
 * measures time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { claimStatement } from '../src/drivers/postgres/claim-sql.js';
import { postgresDriver, SESSION_OPTIONS } from '../src/drivers/postgres/index.js';
import { createIsolatedSchema } from './support/postgres.js';

describe('postgres driver sessions', () => {
  let url: string;
  let schema: string;
  let drop: () => Promise<void>;

  before(async () => {
    const isolated = await createIsolatedSchema();
    ({ url, schema, drop } = isolated);
    const driver = postgresDriver({ connectionString: url, schema, poolSize: 1 });
    await driver.migrate();
    await driver.close();
  });

  after(async () => {
    await drop?.();
  });

  /** Whether the claim statement, prepared and executed on a connection with `options`, was JIT-compiled. */
  async function claimCompiled(options: string | undefined): Promise<boolean> {
    const client = new pg.Client({ connectionString: url, ...(options ? { options } : {}) });
    await client.connect();
    try {
      await client.query('SET jit_above_cost = 0');
      const { text, values } = claimStatement(`"${schema}"`, {
        queues: ['default'],
        limit: 10,
        leaseMs: 30_000,
        poolId: 'p',
        log: true,
      });
      // Twice by name, as the driver runs it: the second execution uses the cached generic plan.
      await client.query({ name: 'claim', text: `EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, values });
      const { rows } = await client.query({
        name: 'claim',
        text: `EXPLAIN (ANALYZE, FORMAT JSON) ${text}`,
        values,
      });
      return (rows[0]['QUERY PLAN'] as [{ JIT?: unknown }])[0].JIT !== undefined;
    } finally {
      await client.end();
    }
  }

  it('a claim is never JIT-compiled on a connection with the driver’s options', async (t) => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const { rows } = await admin.query('SELECT pg_jit_available() AS available');
    await admin.end();
    if (!rows[0].available) {
      t.skip('this server has no JIT');
      return;
    }
    assert.equal(await claimCompiled(undefined), true, 'control: without the options the claim is compiled');
    assert.equal(await claimCompiled(SESSION_OPTIONS), false, 'with the driver’s options it is not');
  });
});
