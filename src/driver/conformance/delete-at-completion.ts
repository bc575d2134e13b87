/**
 * Conformance: completions that delete their job's row (`FinalizeItem.deleteAtCompletion`, the
 * retention option `completed: 'immediately'`). The write is fenced like any finalize; a job
 * others depend on or one with a dedup rule is completed in place instead; the events are stored
 * as for a kept completion; `queueStats` still counts the deleted ones, by the second.
 */
import assert from 'node:assert/strict';
import { InvalidOptionError } from '../../core/errors.js';
import type { EpochMs } from '../../core/types.js';
import type { Driver, FinalizeItem } from '../driver.js';
import { claim, type DefineTest, getJob, insertJob, insertJobs, storedError, T0 } from './harness.js';

type Claimed = Awaited<ReturnType<typeof claim>>[number];

const deleting = (lease: Claimed, resultJson: string | null = null): FinalizeItem => ({
  id: lease.id,
  leaseToken: lease.leaseToken,
  outcome: 'completed',
  resultJson,
  deleteAtCompletion: true,
});

/** Claim every due job of `queues` and return the leases by job id. */
async function claimAll(driver: Driver, now: EpochMs, queues = ['default']): Promise<Map<string, Claimed>> {
  const leases = await claim(driver, { limit: 100, now, queues });
  return new Map(leases.map((lease) => [lease.id, lease]));
}

const stats = (driver: Driver, now: EpochMs, windowMs = 60_000) =>
  driver.queueStats({ windowMs, exactUpTo: 1000, now });

