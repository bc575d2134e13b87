/**
 * The in-process bus as a JavaScript user meets it: `off` removes a listener added with `once`
 * (it stayed, and fired), and `jobwire.events.on` refuses a name no event has (`job:complete`
 * listened for ever to nothing).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventBus } from '../src/core/events.js';
import { createJobwire, InvalidOptionError } from '../src/index.js';
import { sqliteDatabases } from './support/sqlite.js';

const paused = { queue: 'mail', at: 1 };

describe('event bus', () => {
  it('off removes a once listener before it fired; once still fires once', () => {
    const bus = new EventBus();
    const seen: string[] = [];
    const early = () => void seen.push('removed');
    bus.once('queue:paused', early);
    bus.off('queue:paused', early);
    bus.once('queue:paused', () => void seen.push('once'));
    bus.emit('queue:paused', paused);
    bus.emit('queue:paused', paused);
    assert.deepEqual(seen, ['once']);
    assert.equal(bus.has('queue:paused'), false, 'nothing left listening');
  });

  it('jobwire.events.on and once refuse an event name that does not exist, naming the closest', async (t) => {
    const db = await sqliteDatabases.create();
    const jobwire = await createJobwire({ driver: await db.open() });
    t.after(async () => {
      await jobwire.close();
      await db.cleanup();
    });
    for (const listen of [jobwire.events.on, jobwire.events.once]) {
      assert.throws(
        () => listen.call(jobwire.events, 'job:complete' as never, () => {}),
        (error: unknown) =>
          error instanceof InvalidOptionError &&
          error.field === 'name' &&
          /did you mean "job:completed"/.test(error.message),
      );
    }
    const off = jobwire.events.on('job:completed', () => {});
    off();
  });
});
