/**
 * The one place schedule state is written: it turns a plan into jobs (the enqueue path's own
 * `prepareJobs`, so a scheduled job is checked and encoded like any other), writes them with
 * the schedule's compare-and-set in one driver call, and reports what committed — `job:queued`,
 * `job:cancelled`, `schedule:*` — only when the write applied, so each tick is reported once in
 * the cluster. Used by the leader's scheduler and by the schedules API.
 */
import type {
  JobInsertParams,
  LogEntry,
  ScheduleRecord,
  ScheduleWriteParams,
  ScheduleWriteResult,
  ScheduleWritten,
} from '../driver/driver.js';
import { prepareJobs } from './enqueue.js';
import { dependentEntries, wakeForDue } from './flow/dependencies.js';
import { cancelledEvent, emitEntries, queuedEvent } from './job-events.js';
import type { Runtime } from './runtime.js';
import { jitterOf, type StoredScheduleDefinition } from './schedule-definition.js';
import { type AdvancePlan, firstTickAfter, planAdvance } from './schedule-plan.js';
import type { TaskResolver } from './task-defaults.js';
import { ACTIVE_STATES, type EpochMs, type JobRecord } from './types.js';

/** The unique key of a tick's job: at most one active job per (schedule, tick). */
export const tickKey = (id: string, tick: number): string => `schedule:${id}:${tick}`;

/** See the module comment. */
export class ScheduleWriter {
  readonly #runtime: Runtime;
  readonly #resolver: TaskResolver;

  /** `resolver` resolves the schedules' tasks when they fire (not strict: checked at upsert). */
  constructor(runtime: Runtime, resolver: TaskResolver) {
    this.#runtime = runtime;
    this.#resolver = resolver;
  }

  /** The time schedules are computed at: the injected clock's, else this process's. */
  now(): number {
    return this.#runtime.dbNow() ?? this.#runtime.clock.now();
  }

  /**
   * The job of one tick (`tick` null: a manual trigger, due now). Checked and encoded by the
   * enqueue path; `resolver` overrides the firing resolver (the API checks with the strict one).
   */
  async jobFor(
    id: string,
    definition: StoredScheduleDefinition,
    tick: number | null,
    resolver: TaskResolver = this.#resolver,
  ): Promise<JobInsertParams> {
    const metadata = {
      ...(definition.options.metadata ?? {}),
      schedule: id,
      scheduleTick: tick,
      ...(tick === null ? { trigger: 'manual' } : {}),
    };
    const options =
      tick === null
        ? { ...definition.options, metadata }
        : {
            ...definition.options,
            metadata,
            runAt: tick + jitterOf(id, tick, definition.jitterMs),
            uniqueKey: tickKey(id, tick),
          };
    const [job] = await prepareJobs([{ task: definition.task, payload: definition.payload, options }], {
      resolveTask: (task) => resolver.resolve(task),
      maxPayloadBytes: this.#runtime.limits.maxPayloadBytes,
      inheritedCorrelationId: undefined,
      many: false,
    });
    return job!;
  }

  /**
   * Write, then report what committed (events, wake-ups for this process's pools). The events —
   * `job:cancelled`, `job:queued`, and whatever `more` makes of the result (`schedule:*`) — are
   * built once, inside the write when the durable log is on, so the log stores them with the
   * change and the bus gets the same.
   */
  async write(
    params: ScheduleWriteParams,
    more: (result: ScheduleWritten, at: EpochMs) => LogEntry[] = () => [],
  ): Promise<ScheduleWriteResult> {
    const { driver, events, clock, wakeups, eventLog } = this.#runtime;
    let entries: LogEntry[] = [];
    const build = (result: ScheduleWritten): LogEntry[] => {
      const at = clock.now();
      entries = [
        ...result.cancelled.flatMap((job) => [
          { type: 'job:cancelled', data: cancelledEvent(job, job.previousState, job.at) },
          // What waited for the cancelled job (dependsOn) got its edges' policy in the same write.
          ...dependentEntries(job.dependents),
        ]),
        ...result.inserted
          .filter(({ duplicate }) => !duplicate)
          .map(({ job }) => ({ type: 'job:queued', data: queuedEvent(job, at) })),
        ...more(result, at),
      ];
      return entries;
    };
    const result = await driver.scheduleWrite({
      ...params,
      now: this.#runtime.dbNow(),
      log: eventLog ? build : undefined,
    });
    if (!result.applied) return result;
    if (!eventLog) build(result);
    emitEntries(events, entries);
    for (const job of result.cancelled) wakeForDue(wakeups, job.dependents);
    for (const { job, duplicate } of result.inserted) {
      if (duplicate || !wakeups.hasListeners) continue;
      wakeups.notify(job.queue, job.state === 'scheduled' ? job.runAt.getTime() : undefined);
    }
    return result;
  }

