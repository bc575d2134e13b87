/**
 * `jobwire.schedules`: define, change, pause, resume, trigger, list and remove schedules at run
 * time. Every change is one compare-and-set write (retried on a concurrent change) together
 * with the jobs it adds or cancels, so an edit, a pause or a removal never leaves a tick's job
 * behind to run twice (pg-boss #592) and never loses one already due.
 */
import type { ScheduleRecord, ScheduleWriteParams } from '../driver/driver.js';
import { checkScheduleId } from '../driver/schedule-guards.js';
import { InvalidOptionError, ScheduleNotFoundError } from './errors.js';
import { queuedEvent } from './job-events.js';
import type { Runtime } from './runtime.js';
import {
  normalizeSchedule,
  type ScheduleDefinition,
  type StoredScheduleDefinition,
} from './schedule-definition.js';
import { firstTickAfter } from './schedule-plan.js';
import type { ScheduleWriter } from './schedule-writer.js';
import type { TaskResolver } from './task-defaults.js';
import type { JobRecord } from './types.js';

/** A schedule as `list` and `get` show it. */
export interface ScheduleInfo {
  id: string;
  /** The stored definition (durations in ms, times in epoch ms). */
  definition: StoredScheduleDefinition;
  paused: boolean;
  /** The next tick, or null when paused or ended. */
  nextRunAt: Date | null;
  /** The job already enqueued for the next tick (overlap `allow`), or null. */
  nextJobId: string | null;
  /** The last tick that fired, and its job. */
  lastRunAt: Date | null;
  lastJobId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const date = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

function info(record: ScheduleRecord): ScheduleInfo {
  return {
    id: record.id,
    definition: JSON.parse(record.definitionJson) as StoredScheduleDefinition,
    paused: record.paused,
    nextRunAt: date(record.nextTickAt),
    nextJobId: record.nextJobId,
    lastRunAt: date(record.lastTickAt),
    lastJobId: record.lastJobId,
    createdAt: new Date(record.createdAt),
    updatedAt: new Date(record.updatedAt),
  };
}

/** Compare-and-set attempts before a change gives up (only under a storm of concurrent edits). */
const ATTEMPTS = 20;

/** See the module comment. One per client, exposed as `jobwire.schedules`. */
export class SchedulesApi {
  readonly #runtime: Runtime;
  readonly #writer: ScheduleWriter;
  readonly #resolver: TaskResolver;
  readonly #assertOpen: () => void;

  /** `resolver` is the client's (it applies `strictTasks` when a schedule is defined). */
  constructor(runtime: Runtime, writer: ScheduleWriter, resolver: TaskResolver, assertOpen: () => void) {
    this.#runtime = runtime;
    this.#writer = writer;
    this.#resolver = resolver;
    this.#assertOpen = assertOpen;
  }

