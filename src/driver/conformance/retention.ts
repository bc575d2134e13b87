/**
 * Conformance: retention. `jobDeleteFinished` deletes only finished jobs matching its filter
 * and finish-time bound, oldest first, at most `limit` per call; `jobFinishedCutoff` finds the
 * bound that keeps the newest N; bad filters are refused with `InvalidOptionError`.
 */
import assert from 'node:assert/strict';
import { InvalidOptionError } from '../../core/errors.js';
import type { Driver, FinishedState } from '../driver.js';
import { claim, complete, type DefineTest, getJob, insertJob, storedError, T0 } from './harness.js';

/** Insert a job in `queue`, run it and leave it `state`, finishing at `at`. Returns its id. */
async function finishedJob(
  driver: Driver,
  state: FinishedState,
  at: number,
  queue = 'default',
): Promise<string> {
  const job = await insertJob(driver, { queue }, at - 10);
  if (state === 'cancelled') {
    await driver.jobCancel({ ids: [job.id], now: at });
    return job.id;
  }
  const [claimed] = await claim(driver, { queues: [queue], limit: 1, now: at - 5 });
  assert.equal(claimed?.id, job.id);
  if (state === 'completed') await complete(driver, claimed!, at);
  else {
    await driver.jobFinalizeMany({
      items: [
        { id: job.id, leaseToken: claimed!.leaseToken, outcome: 'abandoned', error: storedError(1, at) },
      ],
      now: at,
    });
  }
  return job.id;
}

const exists = async (driver: Driver, id: string) => (await driver.jobGet({ id })) !== undefined;

export function retentionTests(test: DefineTest): void {
  test('jobDeleteFinished deletes finished jobs before the bound, never active ones', async (driver) => {
    const old = await finishedJob(driver, 'completed', T0);
    const recent = await finishedJob(driver, 'completed', T0 + 60_000);
    const oldAbandoned = await finishedJob(driver, 'abandoned', T0 + 1000);
    const waiting = await insertJob(driver, { runAt: T0 + 5000 }, T0 - 100_000);
    const n = await driver.jobDeleteFinished({
      states: ['completed'],
      finishedBefore: T0 + 30_000,
      limit: 10,
    });
    assert.equal(n, 1);
    assert.equal(await exists(driver, old), false);
    assert.equal(await exists(driver, recent), true);
    assert.equal(await exists(driver, oldAbandoned), true, 'another state is not touched');
    assert.equal((await getJob(driver, waiting.id)).state, 'scheduled');
    // Without a bound: every finished job of the states named, still no active one.
    assert.equal(
      await driver.jobDeleteFinished({ states: ['completed', 'abandoned', 'cancelled'], limit: 10 }),
      2,
    );
    assert.equal(await exists(driver, waiting.id), true);
  });

  test('jobDeleteFinished takes the oldest finishes first, at most limit per call', async (driver) => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await finishedJob(driver, 'cancelled', T0 + (5 - i) * 1000));
    assert.equal(await driver.jobDeleteFinished({ states: ['cancelled'], limit: 2 }), 2);
    // ids[4] and ids[3] finished first.
    assert.deepEqual(await Promise.all(ids.map((id) => exists(driver, id))), [
      true,
      true,
      true,
      false,
      false,
    ]);
    assert.equal(await driver.jobDeleteFinished({ states: ['cancelled'], limit: 2 }), 2);
    assert.equal(await driver.jobDeleteFinished({ states: ['cancelled'], limit: 2 }), 1);
    assert.equal(await driver.jobDeleteFinished({ states: ['cancelled'], limit: 2 }), 0);
  });

  test('jobDeleteFinished filters by queue, excluded queue and task', async (driver) => {
    const mail = await finishedJob(driver, 'completed', T0, 'mail');
    const reports = await finishedJob(driver, 'completed', T0, 'reports');
    const other = await finishedJob(driver, 'completed', T0, 'other');
    assert.equal(await driver.jobDeleteFinished({ states: ['completed'], queues: ['mail'], limit: 10 }), 1);
    assert.equal(await exists(driver, mail), false);
    assert.equal(
      await driver.jobDeleteFinished({ states: ['completed'], excludeQueues: ['reports'], limit: 10 }),
      1,
    );
    assert.equal(await exists(driver, other), false);
    assert.equal(await exists(driver, reports), true);
    assert.equal(
      await driver.jobDeleteFinished({ states: ['completed'], tasks: ['no-such-task'], limit: 10 }),
      0,
    );
    assert.equal(
      await driver.jobDeleteFinished({ states: ['completed'], tasks: ['send-email'], limit: 10 }),
      1,
    );
  });

  test('jobFinishedCutoff is the finish time past the newest N, or null', async (driver) => {
    for (let i = 0; i < 4; i++) await finishedJob(driver, 'completed', T0 + i * 1000);
    await finishedJob(driver, 'completed', T0 + 9000, 'elsewhere');
    assert.equal(
      await driver.jobFinishedCutoff({ states: ['completed'], excludeQueues: ['elsewhere'], keep: 2 }),
      T0 + 1000,
    );
    assert.equal(
      await driver.jobFinishedCutoff({ states: ['completed'], queues: ['default'], keep: 0 }),
      T0 + 3000,
    );
    assert.equal(
      await driver.jobFinishedCutoff({ states: ['completed'], queues: ['default'], keep: 4 }),
      null,
    );
    assert.equal(await driver.jobFinishedCutoff({ states: ['abandoned'], keep: 0 }), null);
    // Keep the newest two of `default`: delete what finished before the cutoff.
    const cutoff = await driver.jobFinishedCutoff({ states: ['completed'], queues: ['default'], keep: 2 });
    assert.equal(
      await driver.jobDeleteFinished({
        states: ['completed'],
        queues: ['default'],
        finishedBefore: cutoff! + 1,
        limit: 10,
      }),
      2,
    );
    assert.equal(
      await driver.jobFinishedCutoff({ states: ['completed'], queues: ['default'], keep: 2 }),
      null,
    );
  });

  test('retention refuses active states, empty state lists and bad limits', async (driver) => {
    const refused = async (call: () => Promise<unknown>, field: string) =>
      assert.rejects(call, (err: unknown) => err instanceof InvalidOptionError && err.field === field);
    const job = await insertJob(driver);
    await refused(
      () => driver.jobDeleteFinished({ states: ['pending' as FinishedState], limit: 1 }),
      'states',
    );
    await refused(() => driver.jobDeleteFinished({ states: [], limit: 1 }), 'states');
    await refused(() => driver.jobDeleteFinished({ states: ['completed'], limit: 0 }), 'limit');
    await refused(() => driver.jobDeleteFinished({ states: ['completed'], limit: 1.5 }), 'limit');
    await refused(() => driver.jobFinishedCutoff({ states: ['completed'], keep: -1 }), 'keep');
    await refused(
      () => driver.jobDeleteFinished({ states: ['completed'], queues: ['a\u0000'], limit: 1 }),
      'queues',
    );
    assert.equal((await getJob(driver, job.id)).state, 'pending');
  });
}
