/**
 * How PostgreSQL stores the event log's rows (schema 14): a claim's row of 100 `job:started`
 * entries (about 10 KB of JSON) is compressed with lz4 where the server has it and stays in the
 * table, instead of being compressed with pglz and moved out of line into TOAST chunks — work
 * every claim and finalize did on the hot path. A schema migrated by the driver itself (not a
 * test-template copy), as an application's would be.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobParams } from '../src/driver/conformance/harness.js';
import { getAdminPool, openTestDriver, uniqueSchemaName } from './support/postgres.js';

/** Whether this server can compress with lz4 (PostgreSQL 14+ built with it). */
async function serverHasLz4(): Promise<boolean> {
  const admin = await getAdminPool();
  const client = await admin.connect();
  try {
    await client.query('BEGIN');
    await client.query('CREATE TEMP TABLE jobwire_lz4_probe (t text COMPRESSION lz4) ON COMMIT DROP');
    return true;
  } catch {
    return false;
  } finally {
    await client.query('ROLLBACK').catch(() => {});
    client.release();
  }
}

test('a claim of 100 jobs stores its events row compressed (lz4 where available) and inline', async (t) => {
  const { driver, schema, cleanup } = await openTestDriver({ schema: uniqueSchemaName() });
  t.after(cleanup);
  // A correlation id per job, as applications set them: the row holds 100 distinct ones.
  const jobs = Array.from({ length: 100 }, (_, i) =>
    jobParams({ correlationId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }),
  );
  await driver.jobInsertMany({ jobs });
  const claimed = await driver.jobClaim({
    queues: ['default'],
    limit: 100,
    leaseMs: 30_000,
    poolId: 'storage-test-pool',
    log: true,
  });
  assert.equal(claimed.length, 100);

  const admin = await getAdminPool();
  const s = `"${schema}"`;
  const { rows } = await admin.query<{ raw: number; stored: number; method: string | null }>(
    `SELECT octet_length(entries) AS raw, pg_column_size(entries) AS stored,
            pg_column_compression(entries) AS method
     FROM ${s}.events WHERE job_lo IS NOT NULL AND entries LIKE '[[7,%' ORDER BY id DESC LIMIT 1`,
  );
  const row = rows[0];
  assert.ok(row, 'the claim wrote an events row with its batch of job:started');
  assert.ok(row.raw > 8_160, `the row is large enough to be compressed (${row.raw} bytes)`);
  assert.equal(row.method, (await serverHasLz4()) ? 'lz4' : 'pglz');
  assert.ok(row.stored < row.raw, `stored compressed: ${row.stored} of ${row.raw} bytes`);
  const { rows: toast } = await admin.query<{ toast: string }>(
    `SELECT reltoastrelid::regclass::text AS toast FROM pg_class WHERE oid = '${s}.events'::regclass`,
  );
  const { rows: chunks } = await admin.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${toast[0]!.toast}`,
  );
  assert.equal(chunks[0]!.n, 0, 'no events row was moved out of line into TOAST chunks');
});
