/**
 * PostgreSQL: a plain unique-key insert that conflicts with a holder which then finishes (or is
 * deleted) before the insert reads it back. The window between the two statements is opened
 * deterministically: the insert runs in the caller's transaction on a connection whose `query`
 * finishes the holder, from another connection, just before the read-back runs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { jobParams } from '../src/driver/conformance/harness.js';
import { openTestDriver } from './support/postgres.js';

/** A caller connection that runs `before` once, just before the first statement matching `marker`. */
function interceptingClient(client: pg.PoolClient, marker: RegExp, before: () => Promise<void>) {
  let done = false;
  return {
    async query(config: pg.QueryConfig | string, values?: unknown[]) {
      const text = typeof config === 'string' ? config : config.text;
      if (!done && marker.test(text)) {
        done = true;
        await before();
      }
      return typeof config === 'string' ? client.query(config, values) : client.query(config);
    },
  };
}

// The read-back of the active holders after a skipped row (jobs-insert.ts `holdersSql`).
const HOLDERS = /unique_key = ANY\(\$1::text\[\]\)/;

describe('postgres unique key: the holder finishes between the conflict and the read-back', () => {
  for (const [what, finish] of [
    [
      'completes',
      (s: string) => `UPDATE ${s}.jobs SET state = 'completed', finished_at = now() WHERE unique_key = 'k'`,
    ],
    ['is deleted', (s: string) => `DELETE FROM ${s}.jobs WHERE unique_key = 'k'`],
  ] as const) {
    it(`holder ${what}: the insert makes the new job instead of reporting a job that no longer holds the key`, async (t) => {
      const { driver, url, schema, cleanup } = await openTestDriver();
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      t.after(async () => {
        await pool.end();
        await cleanup();
      });
      const first = await driver.jobInsertMany({ jobs: [jobParams({ uniqueKey: 'k' })] });
      assert.ok('inserted' in first);
      const holder = first.inserted[0]!.job;

      const caller = await pool.connect();
      try {
        const executor = interceptingClient(caller, HOLDERS, async () => {
          await pool.query(finish(`"${schema}"`));
        });
        await caller.query('BEGIN');
        const result = await driver.jobInsertMany({ jobs: [jobParams({ uniqueKey: 'k' })], executor });
        await caller.query('COMMIT');
        assert.ok('inserted' in result);
        const [outcome] = result.inserted;
        assert.equal(outcome!.duplicate, false, 'the key was free when the insert looked again');
        assert.notEqual(outcome!.job.id, holder.id);
        const stored = await driver.jobGet({ id: outcome!.job.id });
        assert.deepEqual([stored?.state, stored?.uniqueKey], ['pending', 'k']);
      } finally {
        caller.release();
      }
    });
  }
});
