/**
 * SQLite liveness when the processes sharing a file disagree about the time. No process's wall
 * clock may decide that a lease or a leadership ended: a rescuer only takes a job (and a
 * process only takes leadership) after watching it stay unchanged for longer than its length on
 * its own clock.
 *
 * - Two driver instances on one file stand for two processes (each has its own memory of what
 *   it saw); their injected `now`s are a minute apart, as the clocks of two processes can be.
 * - Real worker processes (test/fixtures/worker-process.ts) with their wall clock moved by a
 *   preload (test/fixtures/skewed-clock.mjs): skewed a minute ahead and behind, stepped in the
 *   middle of a run, and frozen with SIGSTOP past the lease (at-least-once with fencing).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { jobParams } from '../src/driver/conformance/harness.js';
import type { Driver } from '../src/driver/driver.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
const SKEW = 60_000;
const LEASE = 1000;

/** Two drivers on one fresh file: `a` and `b` stand for two processes. */
async function twoProcesses(t: TestContext): Promise<{ a: Driver; b: Driver }> {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-skew-'));
  const path = join(dir, 'jobs.db');
  const a = sqliteDriver({ path });
  await a.migrate();
  const b = sqliteDriver({ path });
  t.after(async () => {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { a, b };
}

async function insertOne(driver: Driver, now: number, maxAttempts = 3): Promise<string> {
  const result = await driver.jobInsertMany({ jobs: [jobParams({ maxAttempts })], now });
  assert.ok('inserted' in result);
  return result.inserted[0]!.job.id;
}

async function claimOne(driver: Driver, now: number, workerId: string) {
  const [lease] = await driver.jobClaim({ queues: ['default'], limit: 1, leaseMs: LEASE, workerId, now });
  assert.ok(lease, 'a job to claim');
  return lease;
}

describe('SQLite liveness between processes whose clocks disagree', () => {
  for (const skew of [SKEW, -SKEW]) {
    const where = skew > 0 ? 'ahead' : 'behind';
    it(`a heart-beating job of a worker whose clock is a minute ${where} is never rescued`, async (t) => {
      const { a: worker, b: rescuer } = await twoProcesses(t);
      const id = await insertOne(worker, T0 + skew);
      const lease = await claimOne(worker, T0 + skew, 'skewed');
      // The rescuer sweeps every 200 ms of its clock, the worker heart-beats every 300 ms of its.
      for (let ms = 0; ms <= 10 * LEASE; ms += 50) {
        if (ms % 200 === 0) {
          assert.deepEqual(
            await rescuer.jobRescueExpired({ limit: 10, now: T0 + ms }),
            [],
            `sweep at +${ms}`,
          );
        }
        if (ms % 300 === 150) {
          const lost = await worker.jobHeartbeatMany({
            leases: [lease],
            leaseMs: LEASE,
            now: T0 + skew + ms,
          });
          assert.deepEqual(lost, [], `heartbeat at +${ms}`);
        }
      }
      const job = await rescuer.jobGet({ id });
      assert.equal(job?.state, 'running');
      assert.equal(job.errors.length, 0);
    });

    it(`a worker whose clock is a minute ${where} and falls silent is rescued a lease later, on the rescuer's clock`, async (t) => {
      const { a: worker, b: rescuer } = await twoProcesses(t);
      const id = await insertOne(worker, T0 + skew);
      const lease = await claimOne(worker, T0 + skew, 'skewed');
      let rescuedAt: number | undefined;
      const lastBeat = 350; // rescuer time of the worker's last heartbeat
      for (let ms = 0; rescuedAt === undefined && ms <= 5 * LEASE; ms += 50) {
        if (ms === lastBeat) {
          assert.deepEqual(
            await worker.jobHeartbeatMany({ leases: [lease], leaseMs: LEASE, now: T0 + skew + ms }),
            [],
          );
        }
        if (ms % 200 !== 0) continue;
        const rescued = await rescuer.jobRescueExpired({ limit: 10, now: T0 + ms });
        if (rescued.length > 0) {
          assert.deepEqual(
            rescued.map((job) => job.id),
            [id],
          );
          rescuedAt = ms;
        }
      }
      assert.ok(rescuedAt !== undefined, 'rescued');
      // First seen at the sweep after the heartbeat (400), rescued at the first sweep more than a
      // lease after that: never within a lease of the heartbeat, at most a lease and two sweeps.
      assert.equal(rescuedAt, 1600);
      assert.ok(rescuedAt - lastBeat > LEASE && rescuedAt - lastBeat <= LEASE + 400);
      assert.equal((await rescuer.jobGet({ id }))?.state, 'pending');
    });

    it(`leadership renewed by a process whose clock is a minute ${where} is not taken over; a silent one is, after its ttl`, async (t) => {
      const { a: holder, b: other } = await twoProcesses(t);
      const TTL = 2000;
      const elect = (driver: Driver, ownerId: string, now: number) =>
        driver.leaderAttemptElect({ name: 'maintenance', ownerId, ttlMs: TTL, now });
      assert.equal(await elect(holder, 'holder', T0 + skew), true);
      for (let ms = 100; ms <= 5 * TTL; ms += 200) {
        assert.equal(await elect(other, 'other', T0 + ms), false, `other at +${ms}`);
        assert.equal(await elect(holder, 'holder', T0 + skew + ms + 100), true, `holder at +${ms + 100}`);
      }
      // The holder stops renewing (its last renewal: +10 000); `other` keeps asking every 200 ms.
      let takenAt: number | undefined;
      for (let ms = 5 * TTL + 100; takenAt === undefined && ms <= 10 * TTL; ms += 200) {
        if (await elect(other, 'other', T0 + ms)) takenAt = ms;
      }
      // First seen unchanged at +10 100; taken at the first attempt more than the ttl later.
      assert.equal(takenAt, 5 * TTL + 100 + TTL + 200);
      assert.equal(await elect(holder, 'holder', T0 + skew + 20 * TTL), false, 'the old holder lost it');
    });
  }

  it('two rescuers at once never rescue a job twice, nor take a re-claimed job for the one they watched', async (t) => {
    const { a: first, b: second } = await twoProcesses(t);
    const id = await insertOne(first, T0, 2);
    await claimOne(first, T0, 'dead');
    // Both watch the silent lease; `second`'s clock is a minute ahead of `first`'s.
    assert.deepEqual(await second.jobRescueExpired({ limit: 10, now: T0 + SKEW }), []);
    const [rescued] = await first.jobRescueExpired({ limit: 10, now: T0 + LEASE + 1 });
    assert.equal(rescued?.id, id);
    // A live worker claims it again; `second` last saw the old lease more than a lease ago.
    const again = await claimOne(first, T0 + LEASE + 2, 'alive');
    assert.deepEqual(await second.jobRescueExpired({ limit: 10, now: T0 + SKEW + 5 * LEASE }), []);
    assert.deepEqual(
      await first.jobHeartbeatMany({ leases: [again], leaseMs: LEASE, now: T0 + LEASE + 500 }),
      [],
    );
    assert.deepEqual(await second.jobRescueExpired({ limit: 10, now: T0 + SKEW + 5 * LEASE + 900 }), []);
    const job = await first.jobGet({ id });
    assert.equal(job?.state, 'running');
    assert.equal(job.workerId, 'alive');
  });
});
