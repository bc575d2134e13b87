/**
 * The scheduler, a leader-only service: at every leader tick it reads the schedules whose next
 * tick has come and advances each (see `ScheduleWriter.advance`). Firing precision does not
 * depend on it: a tick's job is enqueued ahead as a scheduled job and becomes due on its own.
 * What depends on it is only how soon the next tick's job is enqueued — and every advance is a
 * compare-and-set, so an old leader still running during a hand-over cannot fire a tick twice.
 */
import type { Runtime } from '../runtime.js';
import type { ScheduleWriter } from '../schedule-writer.js';
import type { LeaderService } from './service.js';

/** Schedules read per query; a full page is followed by another at once. */
const PAGE = 100;

/** See the module comment. Run by the `LeaderElector`. */
export class Scheduler implements LeaderService {
  readonly name = 'scheduler';
  readonly operation = 'advance';
  readonly intervalMs: number;
  readonly #runtime: Runtime;
  readonly #writer: ScheduleWriter;

  constructor(runtime: Runtime, writer: ScheduleWriter, intervalMs: number) {
    this.#runtime = runtime;
    this.#writer = writer;
    this.intervalMs = intervalMs;
  }

  /**
   * Advance every due schedule. One schedule that cannot fire (its payload no longer passes its
   * task's schema, say) does not hold up the others: its error is raised after the rest ran.
   */
  async runOnce(): Promise<void> {
    let failure: unknown;
    const failed = new Set<string>();
    for (;;) {
      const due = await this.#runtime.driver.scheduleListDue({
        now: this.#runtime.dbNow() ?? this.#writer.now(),
        limit: PAGE,
      });
      const todo = due.filter((schedule) => !failed.has(schedule.id));
      for (const schedule of todo) {
        try {
          await this.#writer.advance(schedule);
        } catch (error) {
          failed.add(schedule.id);
          failure ??= error;
        }
      }
      if (due.length < PAGE || todo.length === 0) break;
    }
    if (failure !== undefined) throw failure;
  }
}
