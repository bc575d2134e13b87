/**
 * Conformance: `jobList` reads at most JOB_LIST_SCAN_CAP jobs per call (see JobPage). A filter
 * whose matches are old comes back short, even empty, with a cursor right below the last job
 * read, and following the cursors yields every match once, newest first, ending with null.
 */
import assert from 'node:assert/strict';
import type { JobRecord } from '../../core/types.js';
import {
  type Driver,
  JOB_LIST_SCAN_CAP,
  type JobFilter,
  type JobInsertParams,
  type JobPage,
} from '../driver.js';
import { claim, type DefineTest, insertJobs } from './harness.js';

/** Jobs older than the newest JOB_LIST_SCAN_CAP: every other one is in queue `rare`. */
const OLD = 120;
/** Jobs between the old ones and the newest JOB_LIST_SCAN_CAP, all in `common`. */
const MIDDLE = 100;
/** Positions (from the newest, 0-based) of the `rare` jobs among the newest JOB_LIST_SCAN_CAP. */
// The last is the last job a first page reads: a match there is on the page and is the cursor.
const RARE_AMONG_NEWEST = [9, 500, 4_321, 9_000, JOB_LIST_SCAN_CAP - 1];
/** Rows per insert, so no driver meets one huge statement. */
const INSERT_CHUNK = 2_000;

/**
 * Insert OLD + MIDDLE + JOB_LIST_SCAN_CAP jobs through the driver and return them newest first:
 * the only `rare` jobs are half of the OLD oldest and a few at RARE_AMONG_NEWEST.
 */
async function seed(driver: Driver): Promise<JobRecord[]> {
  const total = OLD + MIDDLE + JOB_LIST_SCAN_CAP;
  const rareNewest = new Set(RARE_AMONG_NEWEST.map((fromNewest) => total - 1 - fromNewest));
  const specs: Partial<JobInsertParams>[] = Array.from({ length: total }, (_, i) => ({
    task: i < OLD ? 'old' : 'new',
    queue: (i < OLD && i % 2 === 0) || rareNewest.has(i) ? 'rare' : 'common',
    payloadJson: `{"i":${i}}`,
  }));
  const inserted: JobRecord[] = [];
  for (let start = 0; start < total; start += INSERT_CHUNK) {
    inserted.push(...(await insertJobs(driver, specs.slice(start, start + INSERT_CHUNK))));
  }
  return inserted.reverse();
}

/** Every page `jobList` returns for `filter`, following `nextCursor` until it is null. */
async function pages(driver: Driver, filter: JobFilter, limit: number): Promise<JobPage[]> {
  const all: JobPage[] = [];
  let before: string | null = null;
  // Each page reads at least one job, so there are at most as many pages as jobs.
  for (let n = 0; n <= OLD + MIDDLE + JOB_LIST_SCAN_CAP; n++) {
    const page = await driver.jobList({ ...filter, limit, before });
    assert.ok(page.jobs.length <= limit, `a page of ${page.jobs.length} jobs for limit ${limit}`);
    all.push(page);
    if (page.nextCursor === null) return all;
    before = page.nextCursor;
  }
  throw new Error('jobList never returned a null cursor');
}

const ids = (jobs: readonly JobRecord[]) => jobs.map((job) => job.id);

