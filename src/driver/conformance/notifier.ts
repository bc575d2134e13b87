/** Conformance: wake-ups on the driver's notifier. */
import assert from 'node:assert/strict';
import { CHANNELS } from '../driver.js';
import { claimOne, complete, type DefineTest, insertJob, insertJobs, nextPayload, T0 } from './harness.js';

export function notifierTests(test: DefineTest): void {
  test('inserting a due job notifies jobAvailable with its queue; a scheduled one does not', async (driver) => {
    const received: string[] = [];
    const unsubscribe = driver.notifier.listen(CHANNELS.jobAvailable, (queue) => received.push(queue));
    const delivered = nextPayload(driver, CHANNELS.jobAvailable, (queue) => queue === 'now');
    await insertJob(driver, { queue: 'later', delayMs: 60_000 });
    await insertJob(driver, { queue: 'now' });
    await delivered;
    unsubscribe();
    assert.deepEqual(received, ['now']);
  });

  test('release, rescue and retry notify jobAvailable', async (driver) => {
    await insertJobs(driver, [{ queue: 'released' }, { queue: 'rescued' }, { queue: 'retried' }]);

    const released = await claimOne(driver, { queues: ['released'] });
    let next = nextPayload(driver, CHANNELS.jobAvailable);
    await driver.jobRelease({ leases: [released], now: T0 + 1 });
    assert.equal(await next, 'released');

    await claimOne(driver, { queues: ['rescued'], leaseMs: 10 });
    next = nextPayload(driver, CHANNELS.jobAvailable);
    await driver.jobRescueExpired({ limit: 10, now: T0 + 100 });
    assert.equal(await next, 'rescued');

    const retried = await claimOne(driver, { queues: ['retried'], now: T0 + 200 });
    await complete(driver, retried, T0 + 201);
    next = nextPayload(driver, CHANNELS.jobAvailable);
    await driver.jobRetry({ ids: [retried.id], now: T0 + 202 });
    assert.equal(await next, 'retried');
  });

  test('cancelling a running job notifies jobCancelled with its id', async (driver) => {
    const [running, pending] = await insertJobs(driver, [{}, {}]);
    await claimOne(driver);
    const received: string[] = [];
    const unsubscribe = driver.notifier.listen(CHANNELS.jobCancelled, (id) => received.push(id));
    const delivered = nextPayload(driver, CHANNELS.jobCancelled);
    await driver.jobCancel({ ids: [pending!.id, running!.id], now: T0 + 1 });
    assert.equal(await delivered, running!.id);
    unsubscribe();
    assert.deepEqual(received, [running!.id]);
  });

  test('delivery is asynchronous and a throwing listener does not stop the others', async (driver) => {
    const received: string[] = [];
    const unsubscribeThrower = driver.notifier.listen('conformance_test', () => {
      throw new Error('listener failure (expected by the test)');
    });
    const unsubscribe = driver.notifier.listen('conformance_test', (payload) => received.push(payload));
    const delivered = nextPayload(driver, 'conformance_test');
    driver.notifier.notify('conformance_test', 'hello');
    assert.deepEqual(received, [], 'notify must not call listeners synchronously');
    assert.equal(await delivered, 'hello');
    assert.deepEqual(received, ['hello']);
    unsubscribeThrower();
    unsubscribe();
  });

  test('an unsubscribed listener hears nothing more', async (driver) => {
    const heard: string[] = [];
    const unsubscribe = driver.notifier.listen('conformance_test', (payload) => heard.push(payload));
    unsubscribe();
    const delivered = nextPayload(driver, 'conformance_test');
    driver.notifier.notify('conformance_test', 'after');
    await delivered;
    assert.deepEqual(heard, []);
  });
}
