/**
 * Schedules across real processes on one SQLite file, real time: three
 * processes run the same schedule (every second); the leader is SIGKILLed again and again and
 * replaced, so leadership changes hands while ticks keep coming. Afterwards every tick of the
 * period has exactly one job — none lost at a hand-over, none doubled by two leaders.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createJobwire, type JobRecord } from '../src/index.js';
import { openDriverAt } from './support/open-location.js';
import { killWorkers, startWorker, type WorkerProcess } from './support/processes.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/schedule-process.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'jobwire-schedule-processes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function cluster(location: string): Promise<void> {
  const workers: WorkerProcess[] = [];
  const start = () => {
    const worker = startWorker(location, join(dir, 'unused.log'), {}, FIXTURE);
    workers.push(worker);
    return worker;
  };
  try {
    const alive = [start(), start(), start()];
    await Promise.all(alive.map((w) => w.ready));
    const began = Date.now();
    let kills = 0;
    // (PostgreSQL runs the same hand-overs on a manual clock in the client conformance suite.)
    // For ~6 s: kill whoever leads, and start a replacement (not waited for: the others go on).
    while (Date.now() - began < 6000) {
      await sleep(800);
      const leader = alive.find((w) => /^leader$/m.test(w.output()));
      if (!leader) continue;
      leader.child.kill('SIGKILL');
      await leader.exited;
      kills++;
      alive.splice(alive.indexOf(leader), 1);
      alive.push(start());
    }
    const ended = Date.now();
    await sleep(1500); // the last ticks of the period are handled
    assert.ok(kills >= 2, `killed ${kills} leaders`);
    await Promise.all(
      alive.map(async (w) => {
        await w.ready;
        w.child.kill('SIGTERM');
        await w.exited;
      }),
    );

    const reader = await createJobwire({
      driver: await openDriverAt(location),
      migrate: false,
      retention: false,
    });
    try {
      const jobs: JobRecord[] = [];
      let cursor: string | null = null;
      do {
        const page = await reader.listJobs({ task: 'cluster.tick', limit: 1000, cursor });
        jobs.push(...page.jobs);
        cursor = page.nextCursor;
      } while (cursor !== null);
      const ticks = jobs.map((job) => job.metadata.scheduleTick as number).sort((a, b) => a - b);
      assert.equal(new Set(ticks).size, ticks.length, 'a tick got two jobs');
      const inPeriod = ticks.filter((t) => t > began && t <= ended);
      const expected = Math.floor(ended / 1000) - Math.floor(began / 1000);
      assert.equal(inPeriod.length, expected, 'every second of the period has its job');
      for (let i = 1; i < inPeriod.length; i++) assert.equal(inPeriod[i]! - inPeriod[i - 1]!, 1000);
      assert.ok(jobs.filter((j) => j.state === 'completed').length >= expected - 2, 'the jobs ran');
    } finally {
      await reader.close();
    }
  } finally {
    await killWorkers(workers);
  }
}

describe('schedules across processes, the leader killed again and again', () => {
  it('sqlite: exactly one job per tick', async () => {
    await cluster(join(dir, 'cluster.db'));
  });
});