export function deleteAtCompletionTests(test: DefineTest): void {
  test('a deleting completion removes the row, reports deleted and stores its events', async (driver) => {
    const [a, b] = await insertJobs(driver, [{}, {}]);
    const leases = await claimAll(driver, T0);
    const note = { events: [{ type: 'test:note', data: { n: 1 } }] };
    const results = await driver.jobFinalizeMany({
      items: [
        { ...deleting(leases.get(a!.id)!, '{"ok":1}'), ...note },
        { ...leases.get(b!.id)!, outcome: 'completed', resultJson: '{"ok":2}' },
      ],
      now: T0 + 10,
    });
    assert.deepEqual(results, [
      { id: a!.id, applied: true, at: T0 + 10, deleted: true },
      { id: b!.id, applied: true, at: T0 + 10 },
    ]);
    assert.equal(await driver.jobGet({ id: a!.id }), undefined);
    assert.equal((await getJob(driver, b!.id)).state, 'completed', 'an item without the flag keeps its row');
    const { events } = await driver.eventRead({ after: null, limit: 10 });
    assert.deepEqual(
      events.map((event) => [event.type, event.data]),
      [['test:note', { n: 1 }]],
    );
  });

  test('a deleting completion is fenced: a stale token deletes nothing', async (driver) => {
    const job = await insertJob(driver);
    const lease = (await claimAll(driver, T0)).get(job.id)!;
    const [result] = await driver.jobFinalizeMany({
      items: [{ ...deleting(lease), leaseToken: lease.leaseToken + 1 }],
      now: T0 + 10,
    });
    assert.deepEqual(result, { id: job.id, applied: false, at: T0 + 10 });
    assert.equal((await getJob(driver, job.id)).state, 'running');
    assert.deepEqual(
      (await stats(driver, T0 + 1000)).map((s) => s.completed),
      [0],
    );
  });

  test('a job with dependents or with a dedup rule is completed in place, not deleted', async (driver) => {
    const [parent, ruled] = await insertJobs(driver, [
      {},
      { dedup: { rule: 'throttle', key: 't', windowMs: 60_000 } },
    ]);
    const [child] = await insertJobs(driver, [
      { queue: 'later', dependsOn: [{ jobId: parent!.id, onFailure: 'cancel' }] },
    ]);
    const leases = await claimAll(driver, T0);
    const results = await driver.jobFinalizeMany({
      items: [deleting(leases.get(parent!.id)!, '{"for":"child"}'), deleting(leases.get(ruled!.id)!)],
      now: T0 + 10,
    });
    assert.deepEqual(
      results.map((r) => [r.applied, r.deleted]),
      [
        [true, undefined],
        [true, undefined],
      ],
    );
    const kept = await getJob(driver, parent!.id);
    assert.deepEqual([kept.state, kept.result], ['completed', { for: 'child' }]);
    assert.equal((await getJob(driver, ruled!.id)).state, 'completed');
    assert.equal((await getJob(driver, child!.id)).state, 'pending', 'the dependent was released');
  });

  test('a batch mixing deletions, kept completions, retries and stale items applies each as its own', async (driver) => {
    const jobs = await insertJobs(driver, [{}, {}, {}, {}]);
    const leases = await claimAll(driver, T0);
    const [a, b, c, d] = jobs.map((job) => leases.get(job.id)!);
    const results = await driver.jobFinalizeMany({
      items: [
        deleting(a!),
        { ...b!, outcome: 'retry', error: storedError(1, T0 + 5), delayMs: 100 },
        { ...deleting(c!), leaseToken: c!.leaseToken - 1 },
        { ...d!, outcome: 'completed', resultJson: '4' },
        deleting(a!), // twice in the batch: the first applies
      ],
      now: T0 + 5,
    });
    assert.deepEqual(results, [
      { id: a!.id, applied: true, at: T0 + 5, deleted: true },
      { id: b!.id, applied: true, runAt: T0 + 105, at: T0 + 5 },
      { id: c!.id, applied: false, at: T0 + 5 },
      { id: d!.id, applied: true, at: T0 + 5 },
      { id: a!.id, applied: false, at: T0 + 5 },
    ]);
    assert.equal(await driver.jobGet({ id: a!.id }), undefined);
    assert.equal((await getJob(driver, b!.id)).state, 'scheduled');
    assert.equal((await getJob(driver, c!.id)).state, 'running');
    assert.equal((await getJob(driver, d!.id)).result, 4);
  });

  test('queueStats counts deleted completions by the second, within its window', async (driver) => {
    // Three deleted in the second T0 + 10 s, two in T0 + 30 s (another queue: one), one kept.
    const finishAt = async (count: number, queue: string, at: EpochMs, del = true) => {
      await insertJobs(
        driver,
        Array.from({ length: count }, () => ({ queue })),
        at - 1,
      );
      const leases = [...(await claimAll(driver, at - 1, [queue])).values()];
      const results = await driver.jobFinalizeMany({
        items: leases.map((lease) =>
          del ? deleting(lease) : { ...lease, outcome: 'completed' as const, resultJson: null },
        ),
        now: at,
      });
      assert.ok(results.every((r) => r.applied));
    };
    await finishAt(3, 'q', T0 + 10_400);
    await finishAt(2, 'q', T0 + 30_000);
    await finishAt(1, 'r', T0 + 30_500);
    await finishAt(1, 'q', T0 + 30_600, false);
    const completed = async (now: EpochMs, windowMs: number) =>
      Object.fromEntries((await stats(driver, now, windowMs)).map((s) => [s.queue, s.completed]));
    assert.deepEqual(await completed(T0 + 31_000, 60_000), { q: 6, r: 1 });
    // The window (T0 + 20 s, T0 + 31 s] leaves out the second T0 + 10 s.
    assert.deepEqual(await completed(T0 + 31_000, 11_000), { q: 3, r: 1 });
    // A window starting inside a second leaves that second's deletions out (it never counts one
    // before its start); the kept row is counted by its own finish time.
    assert.deepEqual(await completed(T0 + 40_000, 9_999), { q: 1 });
  });

  test('deletedCompletionsPrune deletes the counts of seconds before its bound, and checks it', async (driver) => {
    for (const at of [T0 + 1_000, T0 + 5_000]) {
      await insertJob(driver, {}, at - 1);
      const [lease] = (await claimAll(driver, at - 1)).values();
      await driver.jobFinalizeMany({ items: [deleting(lease!)], now: at });
    }
    const count = async () => (await stats(driver, T0 + 10_000, 60_000))[0]?.completed;
    assert.equal(await count(), 2);
    assert.equal(await driver.deletedCompletionsPrune({ before: T0 + 1_000 }), 0, 'its own second stays');
    assert.equal(await driver.deletedCompletionsPrune({ before: T0 + 2_000 }), 1);
    assert.equal(await count(), 1);
    await assert.rejects(driver.deletedCompletionsPrune({ before: Number.NaN }), InvalidOptionError);
  });
}
