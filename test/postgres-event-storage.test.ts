/**
 * How PostgreSQL stores the event log's rows (schema 14): a claim's row of 100 `job:started`
 * entries (about 10 KB of JSON) is compressed with lz4 where the server has it and stays in the
 * table, instead of being compressed with pglz and moved out of line into TOAST chunks — work
 * every claim and finalize did on the hot path. A schema migrated by the driver itself (not a
 * test-template copy), as an application's would be.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completedEntry } from '../src/driver/completed-entry.js';
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

test('a finalize stores its completions as one column batch, masked where the fence refused an item', async (t) => {
  const { driver, schema, cleanup } = await openTestDriver({ schema: uniqueSchemaName() });
  t.after(cleanup);
  await driver.jobInsertMany({ jobs: Array.from({ length: 8 }, () => jobParams()) });
  const leases = await driver.jobClaim({
    queues: ['default'],
    limit: 8,
    leaseMs: 30_000,
    poolId: 'p',
    log: true,
  });
  const item = (lease: (typeof leases)[number], i: number) => {
    const entry = completedEntry(lease, 'p', i, lease.startedAt, lease.startedAt + 3, 3, null);
    return { ...lease, outcome: 'completed' as const, resultJson: null, events: [entry!] };
  };
  // Four applied: stored as sent, one column batch of job:completed.
  await driver.jobFinalizeMany({ items: leases.slice(0, 4).map(item) });
  // Four sent, the second under a stale token: the same batch, masked at position 1.
  const rest = leases.slice(4).map(item);
  rest[1] = { ...rest[1]!, leaseToken: rest[1]!.leaseToken - 1 };
  await driver.jobFinalizeMany({ items: rest });

  const admin = await getAdminPool();
  const { rows } = await admin.query<{ entries: string }>(
    `SELECT entries FROM "${schema}".events
     WHERE entries LIKE '[[8,2,%' OR entries LIKE '[[10,2,%' OR entries LIKE '[[9,%' ORDER BY id`,
  );
  assert.equal(rows.length, 2);
  // Code 10: the batch's consecutive job ids are stored as a run (runs-column.ts).
  assert.match(rows[0]!.entries, /^\[\[10,2,4,\{"R":\[/);
  assert.match(rows[1]!.entries, /^\[\[9,\[1\],\[10,2,4,\{"R":\[/);
  const { events } = await driver.eventRead({ after: null, limit: 100 });
  assert.deepEqual(
    events.filter((e) => e.type === 'job:completed').map((e) => (e.data as { jobId: string }).jobId),
    [...leases.slice(0, 4), leases[4], leases[6], leases[7]].map((l) => l!.id),
  );
});
