/**
 * SQLite's timeline index in batches (schema 14): rows carry their job-id range, and every
 * EVENT_INDEX_BATCH-th row's write enters the rows since the mark into the R*Tree. A job's
 * timeline must still find every row naming it — those indexed, those after the mark, a row whose
 * range spans many jobs, and rows older than the schema (indexed one by one) — and pruning must
 * keep the two parts consistent.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { jobParams } from '../src/driver/conformance/harness.js';
import type { Driver } from '../src/driver/driver.js';
import { EVENT_INDEX_BATCH } from '../src/drivers/sqlite/events.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';

describe('sqlite event timeline index in batches', () => {
  let dir: string;
  let driver: Driver;
  let db: Database.Database;
  const ids: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jobwire-event-index-'));
    driver = sqliteDriver({ path: join(dir, 'log.db') });
    await driver.migrate();
    db = new Database(join(dir, 'log.db'));
    // One row per insert: 2.5 batches of rows, each naming one job.
    for (let i = 0; i < EVENT_INDEX_BATCH * 2 + EVENT_INDEX_BATCH / 2; i++) {
      const { inserted } = (await driver.jobInsertMany({ jobs: [jobParams()], log: true })) as {
        inserted: { job: { id: string } }[];
      };
      ids.push(inserted[0]!.job.id);
    }
  });

  after(async () => {
    db?.close();
    await driver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const mark = () =>
    (db.prepare('SELECT indexed_through AS n FROM jobwire_event_state').get() as { n: number }).n;
  const indexed = () => (db.prepare('SELECT count(*) AS n FROM jobwire_event_jobs').get() as { n: number }).n;
  const newest = () => (db.prepare('SELECT max(id) AS n FROM jobwire_events').get() as { n: number }).n;

  it('indexes whole batches only, in the writes of the batches’ last rows', () => {
    assert.equal(mark() % EVENT_INDEX_BATCH, 0);
    assert.ok(mark() > 0 && newest() - mark() < EVENT_INDEX_BATCH, `mark ${mark()}, newest ${newest()}`);
    assert.equal(indexed(), mark(), 'every row up to the mark names a job and is in the R*Tree');
  });

  it("finds every job's job:queued, indexed or after the mark", async () => {
    for (const id of ids) {
      const events = await driver.eventListForJob({ jobId: id, limit: 100 });
      assert.deepEqual(
        events.map((e) => e.type),
        ['job:queued'],
        `job ${id}`,
      );
    }
  });

  it('finds a row that spans many jobs, and a row written before schema 14', async () => {
    const first = ids[0]!;
    const last = ids[ids.length - 1]!;
    // A batch row naming the first and the last job, written as the finalize writes one.
    await driver.eventAppend({
      entries: [
        { type: 'job:cancelled', data: { jobId: first, at: 1 } },
        { type: 'job:cancelled', data: { jobId: last, at: 1 } },
      ],
    });
    // A row as schema 13 wrote it: no range of its own, an R*Tree entry straight away.
    const { id } = db
      .prepare('INSERT INTO jobwire_events (at, entries) VALUES (?, ?) RETURNING id')
      .get(2, JSON.stringify([{ type: 'job:cancelled', data: { jobId: last, at: 2 } }])) as { id: number };
    db.prepare('INSERT INTO jobwire_event_jobs (id, lo, hi) VALUES (?, ?, ?)').run(
      id,
      Number(last),
      Number(last),
    );
    for (const [job, expected] of [
      [first, ['job:queued', 'job:cancelled']],
      [last, ['job:queued', 'job:cancelled', 'job:cancelled']],
    ] as const) {
      const events = await driver.eventListForJob({ jobId: job, limit: 100 });
      assert.deepEqual(
        events.map((e) => e.type),
        expected,
        `job ${job}`,
      );
    }
    // Writing on past the next multiple indexes what was left, the old-style row excepted.
    while (newest() % EVENT_INDEX_BATCH !== 0) await driver.jobInsertMany({ jobs: [jobParams()], log: true });
    assert.equal(mark(), newest());
    const events = await driver.eventListForJob({ jobId: last, limit: 100 });
    assert.equal(events.length, 3, 'each row once: neither lost nor counted twice');
  });

  it('pruning removes rows on both sides of the mark, and what is left is still found', async () => {
    await driver.jobInsertMany({ jobs: [jobParams()], log: true });
    const through = mark() + 1;
    while ((await driver.eventPrune({ before: Date.now() + 86_400_000, limit: 1000, maxRows: 0 })) > 0) {
      // Prune everything up to the newest row, in calls of at most `limit` rows.
    }
    // The newest row stays, emptied: it keeps the next id above it (schema 18).
    assert.deepEqual(db.prepare('SELECT id, entries, job_lo FROM jobwire_events').all(), [
      { id: newest(), entries: '[]', job_lo: null },
    ]);
    assert.equal(indexed(), 0, 'no R*Tree entry outlives its row');
    assert.ok(mark() < through + EVENT_INDEX_BATCH);
    const { inserted } = (await driver.jobInsertMany({ jobs: [jobParams()], log: true })) as {
      inserted: { job: { id: string } }[];
    };
    const events = await driver.eventListForJob({ jobId: inserted[0]!.job.id, limit: 100 });
    assert.deepEqual(
      events.map((e) => e.type),
      ['job:queued'],
    );
  });
});
