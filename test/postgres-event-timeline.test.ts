/**
 * How a job's timeline finds its rows in the PostgreSQL event log (schema 15). Rows of one job
 * (`job_lo = job_hi`: a one-by-one enqueue, a claim or finalize of one job) are indexed by a
 * B-tree on `job_lo`; only rows spanning several jobs go in the GiST index of their range, whose
 * insert cost about 40 µs of server time per row. On an analyzed log of 42,000 rows the timeline
 * statement reads each kind through its own index — never the whole log — and returns exactly the
 * rows that hold the job. Nothing here measures time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { jobTimelineStatement } from '../src/drivers/postgres/events.js';
import { postgresDriver } from '../src/drivers/postgres/index.js';
import { explainPrepared, nodesOf } from './support/plans.js';
import { createIsolatedSchema } from './support/postgres.js';

const SINGLE = 40_000;
const SPANS = 2_000;
const SPAN = 20;

describe('postgres job timeline on an analyzed event log', () => {
  let client: pg.Client;
  let schema: string;
  let drop: () => Promise<void>;

  before(async () => {
    const isolated = await createIsolatedSchema();
    schema = isolated.schema;
    drop = isolated.drop;
    const driver = postgresDriver({ connectionString: isolated.url, schema, poolSize: 1 });
    await driver.migrate();
    await driver.close();
    client = new pg.Client({ connectionString: isolated.url });
    await client.connect();
    const s = `"${schema}"`;
    // A row per job (single enqueues), then batch rows of SPAN jobs each over the same ids, and
    // one row spanning every job (a finalize mixing a long-retried job with new ones).
    await client.query(
      `INSERT INTO ${s}.events (job_lo, job_hi, entries) SELECT g, g, '[]' FROM generate_series(1, ${SINGLE}) g`,
    );
    await client.query(
      `INSERT INTO ${s}.events (job_lo, job_hi, entries)
       SELECT k * ${SPAN} + 1, k * ${SPAN} + ${SPAN}, '[]' FROM generate_series(0, ${SPANS - 1}) k`,
    );
    await client.query(`INSERT INTO ${s}.events (job_lo, job_hi, entries) VALUES (1, ${SINGLE}, '[]')`);
    await client.query(`INSERT INTO ${s}.events (job_lo, job_hi, entries) VALUES (NULL, NULL, '[]')`);
    await client.query(`VACUUM ANALYZE ${s}.events`);
  });

  after(async () => {
    await client?.end();
    await drop?.();
  });

  for (const mode of ['custom', 'generic'] as const) {
    it(`reads single-job rows through the B-tree and spanning rows through GiST (${mode} plan)`, async () => {
      const plan = await explainPrepared(client, jobTimelineStatement(`"${schema}"`, '20005'), mode);
      const nodes = nodesOf(plan);
      // Index scans name their relation; bitmap index scans only their index.
      const onEvents = nodes.filter((n) => n['Relation Name'] === 'events' || n['Index Name']);
      const access = new Set(onEvents.map((n) => `${n['Node Type']} ${n['Index Name'] ?? ''}`.trim()));
      assert.ok(
        [...access].some((a) => a.endsWith(' events_job')),
        `single-job rows through events_job: ${[...access].join(', ')}`,
      );
      assert.ok(
        [...access].some((a) => a.endsWith(' events_jobs')),
        `spanning rows through events_jobs: ${[...access].join(', ')}`,
      );
      assert.ok(!onEvents.some((n) => n['Node Type'] === 'Seq Scan'), 'no scan of the whole log');
      const visited = nodesOf(plan).reduce(
        (sum, n) =>
          sum +
          (n['Actual Rows'] +
            (n['Rows Removed by Filter'] ?? 0) +
            (n['Rows Removed by Index Recheck'] ?? 0)) *
            n['Actual Loops'],
        0,
      );
      assert.ok(visited < 100, `rows visited: ${visited}`);
    });
  }

  it('returns every row that holds the job, oldest first, and no other', async () => {
    const { text, values } = jobTimelineStatement(`"${schema}"`, '20005');
    const { rows } = await client.query<{ id: string }>(text, values);
    const { rows: expected } = await client.query<{ id: string }>(
      `SELECT id::text FROM "${schema}".events WHERE 20005 BETWEEN job_lo AND job_hi ORDER BY id`,
    );
    assert.equal(expected.length, 3, 'its own row, its batch row and the row spanning every job');
    assert.deepEqual(
      rows.map((r) => String(r.id)),
      expected.map((r) => r.id),
    );
  });
});