  /**
   * Handle a due schedule: run its on-time ticks, apply the missed-run and overlap policies,
   * enqueue the next tick's job ahead. False when another process wrote the schedule first.
   */
  async advance(schedule: ScheduleRecord): Promise<boolean> {
    const { driver } = this.#runtime;
    const definition = JSON.parse(schedule.definitionJson) as StoredScheduleDefinition;
    const now = this.now();
    // Listed as due by another clock (a database ahead of this process): its time has not come here.
    if (schedule.nextTickAt === null || schedule.nextTickAt > now) return false;
    let previous: JobRecord | undefined;
    if (definition.overlap === 'skip' && schedule.lastJobId !== null) {
      previous = await driver.jobGet({ id: schedule.lastJobId });
    }
    const previousActive = previous !== undefined && ACTIVE_STATES.includes(previous.state);
    const plan = planAdvance(schedule, definition, now, previousActive);
    const jobs: JobInsertParams[] = [];
    const indexOf = new Map<number, number>();
    // A job that cannot be built (its payload no longer passes the task's schema, say) stops this
    // schedule: the error names it, since the task alone does not say which schedule to fix.
    const jobOf = async (tick: number) => {
      try {
        return await this.jobFor(schedule.id, definition, tick);
      } catch (error) {
        if (error instanceof Error) error.message += ` (schedule "${schedule.id}")`;
        throw error;
      }
    };
    for (const run of plan.runs) {
      if (run.existingJobId !== null) continue;
      indexOf.set(run.tick, jobs.length);
      jobs.push(await jobOf(run.tick));
    }
    const aheadIndex = jobs.length;
    if (plan.enqueueAhead) jobs.push(await jobOf(plan.next!));
    // The queue the schedule's jobs go to — the task's own when the schedule names none — for the
    // events of an advance that inserts nothing (every tick skipped or missed).
    const queueOfJobs =
      jobs[0]?.queue ??
      (await this.jobFor(schedule.id, definition, schedule.nextTickAt).then(
        (job) => job.queue,
        () => undefined,
      ));
    const lastRun = plan.runs.at(-1);
    // The schedule's own events, from what the write did (stored with it when the log is on).
    const scheduleEvents = (written: ScheduleWritten, at: EpochMs): LogEntry[] => {
      const out: LogEntry[] = [];
      const queue = written.inserted[0]?.job.queue ?? queueOfJobs ?? definition.options.queue ?? 'default';
      const base = { scheduleId: schedule.id, task: definition.task, queue };
      // A pool that came back before the leader may have started the late due tick's job, which
      // the plan meant to cancel: the write leaves a started job alone, so that tick ran.
      const startedAnyway = startedLateJob(plan, schedule, written);
      const missed = startedAnyway ? withoutFirstTick(plan.missed, definition) : plan.missed;
      if (missed) {
        out.push({
          type: 'schedule:missed',
          data: { ...base, ...missed, policy: definition.missed.policy, at },
        });
      }
      if (startedAnyway) {
        const tick = schedule.nextTickAt!;
        const runAt = tick + jitterOf(schedule.id, tick, definition.jitterMs);
        out.push({
          type: 'schedule:fired',
          data: { ...base, tick, jobId: startedAnyway, runAt, late: true, at },
        });
      }
      const backfilled: { tick: number; jobId: string }[] = [];
      let ranJobId: string | null = null;
      for (const run of plan.runs) {
        const index = indexOf.get(run.tick);
        const job = index === undefined ? undefined : written.inserted[index]?.job;
        const jobId = run.existingJobId ?? job?.id ?? '';
        const runAt = job
          ? job.runAt.getTime()
          : run.tick + jitterOf(schedule.id, run.tick, definition.jitterMs);
        if (run.backfill) backfilled.push({ tick: run.tick, jobId });
        ranJobId = jobId || null;
        out.push({
          type: 'schedule:fired',
          data: { ...base, tick: run.tick, jobId, runAt, late: run.late, at },
        });
      }
      if (backfilled.length > 0) {
        out.push({
          type: 'schedule:backfilled',
          data: { ...base, ticks: backfilled.map((b) => b.tick), jobIds: backfilled.map((b) => b.jobId), at },
        });
      }
      for (const tick of plan.skipped) {
        out.push({
          type: 'schedule:skipped',
          data: {
            ...base,
            tick,
            reason: 'overlap',
            // The job in the way: the previous one still active, or — several ticks due at once
            // (after an outage) and only one may run — the latest tick's, which runs instead.
            activeJobId: previousActive ? (previous?.id ?? null) : ranJobId,
            at,
          },
        });
      }
      return out;
    };
    const result = await this.write(
      {
        id: schedule.id,
        expectedVersion: schedule.version,
        state: {
          definitionJson: schedule.definitionJson,
          paused: false,
          nextTickAt: plan.next,
          nextJob: plan.enqueueAhead ? { index: aheadIndex } : null,
          lastTickAt: lastRun ? lastRun.tick : schedule.lastTickAt,
          lastJob: lastRun
            ? lastRun.existingJobId !== null
              ? { id: lastRun.existingJobId }
              : { index: indexOf.get(lastRun.tick)! }
            : schedule.lastJobId === null
              ? null
              : { id: schedule.lastJobId },
          lastFiredAt: lastRun ? now : schedule.lastFiredAt,
        },
        jobs,
        cancelJobIds: plan.cancelJobIds,
      },
      scheduleEvents,
    );
    if (!result.applied) return false;
    return true;
  }
}

/**
 * The job enqueued ahead for the due tick when the plan cancelled it as missed but the write did
 * not (it had started: only waiting jobs are cancelled), else undefined.
 */
function startedLateJob(
  plan: AdvancePlan,
  schedule: ScheduleRecord,
  written: ScheduleWritten,
): string | undefined {
  const ahead = schedule.nextJobId;
  if (ahead === null || !plan.cancelJobIds.includes(ahead)) return undefined;
  return written.cancelled.some((job) => job.id === ahead) ? undefined : ahead;
}

/** `missed` without its first tick (the due one, which ran after all), or null when none is left. */
function withoutFirstTick(
  missed: AdvancePlan['missed'],
  definition: StoredScheduleDefinition,
): AdvancePlan['missed'] {
  if (missed === null || missed.count <= 1) return null;
  const firstTick = firstTickAfter(definition, missed.firstTick) ?? missed.lastTick;
  return { ...missed, count: missed.count - 1, firstTick };
}