export function jobListBoundedTests(test: DefineTest): void {
  test('a list whose matches are old comes back short with a cursor, and paging on finds every match once', async (driver) => {
    const newestFirst = await seed(driver);
    const rare = ids(newestFirst.filter((job) => job.queue === 'rare'));
    const lastRead = newestFirst[JOB_LIST_SCAN_CAP - 1]!.id;
    for (const filter of [{ queues: ['rare'] }, { states: ['pending' as const], queues: ['rare'] }]) {
      for (const limit of [1, 25, 100]) {
        const walk = await pages(driver, filter, limit);
        const label = `${JSON.stringify(filter)} limit ${limit}`;
        const [first] = walk;
        if (limit > RARE_AMONG_NEWEST.length) {
          // The newest JOB_LIST_SCAN_CAP jobs hold too few matches to fill the page: the call
          // stops there and returns them, with the last job it read as the cursor.
          assert.deepEqual(ids(first!.jobs), rare.slice(0, RARE_AMONG_NEWEST.length), label);
          assert.equal(first!.nextCursor, lastRead, label);
        } else {
          assert.deepEqual(ids(first!.jobs), rare.slice(0, limit), label);
        }
        assert.deepEqual(ids(walk.flatMap((page) => page.jobs)), rare, label);
        assert.equal(walk.at(-1)!.nextCursor, null, label);
      }
    }
  });

  test('a list that matches nothing reads JOB_LIST_SCAN_CAP jobs a call: empty pages with cursors, then null', async (driver) => {
    const newestFirst = await seed(driver);
    const first = await driver.jobList({ states: ['cancelled'], limit: 50 });
    assert.deepEqual(first, { jobs: [], nextCursor: newestFirst[JOB_LIST_SCAN_CAP - 1]!.id });
    // Fewer than JOB_LIST_SCAN_CAP jobs remain below it: the table's end, so nothing older matches.
    assert.deepEqual(await driver.jobList({ states: ['cancelled'], limit: 50, before: first.nextCursor }), {
      jobs: [],
      nextCursor: null,
    });
    assert.deepEqual(
      await driver.jobList({ tasks: ['no-such-task'], limit: 50, before: newestFirst[5]!.id }),
      {
        jobs: [],
        nextCursor: newestFirst[5 + JOB_LIST_SCAN_CAP]!.id,
      },
    );
  });

  test('a list whose page fills within JOB_LIST_SCAN_CAP jobs pages as before, and without filters every page is full', async (driver) => {
    const newestFirst = await seed(driver);
    const common = ids(newestFirst.filter((job) => job.queue === 'common'));
    const page = await driver.jobList({ queues: ['common'], limit: 40 });
    assert.deepEqual(ids(page.jobs), common.slice(0, 40));
    assert.equal(page.nextCursor, common[39]);

    const walk = await pages(driver, {}, 1_000);
    assert.deepEqual(ids(walk.flatMap((p) => p.jobs)), ids(newestFirst));
    for (const p of walk.slice(0, -1)) assert.equal(p.jobs.length, 1_000);
    assert.equal(walk.at(-1)!.jobs.length, newestFirst.length % 1_000);
  });

  test('running jobs alone are listed whole, however old, with no empty pages: the cap does not apply', async (driver) => {
    const newestFirst = await seed(driver);
    // Claims take the oldest due jobs first: the running ones sit under every newer job.
    const claimed = await claim(driver, { queues: ['rare', 'common'], limit: 3 });
    assert.equal(claimed.length, 3);
    const running = claimed.map((job) => job.id).sort((a, b) => Number(b) - Number(a));
    assert.ok(running.every((id) => Number(id) < Number(newestFirst[JOB_LIST_SCAN_CAP]!.id)));
    const page = await driver.jobList({ states: ['running'], limit: 50 });
    assert.deepEqual(ids(page.jobs), running);
    assert.equal(page.nextCursor, null);
    const two = await driver.jobList({ states: ['running'], limit: 2 });
    assert.deepEqual(ids(two.jobs), running.slice(0, 2));
    assert.equal(two.nextCursor, running[1]);
    assert.deepEqual(
      ids((await driver.jobList({ states: ['running'], limit: 2, before: two.nextCursor })).jobs),
      [running[2]],
    );
    const inRare = await driver.jobList({ states: ['running'], queues: ['rare'], limit: 50 });
    assert.deepEqual(
      ids(inRare.jobs),
      claimed
        .filter((job) => job.queue === 'rare')
        .map((job) => job.id)
        .sort((a, b) => Number(b) - Number(a)),
    );
    assert.equal(inRare.nextCursor, null);
  });
}
