/** Queues on SQLite: a queue exists while it has jobs or a row in `jobwire_queues` (paused once). */
import type { JobState, QueueInfo } from '../../core/types.js';
import type { QueueStateParams } from '../../driver/driver.js';
import { zeroCounts } from './admin.js';
import type { SqliteContext } from './context.js';

/** Build the queue methods (synchronous; the driver wraps them in promises). */
export function createQueueMethods(ctx: SqliteContext) {
  const { db } = ctx;

  const countByQueue = db.prepare(
    'SELECT queue, state, count(*) AS n FROM jobwire_jobs GROUP BY queue, state',
  );
  const queueRows = db.prepare('SELECT name, paused FROM jobwire_queues');

  function queueList(): QueueInfo[] {
    const queues = new Map<string, QueueInfo>();
    const queue = (name: string): QueueInfo => {
      let info = queues.get(name);
      if (!info) {
        info = { name, paused: false, counts: zeroCounts() };
        queues.set(name, info);
      }
      return info;
    };
    // Both reads in one transaction so counts and paused flags describe the same moment.
    db.transaction(() => {
      for (const row of queueRows.all() as { name: string; paused: number }[]) {
        queue(row.name).paused = row.paused === 1;
      }
      for (const row of countByQueue.all() as { queue: string; state: JobState; n: number }[]) {
        queue(row.queue).counts[row.state] = row.n;
      }
    })();
    return [...queues.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  // The DO UPDATE ... WHERE makes `changes` 0 when the queue was already paused.
  const pause = db.prepare(
    `INSERT INTO jobwire_queues (name, paused, updated_at) VALUES (?, 1, ?)
     ON CONFLICT (name) DO UPDATE SET paused = 1, updated_at = excluded.updated_at WHERE paused = 0`,
  );
  // A queue without a row was never paused, so there is nothing to insert.
  const resume = db.prepare(
    'UPDATE jobwire_queues SET paused = 0, updated_at = ? WHERE name = ? AND paused = 1',
  );

  function queuePause(params: QueueStateParams): boolean {
    return pause.run(params.name, ctx.now(params.now)).changes === 1;
  }

  function queueResume(params: QueueStateParams): boolean {
    return resume.run(ctx.now(params.now), params.name).changes === 1;
  }

  return { queueList, queuePause, queueResume };
}
