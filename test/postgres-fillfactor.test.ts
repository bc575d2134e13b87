/**
 * Where a job's claim and finish put their row versions on PostgreSQL (schema 16: `jobs` has
 * fillfactor 50). Neither update can be HOT (both change `state`, which the partial indexes name),
 * so each writes a new version of the row; with room kept on the page, that version stays on the
 * page the job was inserted on instead of another page found through the free space map or a new
 * one added to the table. Nothing here measures time: it reads the rows' physical addresses.
 *
 * Only the claim is checked: the finish's version finds room on the page once pruning has removed
 * the versions the claims left dead, which waits for every older snapshot in the database (other
 * test files run alongside on the same server). The drain bench shows both (the migration's note).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { ClaimedJob } from '../src/driver/driver.js';
import { postgresDriver } from '../src/drivers/postgres/index.js';
import { createJobwire, defineTask } from '../src/index.js';
import { createIsolatedSchema } from './support/postgres.js';

const JOBS = 2_000;

describe("postgres jobs pages keep room for a claimed job's new version", () => {
  let client: pg.Client;
  let drop: () => Promise<void>;
  let s: string;
  const pageOf = async (): Promise<Map<string, number>> => {
    const { rows } = await client.query<{ id: string; page: number }>(
      `SELECT id::text AS id, (ctid::text::point)[0]::int AS page FROM ${s}.jobs`,
    );
    return new Map(rows.map((r) => [r.id, r.page]));
  };
  const stayed = (from: Map<string, number>, to: Map<string, number>) =>
    [...from].filter(([id, page]) => to.get(id) === page).length;
  let enqueued: Map<string, number>;
  let claimed: Map<string, number>;

  before(async () => {
    const isolated = await createIsolatedSchema();
    drop = isolated.drop;
    s = `"${isolated.schema}"`;
    client = new pg.Client({ connectionString: isolated.url });
    await client.connect();
    const driver = postgresDriver({ connectionString: isolated.url, schema: isolated.schema, poolSize: 2 });
    const task = defineTask({ name: 'noop', handler: async () => {} });
    const jobwire = await createJobwire({ driver, tasks: [task] });
    try {
      await jobwire.enqueueMany(Array.from({ length: JOBS }, (_, i) => ({ task, payload: { i } })));
      enqueued = await pageOf();
      const jobs: ClaimedJob[] = [];
      while (jobs.length < JOBS) {
        const batch = await driver.jobClaim({
          queues: ['default'],
          limit: 500,
          leaseMs: 60_000,
          poolId: 'fillfactor-test',
          log: true,
        });
        assert.ok(batch.length > 0, `claimed ${jobs.length} of ${JOBS}`);
        jobs.push(...batch);
      }
      claimed = await pageOf();
    } finally {
      await jobwire.close();
    }
  });

  after(async () => {
    await client?.end();
    await drop?.();
  });

  it('sets fillfactor 50 on jobs', async () => {
    const { rows } = await client.query<{ options: string[] | null }>(
      `SELECT reloptions AS options FROM pg_class WHERE oid = '${s}.jobs'::regclass`,
    );
    assert.ok(rows[0]?.options?.includes('fillfactor=50'), `reloptions: ${rows[0]?.options}`);
  });

  it("keeps a claimed job's new version on the page it was enqueued on", () => {
    // With the default fillfactor an enqueue fills its page: all but the last page's jobs move (24 of
    // 2,000 stayed); here 87–96 % stay (a claimed row is a little wider: its lease and start time).
    assert.ok(stayed(enqueued, claimed) >= JOBS * 0.75, `${stayed(enqueued, claimed)} of ${JOBS} stayed`);
  });
});
