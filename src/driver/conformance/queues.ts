/** Conformance: queues (listing, pause, resume). */
import assert from 'node:assert/strict';
import { JOB_STATES, type JobState } from '../../core/types.js';
import { claim, type DefineTest, insertJob, insertJobs, T0 } from './harness.js';

const zero = (): Record<JobState, number> =>
  Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as Record<JobState, number>;

export function queueTests(test: DefineTest): void {
  test('lists every queue that has jobs or was paused, sorted by name, with counts', async (driver) => {
    assert.deepEqual(await driver.queueList(), []);
    await insertJobs(driver, [{ queue: 'mail' }, { queue: 'mail', delayMs: 100 }, { queue: 'billing' }]);
    await claim(driver, { queues: ['billing'] });
    await driver.queuePause({ name: 'archive', now: T0 });
    await driver.queuePause({ name: 'mail', now: T0 });
    assert.deepEqual(await driver.queueList(), [
      { name: 'archive', paused: true, counts: zero() },
      { name: 'billing', paused: false, counts: { ...zero(), running: 1 } },
      { name: 'mail', paused: true, counts: { ...zero(), pending: 1, scheduled: 1 } },
    ]);
  });

  test('pause and resume report whether they changed anything', async (driver) => {
    assert.equal(await driver.queueResume({ name: 'q', now: T0 }), false, 'never paused');
    assert.equal(await driver.queuePause({ name: 'q', now: T0 }), true);
    assert.equal(await driver.queuePause({ name: 'q', now: T0 + 1 }), false, 'already paused');
    assert.equal(await driver.queueResume({ name: 'q', now: T0 + 2 }), true);
    assert.equal(await driver.queueResume({ name: 'q', now: T0 + 3 }), false, 'already running');
    assert.equal(await driver.queuePause({ name: 'q', now: T0 + 4 }), true, 'paused again');
    const [queue] = await driver.queueList();
    assert.deepEqual(queue, { name: 'q', paused: true, counts: zero() });
  });

  test('a paused queue still accepts jobs', async (driver) => {
    await driver.queuePause({ name: 'q', now: T0 });
    const job = await insertJob(driver, { queue: 'q' });
    assert.equal(job.state, 'pending');
    assert.deepEqual(await claim(driver, { queues: ['q'] }), []);
  });
}
