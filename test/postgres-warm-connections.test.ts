/**
 * `warmConnections` (on by default): a new connection first has its server process allocate and
 * free a 1 MB block, so glibc stops trimming freed heap after every statement. Without it, each
 * claim of a few hundred jobs with the log on gave its memory back and took page faults to get it
 * again on the next claim (drivers/postgres/warm-connection.ts). Counted here from the server
 * process's own minor-fault counter (/proc/<pid>/stat), so the test runs where the server does.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { jobParams } from '../src/driver/conformance/harness.js';
import { postgresDriver } from '../src/drivers/postgres/index.js';
import { warmConnection } from '../src/drivers/postgres/warm-connection.js';
import { createMigratedSchema, getAdminPool } from './support/postgres.js';

const CLAIM = 500;
const MEASURED_CLAIMS = 4;
/** Claims before counting: the first plans the statement and touches new memory of all sorts. */
const WARMUP_CLAIMS = 2;

/** The minor page faults a process has taken (field 10 of /proc/<pid>/stat). */
function minorFaults(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
}

/**
 * Page faults per claim of CLAIM jobs with the log on, on one connection of a driver opened with
 * `warm`, after WARMUP_CLAIMS; `undefined` when the server process is not on this machine. The
 * jobs are enqueued through another driver, as in a worker process that only claims: a large
 * insert on the measured connection would raise glibc's threshold by itself.
 */
async function faultsPerClaim(warm: boolean): Promise<number | undefined> {
  const isolated = await createMigratedSchema();
  const name = `jobwire-warm-test-${process.pid}-${warm}`;
  const url = new URL(isolated.url);
  url.searchParams.set('application_name', name);
  const driver = postgresDriver({
    connectionString: url.toString(),
    schema: isolated.schema,
    poolSize: 1,
    warmConnections: warm,
  });
  try {
    const jobs = Array.from({ length: CLAIM * (WARMUP_CLAIMS + MEASURED_CLAIMS) }, (_, i) =>
      jobParams({ correlationId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }),
    );
    const producer = postgresDriver({ connectionString: isolated.url, schema: isolated.schema, poolSize: 1 });
    try {
      for (let i = 0; i < jobs.length; i += 1000) {
        await producer.jobInsertMany({ jobs: jobs.slice(i, i + 1000) });
      }
    } finally {
      await producer.close();
    }
    const claim = async () => {
      const claimed = await driver.jobClaim({
        queues: ['default'],
        limit: CLAIM,
        leaseMs: 60_000,
        poolId: 'warm-test-pool',
        log: true,
      });
      assert.equal(claimed.length, CLAIM);
    };
    for (let i = 0; i < WARMUP_CLAIMS; i++) await claim();
    const admin = await getAdminPool();
    const { rows } = await admin.query<{ pid: number }>(
      // The pool's one connection, not the notifier's (it takes the same connection string).
      `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query NOT LIKE 'LISTEN%'`,
      [name],
    );
    assert.equal(rows.length, 1, 'the connection that claimed');
    const pid = rows[0]!.pid;
    if (!existsSync(`/proc/${pid}/stat`)) return undefined;
    const before = minorFaults(pid);
    for (let i = 0; i < MEASURED_CLAIMS; i++) await claim();
    return (minorFaults(pid) - before) / MEASURED_CLAIMS;
  } finally {
    await driver.close();
    await isolated.drop();
  }
}

test('a warmed connection claims with the log on without faulting its memory in again each time', async (t) => {
  const cold = await faultsPerClaim(false);
  const warm = await faultsPerClaim(true);
  if (cold === undefined || warm === undefined) {
    t.skip('the PostgreSQL server runs on another machine: its page faults cannot be read here');
    return;
  }
  // Measured here: about 140 per claim cold, 60 warm (what is left is the shared buffers and WAL
  // pages the claim touches for the first time, the same either way).
  assert.ok(
    warm < cold * 0.7,
    `a warmed connection took ${warm} page faults per claim of ${CLAIM}, a cold one ${cold}`,
  );
});

test('warmConnections must be a boolean', () => {
  assert.throws(
    () =>
      postgresDriver({
        connectionString: 'postgres://localhost/x',
        warmConnections: 'yes' as unknown as boolean,
      }),
    /warmConnections/,
  );
});

test('a warm-up statement that fails does not fail the connection it was run on', async () => {
  const client = { query: async () => Promise.reject(new Error('permission denied for function repeat')) };
  await warmConnection(client);
});