  /**
   * Create a schedule, or change one with the same id. An unchanged definition writes nothing
   * (every process may upsert its code's schedules at start). A change replaces the job enqueued
   * ahead for the next tick (cancelled if it has not started) and plans from now; a tick already
   * due keeps its job. Throws InvalidOptionError, UnknownTaskError or a payload error first.
   */
  async upsert(definition: ScheduleDefinition): Promise<ScheduleInfo> {
    this.#assertOpen();
    const stored = normalizeSchedule(definition);
    const definitionJson = JSON.stringify(stored);
    // The task must be known and the payload valid now, not at the first tick.
    await this.#writer.jobFor(definition.id, stored, null, this.#resolver);
    const record = await this.#change(definition.id, (current, now) => {
      if (current?.definitionJson === definitionJson) return null;
      const paused = current?.paused ?? false;
      return this.#replan(definition.id, current, stored, definitionJson, paused, now);
    });
    return info(record!);
  }

  /** Remove a schedule; its job enqueued ahead is cancelled if it has not started. False if there was none. */
  async remove(id: string): Promise<boolean> {
    this.#assertOpen();
    let existed = true;
    await this.#change(checkScheduleId(id), async (current, now) => {
      if (!current) {
        existed = false;
        return null;
      }
      const { cancelJobIds } = this.#settle(current, now);
      return { state: null, jobs: [], cancelJobIds };
    });
    return existed;
  }

  /** Stop firing (the job enqueued ahead is cancelled). False if it was already paused. Throws ScheduleNotFoundError. */
  async pause(id: string): Promise<boolean> {
    return this.#setPaused(id, true);
  }

  /**
   * Fire again from the next tick after now: ticks that passed while paused are not run (a
   * pause is on purpose). False if it was not paused. Throws ScheduleNotFoundError.
   */
  async resume(id: string): Promise<boolean> {
    return this.#setPaused(id, false);
  }

  /** Enqueue one job of the schedule now, outside its ticks (metadata `trigger: "manual"`). */
  async trigger(id: string): Promise<JobRecord> {
    this.#assertOpen();
    const current = await this.#runtime.driver.scheduleGet({ id: checkScheduleId(id) });
    if (!current) throw new ScheduleNotFoundError(id);
    const definition = JSON.parse(current.definitionJson) as StoredScheduleDefinition;
    const job = await this.#writer.jobFor(id, definition, null);
    const { driver, events, clock, wakeups } = this.#runtime;
    const outcome = await driver.jobInsertMany({
      jobs: [job],
      log: this.#runtime.eventLog,
      now: this.#runtime.dbNow(),
    });
    if (!('inserted' in outcome)) throw new Error('jobwire: a trigger has no queue limit to exceed');
    const record = outcome.inserted[0]!.job;
    events.emit('job:queued', queuedEvent(record, clock.now()));
    wakeups.notify(record.queue);
    return record;
  }

  /** Every schedule, sorted by id. */
  async list(): Promise<ScheduleInfo[]> {
    this.#assertOpen();
    return (await this.#runtime.driver.scheduleList()).map(info);
  }

  /** One schedule, or undefined. */
  async get(id: string): Promise<ScheduleInfo | undefined> {
    this.#assertOpen();
    const record = await this.#runtime.driver.scheduleGet({ id: checkScheduleId(id) });
    return record && info(record);
  }

  async #setPaused(id: string, paused: boolean): Promise<boolean> {
    this.#assertOpen();
    let changed = false;
    await this.#change(checkScheduleId(id), (current, now) => {
      if (!current) throw new ScheduleNotFoundError(id);
      if (current.paused === paused) return null;
      changed = true;
      const definition = JSON.parse(current.definitionJson) as StoredScheduleDefinition;
      return this.#replan(id, current, definition, current.definitionJson, paused, now);
    });
    return changed;
  }

  /**
   * What becomes of the job enqueued ahead when a schedule changes: if its tick is still to
   * come it is cancelled (the new plan replaces it); if its tick has come it has fired, and the
   * schedule records it as its last run.
   */
  #settle(current: ScheduleRecord, now: number) {
    const cancelJobIds: string[] = [];
    let lastTickAt = current.lastTickAt;
    let lastJobId = current.lastJobId;
    let lastFiredAt = current.lastFiredAt;
    if (current.nextJobId !== null && current.nextTickAt !== null) {
      if (current.nextTickAt > now) cancelJobIds.push(current.nextJobId);
      else {
        lastTickAt = current.nextTickAt;
        lastJobId = current.nextJobId;
        lastFiredAt = now;
      }
    }
    return { cancelJobIds, lastTickAt, lastJobId, lastFiredAt };
  }

  async #replan(
    id: string,
    current: ScheduleRecord | undefined,
    definition: StoredScheduleDefinition,
    definitionJson: string,
    paused: boolean,
    now: number,
  ): Promise<Omit<ScheduleWriteParams, 'id' | 'expectedVersion'>> {
    const settled = current
      ? this.#settle(current, now)
      : { cancelJobIds: [], lastTickAt: null, lastJobId: null, lastFiredAt: null };
    const next = paused ? null : firstTickAfter(definition, now);
    const ahead = next !== null && definition.overlap === 'allow';
    return {
      state: {
        definitionJson,
        paused,
        nextTickAt: next,
        nextJob: ahead ? { index: 0 } : null,
        lastTickAt: settled.lastTickAt,
        lastJob: settled.lastJobId === null ? null : { id: settled.lastJobId },
        lastFiredAt: settled.lastFiredAt,
      },
      jobs: ahead ? [await this.#writer.jobFor(id, definition, next)] : [],
      cancelJobIds: settled.cancelJobIds,
    };
  }

  /**
   * Read, decide, write with compare-and-set; again on a concurrent change. `decide` returns
   * null for "nothing to write". Resolves with the schedule as it is afterwards.
   */
  async #change(
    id: string,
    decide: (
      current: ScheduleRecord | undefined,
      now: number,
    ) =>
      | Omit<ScheduleWriteParams, 'id' | 'expectedVersion'>
      | null
      | Promise<Omit<ScheduleWriteParams, 'id' | 'expectedVersion'> | null>,
  ): Promise<ScheduleRecord | undefined> {
    const { driver } = this.#runtime;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const current = await driver.scheduleGet({ id });
      const change = await decide(current, this.#writer.now());
      if (change === null) return current;
      const result = await this.#writer.write({ id, expectedVersion: current?.version ?? null, ...change });
      if (result.applied) return result.schedule ?? undefined;
    }
    throw new InvalidOptionError('id', `schedule "${id}" kept changing under this write; try again`);
  }
}
