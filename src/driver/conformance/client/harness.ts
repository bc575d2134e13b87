/**
 * Helpers shared by the client/pool suites: a manual clock, deferred promises, event recording,
 * and a `withClient` that builds a client on a fresh database and always cleans up.
 */
import type { TestContext } from 'node:test';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { createJobwire, type Jobwire, type JobwireOptions } from '../../../core/client.js';
import type { JobwireEventName, JobwireEvents } from '../../../core/events.js';
import type { AnyTaskRef } from '../../../core/task.js';
import type { Clock } from '../../../core/types.js';
import type { Driver } from '../../driver.js';
import type { ConformanceDatabase, ConformanceDatabases } from './databases.js';

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  constructor(public current = Date.UTC(2030, 0, 1)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/** A promise with its resolve/reject exposed. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Every event a client emitted, in order. */
export function recordEvents(client: Jobwire) {
  const events: { name: JobwireEventName; event: JobwireEvents[JobwireEventName] }[] = [];
  client.events.onAny((name, event) => {
    events.push({ name, event });
  });
  return {
    all: events,
    names: () => events.map((e) => e.name),
    of<K extends JobwireEventName>(name: K): JobwireEvents[K][] {
      return events.filter((e) => e.name === name).map((e) => e.event as JobwireEvents[K]);
    },
  };
}

/** Resolve when `predicate` holds, polling every 5 ms; reject after `timeoutMs`. */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolve on the next emission of `name` that matches `filter`. */
export function nextEvent<K extends JobwireEventName>(
  client: Jobwire,
  name: K,
  filter: (event: JobwireEvents[K]) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<JobwireEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${name} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = client.events.on(name, (event) => {
      if (!filter(event)) return;
      clearTimeout(timer);
      off();
      resolve(event);
    });
  });
}

/** The driver methods that return a promise (the ones a test can watch). */
type AsyncDriverMethod = {
  [K in keyof Driver]: Driver[K] extends (...args: never[]) => Promise<unknown> ? K : never;
}[keyof Driver];

/**
 * Wrap `driver` so a test can wait for a round of `method` instead of sleeping: `nextCall()`
 * resolves with the result of the first call that STARTS after `nextCall()` was called — proof
 * that, say, a claim round ran after the moment of interest, and what it returned.
 */
export function watchCalls<M extends AsyncDriverMethod>(driver: Driver, method: M) {
  type Result = Awaited<ReturnType<Driver[M]>>;
  let waiting: { resolve: (result: Result) => void; reject: (error: unknown) => void }[] = [];
  let calls = 0;
  const watched = new Proxy(driver, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop !== method) return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        calls++;
        // Only the waiters registered before this call began are answered by it.
        const answers = waiting;
        waiting = [];
        try {
          const result = (await (value as (...a: unknown[]) => Promise<Result>).apply(
            target,
            args,
          )) as Result;
          for (const waiter of answers) waiter.resolve(result);
          return result;
        } catch (error) {
          for (const waiter of answers) waiter.reject(error);
          throw error;
        }
      };
    },
  });
  return {
    driver: watched,
    /** How many calls of `method` have started. */
    calls: () => calls,
    /** The result of the next call that starts from now on; rejects after `timeoutMs`. */
    nextCall(timeoutMs = 10_000): Promise<Result> {
      return new Promise<Result>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${String(method)} call within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiting.push({
          resolve: (result) => {
            clearTimeout(timer);
            resolve(result);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
      });
    },
  };
}

/**
 * A client on a fresh database of `factory`, closed and dropped when the test ends.
 * `wrapDriver` lets a test watch or alter the driver the client uses (see `watchCalls`).
 */
export async function withClient(
  t: TestContext,
  factory: ConformanceDatabases,
  {
    wrapDriver = (driver) => driver,
    ...options
  }: Omit<JobwireOptions, 'driver'> & {
    tasks?: readonly AnyTaskRef[];
    wrapDriver?: (driver: Driver) => Driver;
  } = {},
): Promise<{ client: Jobwire; db: ConformanceDatabase }> {
  const db = await factory.create();
  const client = await createJobwire({ ...options, driver: wrapDriver(await db.open()) });
  t.after(async () => {
    await client.close();
    await db.cleanup();
  });
  return { client, db };
}

/** Pool options for tests: fast polling, no process signal handlers. */
export const testPool = { pollIntervalMs: 20, handleSignals: false } as const;

/** Checks one field of a payload: the field's value as the task sees it, or what is wrong. */
export type FieldRule<Output> = (value: unknown) => { value: Output } | { issue: string };

/** A field that must be a number (not NaN). */
export const isNumber: FieldRule<number> = (value) =>
  typeof value === 'number' && !Number.isNaN(value) ? { value } : { issue: 'expected a number' };

/** A field that becomes a number with `Number(value)`, as a form or query string would send it. */
export const coercesToNumber: FieldRule<number> = (value) => {
  const coerced = Number(value);
  return Number.isNaN(coerced) ? { issue: 'expected a number' } : { value: coerced };
};

/** A field that must be a string shaped like an e-mail address. */
export const isEmail: FieldRule<string> = (value) =>
  typeof value === 'string' && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)
    ? { value }
    : { issue: 'invalid email address' };

/**
 * A Standard Schema for an object payload with the given fields (others are dropped), written by
 * hand so the shipped suites need no schema library: a driver author's project may have none.
 * Every failing field is one issue whose path is the field name.
 */
export function objectSchema<Shape extends Record<string, FieldRule<unknown>>>(
  shape: Shape,
): StandardSchemaV1<{ [K in keyof Shape]: Shape[K] extends FieldRule<infer Output> ? Output : never }> {
  type Payload = { [K in keyof Shape]: Shape[K] extends FieldRule<infer Output> ? Output : never };
  return {
    '~standard': {
      version: 1,
      vendor: 'jobwire-conformance',
      validate(input) {
        if (typeof input !== 'object' || input === null || Array.isArray(input)) {
          return { issues: [{ message: 'expected an object' }] };
        }
        const output: Record<string, unknown> = {};
        const issues: StandardSchemaV1.Issue[] = [];
        for (const [key, rule] of Object.entries(shape)) {
          const checked = rule((input as Record<string, unknown>)[key]);
          if ('issue' in checked) issues.push({ message: checked.issue, path: [key] });
          else output[key] = checked.value;
        }
        return issues.length > 0 ? { issues } : { value: output as Payload };
      },
    },
  };
}
