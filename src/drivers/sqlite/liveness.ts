/**
 * Liveness by observation (SQLite). Processes sharing a file have no common clock, so no
 * process's wall clock decides whether a lease or a leadership is still alive. Instead the
 * observer remembers what it last saw of each running job — its lease token, heartbeat sequence
 * number and stored expiry — and since when, on its own monotonic clock (`livenessNow`). A job
 * is silent for as long as that has not changed; a live worker changes it with every heartbeat,
 * so only a worker that wrote nothing for longer than its lease is ever rescued, whatever the
 * clocks of the processes say. Leadership works the same way with `renewal_seq`.
 *
 * Writes this process makes itself (claims, heartbeats, renewals) are recorded as sightings at
 * once, so within one process a lease lasts exactly `leaseMs` from its last heartbeat; a job
 * claimed by another process is first seen at a sweep and rescued a lease of silence later.
 *
 * Silence while the database was locked by another connection (a backup, a long transaction)
 * is not the workers': their heartbeats waited for the lock too. So a silence counts from the
 * last time this process found the database locked (`lockSeen`), if that is later than the
 * sighting: a lock longer than a lease rescued live workers' jobs the moment it was released, and
 * jobs that had finished ran again.
 */
import type { SqliteContext } from './context.js';

/** What identifies one state of a job's lease: any heartbeat or claim changes it. */
export interface LeaseState {
  token: number;
  seq: number;
  expiresAt: number | null;
}

interface JobSighting extends LeaseState {
  since: number;
  injected: boolean;
}

interface LeaderSighting {
  owner: string;
  seq: number;
  since: number;
  injected: boolean;
}

/** A reading of the liveness clock (see `livenessNow`). */
export interface LivenessReading {
  at: number;
  injected: boolean;
}

/** One driver instance's memory of what it saw and when. */
export class LivenessObserver {
  readonly #jobs = new Map<number, JobSighting>();
  readonly #leaders = new Map<string, LeaderSighting>();
  /** The last time (`livenessNow`, not injected) a call of this process found the database locked. */
  #lockSeenAt = Number.NEGATIVE_INFINITY;

  /** A call of this process just found the database locked by another connection (or waited for it). */
  lockSeen(at: number): void {
    if (at > this.#lockSeenAt) this.#lockSeenAt = at;
  }

  /** Since when a silence seen from `since` counts (see the module comment). */
  #countsFrom(since: number, now: LivenessReading): number {
    return now.injected ? since : Math.max(since, this.#lockSeenAt);
  }

  /** This process just wrote the job's lease state (claim, heartbeat): it is alive as of `seen`. */
  jobWritten(id: number, state: LeaseState, seen: LivenessReading): void {
    this.#jobs.set(id, { ...state, since: seen.at, injected: seen.injected });
  }

  /**
   * How long the job's lease state has stayed as it is now, as this observer saw it; 0 when it
   * changed since the last look (that look starts a new silence).
   */
  jobSilentFor(id: number, state: LeaseState, now: LivenessReading): number {
    const seen = this.#jobs.get(id);
    if (
      seen === undefined ||
      seen.injected !== now.injected ||
      seen.token !== state.token ||
      seen.seq !== state.seq ||
      seen.expiresAt !== state.expiresAt
    ) {
      this.jobWritten(id, state, now);
      return 0;
    }
    return Math.max(0, now.at - this.#countsFrom(seen.since, now));
  }

  /** The job left `running` (or this process lost it): nothing more to watch. */
  forgetJob(id: number): void {
    this.#jobs.delete(id);
  }

  /** Drop what was seen of jobs that are no longer running, so the memory stays bounded. */
  keepOnlyJobs(running: ReadonlySet<number>): void {
    for (const id of this.#jobs.keys()) if (!running.has(id)) this.#jobs.delete(id);
  }

  /** This process just wrote the leadership row (elected or renewed). */
  leaderWritten(name: string, owner: string, seq: number, seen: LivenessReading): void {
    this.#leaders.set(name, { owner, seq, since: seen.at, injected: seen.injected });
  }

  /** How long the leadership row has stayed as it is now, as this observer saw it. */
  leaderSilentFor(name: string, owner: string, seq: number, now: LivenessReading): number {
    const seen = this.#leaders.get(name);
    if (seen === undefined || seen.injected !== now.injected || seen.owner !== owner || seen.seq !== seq) {
      this.leaderWritten(name, owner, seq, now);
      return 0;
    }
    return Math.max(0, now.at - this.#countsFrom(seen.since, now));
  }

  /** The leadership row is gone (resigned). */
  forgetLeader(name: string): void {
    this.#leaders.delete(name);
  }
}

// One observer per driver instance, shared by its area files, without widening SqliteContext.
const observers = new WeakMap<SqliteContext, LivenessObserver>();

/** The observer of the driver instance `ctx` belongs to. */
export function observerOf(ctx: SqliteContext): LivenessObserver {
  let observer = observers.get(ctx);
  if (!observer) {
    observer = new LivenessObserver();
    observers.set(ctx, observer);
  }
  return observer;
}
