/**
 * The claim loop: claims due jobs in batches (one query per batch, never per job) into a small
 * local buffer and starts them on free slots. It wakes on the driver's notifications, on
 * in-process wake-ups, at the due time of every delayed job, retry or snooze it knows of, and on
 * a slow poll. It also keeps a job's events in order when the job is claimed again before its
 * previous attempt's outcome was reported (see `outcomePending`).
 */
import { CHANNELS, type ClaimedJob, type LogEntry, SUSPECT_INTERRUPTIONS } from '../../driver/driver.js';
import { StorageError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { EpochMs } from '../types.js';
import type { Executor, Slot } from './executor.js';
import { MAX_FINALIZE_BATCH } from './finalizer.js';
import type { PoolSettings } from './options.js';
import { claimLimitFor, prefetchFor } from './prefetch.js';
import { RateWakes } from './rate-wakes.js';

/** Due times a pool remembers; beyond that the latest are left to the poll. */
const MAX_KNOWN_DUE_TIMES = 1000;
/** Wake this much after a due time, so the database's clock has surely reached it too. */
const DUE_SLACK_MS = 2;

/** What the producer needs from the pool. */
export interface ProducerHooks {
  /** Unwritten outcomes (claims pause while storage is behind). */
  finalizerBacklog(): number;
  /** A claim round ended (found jobs, found none, or failed). */
  claimSettled(): void;
  /** Give back jobs claimed while the pool was stopping. */
  giveBack(jobs: ClaimedJob[]): Promise<void>;
  /** Give back suspects beyond the one a pool may hold (not counted as released on stop). */
  returnSuspects(jobs: ClaimedJob[]): void;
  reportError(operation: string, error: unknown, retryInMs: number): void;
}

/** See the module comment. */
export class Producer {
  readonly #runtime: Runtime;
  readonly #settings: PoolSettings;
  readonly #executor: Executor;
  readonly #hooks: ProducerHooks;
  readonly #served: ReadonlySet<string>;
  /** Claims again when a rate limit allows the next start (rate-wakes.ts). */
  readonly #rateWakes: RateWakes;
  #buffer: ClaimedJob[] = [];
  /**
   * Jobs whose outcome write is in flight, and jobs claimed again before that write's reply was
   * read (a retry due at once, claimed on another connection whose reply arrived first). A
   * job's events must read in order — failed, retrying, then started again — so the new attempt
   * waits for the old one's outcome to be reported.
   */
  readonly outcomePending = new Set<string>();
  readonly #heldBack = new Map<string, ClaimedJob>();
  /**
   * Jobs an enqueue's write started for this pool (direct-starts.ts) while a claim was in flight:
   * they join the buffer after that claim's jobs, which are older.
   */
  #directWaiting: ClaimedJob[] = [];
  #running = false;
  #claiming = false;
  /** A wake-up came while a claim was in flight: that claim's answer may predate the new jobs. */
  #wokenWhileClaiming = false;
  #fillScheduled = false;
  #mayHaveWork = true;
  #claimFailures = 0;
  #claimRetryAt = 0;
  /** The last claim failed because storage was unavailable (an outage, not a refusal). */
  #claimFailureUnavailable = false;
  /** Claims run beside the jobs (not on this thread): claiming ahead keeps the slots busy. */
  readonly #claimAhead: boolean;
  #pollTimer: NodeJS.Timeout | undefined;
  /** Known due times, ascending, without duplicates. */
  #dueTimes: EpochMs[] = [];
  #dueTimer: NodeJS.Timeout | undefined;
  #dueTimerAt = Number.POSITIVE_INFINITY;
  #unlisteners: (() => void)[] = [];

  constructor(runtime: Runtime, settings: PoolSettings, executor: Executor, hooks: ProducerHooks) {
    this.#runtime = runtime;
    this.#settings = settings;
    this.#executor = executor;
    this.#hooks = hooks;
    this.#served = new Set(settings.queues);
    this.#rateWakes = new RateWakes(this.#served);
    this.#claimAhead = !runtime.driver.capabilities.blocksEventLoop;
  }

  /** Jobs claimed but not started (buffered or held back). */
  get bufferedCount(): number {
    return this.#buffer.length + this.#heldBack.size + this.#directWaiting.length;
  }

  /** Claimed jobs wait in the buffer, ready to start on a free slot (held-back ones aside). */
  get hasBuffered(): boolean {
    return this.#buffer.length > 0;
  }

  /** Claiming is not known to be pointless: the last claim filled up, or a wake-up came since. */
  get mayHaveWork(): boolean {
    return this.#mayHaveWork;
  }

  /** A claim is in flight. */
  get claiming(): boolean {
    return this.#claiming;
  }

  /** Begin claiming: listen to notifications and wake-ups, poll, and claim at once. */
  start(): void {
    this.#running = true;
    const { driver, wakeups } = this.#runtime;
    this.#unlisteners.push(
      driver.notifier.listen(CHANNELS.jobAvailable, (queue) => {
        if (queue === '*' || this.#served.has(queue)) this.wake(true);
      }),
      wakeups.subscribe((queue, dueAt) => {
        if (!this.#served.has(queue)) return;
        if (dueAt === undefined) this.wake(true);
        else this.wakeAt(dueAt);
      }),
    );
    this.#pollTimer = setInterval(() => this.wake(), this.#settings.pollMs);
    // Claims made before the rules were read could not plan their wake-ups: claim once more.
    void this.#rateWakes.load(driver).then((found) => {
      if (found) this.wake();
    });
    this.wake();
  }

  /** Stop claiming; returns the jobs claimed but not started, for the pool to give back. */
  stop(): ClaimedJob[] {
    this.#running = false;
    clearInterval(this.#pollTimer);
    clearTimeout(this.#dueTimer);
    this.#dueTimer = undefined;
    this.#dueTimes = [];
    for (const unlisten of this.#unlisteners) unlisten();
    this.#unlisteners = [];
    const unstarted = [...this.#buffer, ...this.#heldBack.values(), ...this.#directWaiting];
    this.#buffer = [];
    this.#heldBack.clear();
    this.#directWaiting = [];
    return unstarted;
  }

  /** Jobs may be due: claim soon (`urgent`: at once when idle, a job was just enqueued). */
  wake(urgent = false): void {
    this.#mayHaveWork = true;
    if (this.#claiming) this.#wokenWhileClaiming = true;
    this.scheduleFill(urgent);
  }

  /**
   * Storage answered again (a heartbeat or an outcome write succeeded): after claims failed in an
   * outage, claim now instead of at the end of their backoff (up to 5 s), so work resumes with
   * the database. Failures of another kind keep their backoff.
   */
  retryNow(): void {
    if (!this.#claimFailureUnavailable || Date.now() >= this.#claimRetryAt) return;
    this.#claimRetryAt = 0;
    this.wake();
  }

  /** A job of a served queue is due at `dueAt`: claim then, not at the next poll. */
  wakeAt(dueAt: EpochMs): void {
    if (!this.#running) return;
    const now = this.#runtime.clock.now();
    if (dueAt <= now) {
      this.wake(true);
      return;
    }
    const times = this.#dueTimes;
    let low = 0;
    let high = times.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (times[mid]! < dueAt) low = mid + 1;
      else high = mid;
    }
    if (times[low] === dueAt) return;
    if (low >= MAX_KNOWN_DUE_TIMES) return;
    times.splice(low, 0, dueAt);
    if (times.length > MAX_KNOWN_DUE_TIMES) times.pop();
    this.#armDueTimer(now);
  }

  /** Take the next buffered job for a slot that just freed up. */
  takeNext(): ClaimedJob | undefined {
    return this.#running ? this.#buffer.shift() : undefined;
  }

  /**
   * Start a job an enqueue's write started for this pool on `slot`, the slot set aside for it —
   * unless older claimed jobs are still to start, or may be on their way (a claim in flight):
   * then it starts after them, and `slot` takes the next buffered job.
   */
  startDirect(job: ClaimedJob, slot: Slot): void {
    if (!this.#claiming && this.#buffer.length === 0) {
      this.#executor.start(job, slot);
      return;
    }
    if (this.#claiming) this.#directWaiting.push(job);
    else this.#buffer.push(job);
    this.#dispatch();
  }

  /** Drop a buffered job whose lease is gone. */
  dropBuffered(jobId: string): void {
    const index = this.#buffer.findIndex((job) => job.id === jobId);
    if (index >= 0) this.#buffer.splice(index, 1);
    this.#directWaiting = this.#directWaiting.filter((job) => job.id !== jobId);
  }

  /** Leases of buffered jobs (the lease keeper extends them). */
  *bufferedLeases(): Iterable<ClaimedJob> {
    yield* this.#buffer;
    yield* this.#directWaiting;
  }

  /** The previous attempt's outcome of `jobId` was reported: start its held-back claim now. */
  outcomeReported(jobId: string): void {
    this.outcomePending.delete(jobId);
    const job = this.#heldBack.get(jobId);
    if (!job) return;
    this.#heldBack.delete(jobId);
    this.#buffer.unshift(job);
    this.#dispatch();
  }

  /** Claim soon if there may be work. */
  scheduleFill(urgent = false): void {
    if (this.#fillScheduled || !this.#running) return;
    this.#fillScheduled = true;
    const run = () => {
      this.#fillScheduled = false;
      void this.#fill();
    };
    // A wake-up (a job was just enqueued) finding the pool idle claims at once: lowest latency.
    // Every other round waits for a macrotask, which keeps timers and I/O served while a backlog
    // drains — claim rounds chained by microtasks alone would starve the event loop.
    if (urgent && this.#executor.running.size === 0 && this.#buffer.length === 0 && !this.#claiming)
      queueMicrotask(run);
    else setImmediate(run);
  }

  #armDueTimer(now: EpochMs): void {
    const next = this.#dueTimes[0];
    if (next === undefined || this.#dueTimerAt <= next) return;
    clearTimeout(this.#dueTimer);
    // Clamped to the poll interval: a far due time is re-checked then (the clock may have moved).
    const delay = Math.min(next - now + DUE_SLACK_MS, this.#settings.pollMs);
    this.#dueTimerAt = now + delay;
    this.#dueTimer = setTimeout(() => this.#onDueTimer(), delay);
  }

  #onDueTimer(): void {
    this.#dueTimer = undefined;
    this.#dueTimerAt = Number.POSITIVE_INFINITY;
    const now = this.#runtime.clock.now();
    let due = 0;
    while (due < this.#dueTimes.length && this.#dueTimes[due]! <= now) due++;
    if (due > 0) {
      this.#dueTimes.splice(0, due);
      this.wake(true);
    }
    this.#armDueTimer(now);
  }

  /** The flow-control holds a claim began or ended (`flow:held`, `flow:unheld`), on the bus. */
  readonly #emitFlowEvents = (entries: readonly LogEntry[]): void => {
    const { events } = this.#runtime;
    for (const entry of entries) {
      if (entry.type === 'flow:held') {
        const delay = this.#rateWakes.held(
          entry.data as { limit: string; max: number; intervalMs: number | null },
        );
        if (delay !== undefined) this.wakeAt(this.#runtime.clock.now() + delay);
      }
      // The driver builds them with the shared builders of driver/flow.ts (the catalogue's payloads).
      events.emit(entry.type as 'flow:held' | 'flow:unheld', entry.data as never);
    }
  };

  async #fill(): Promise<void> {
    this.#dispatch();
    if (this.#claiming || !this.#running || !this.#mayHaveWork) return;
    const { concurrency } = this.#settings;
    // Slots set aside for direct starts count as busy: their jobs come with the enqueue.
    const running = this.#executor.running.size + this.#executor.reservedCount;
    const { prefetch } = this.#settings;
    const { meanRunMs } = this.#executor;
    const capacity = concurrency + prefetchFor(prefetch, meanRunMs, concurrency, this.#claimAhead);
    const want = capacity - running - this.#buffer.length;
    // Claim when a slot would otherwise idle, or when the buffer is at most half full. Where
    // claims run beside the jobs, that includes while every slot is busy, so that the next jobs
    // arrive before the buffer runs dry (prefetch.ts); elsewhere a claim would stop the slots
    // anyway, so it waits for a free one.
    const busy = concurrency - running <= 0;
    if (want <= 0 || (this.#buffer.length > 0 && (want < capacity / 2 || (busy && !this.#claimAhead)))) {
      return;
    }
    const limit = claimLimitFor(prefetch, meanRunMs, want);
    // Storage is behind: don't take more. Beyond one batch's worth of unwritten outcomes (one
    // more finalize statement) extra claims only hold leases other processes could run, and each
    // held job is one more running row for every process's fenced writes and heartbeats.
    if (this.#hooks.finalizerBacklog() >= Math.min(capacity * 20, MAX_FINALIZE_BATCH)) return;
    if (Date.now() < this.#claimRetryAt) return;
    this.#claiming = true;
    this.#wokenWhileClaiming = false;
    let claimed: ClaimedJob[] = [];
    // At most one suspect (a job interrupted SUSPECT_INTERRUPTIONS times) in this pool at once.
    const excludeSuspects = this.#holdsSuspect();
    try {
      claimed = await this.#runtime.driver.jobClaim({
        queues: this.#settings.queues,
        limit,
        leaseMs: this.#settings.leaseMs,
        poolId: this.#settings.id,
        log: this.#runtime.eventLog,
        onFlowEvents: this.#emitFlowEvents,
        excludeSuspects,
        now: this.#runtime.dbNow(),
      });
      this.#claimFailures = 0;
      this.#mayHaveWork = claimed.length === limit || this.#wokenWhileClaiming;
      const rateDelay = this.#rateWakes.afterClaim(claimed.length, limit);
      if (rateDelay !== undefined) this.wakeAt(this.#runtime.clock.now() + rateDelay);
      if (!excludeSuspects) claimed = this.#keepOneSuspect(claimed);
      // An enqueue or retry of this process may not have reported its jobs yet: start them after it has.
      // Bounded by a heartbeat period, as the claimed jobs are not heart-beaten while they wait.
      const { inFlight } = this.#runtime;
      if (inFlight.size > 0 && claimed.some((job) => job.attempt === 1 && inFlight.mayHold(job))) {
        await inFlight.settled(this.#settings.heartbeatMs);
      }
    } catch (error) {
      this.#claimFailures++;
      this.#claimFailureUnavailable = error instanceof StorageError && error.kind === 'unavailable';
      const retryInMs = Math.min(5000, 50 * 2 ** Math.min(this.#claimFailures, 7));
      this.#claimRetryAt = Date.now() + retryInMs;
      this.#hooks.reportError('claim', error, retryInMs);
      // The timer ends the backoff itself: timers may fire a millisecond before Date.now() says
      // the backoff is over (2.5 % of them here), and a claim refused by the gate then waited
      // for the next poll.
      setTimeout(() => {
        this.#claimRetryAt = 0;
        this.wake();
      }, retryInMs).unref();
    } finally {
      this.#claiming = false;
    }
    if (!this.#running) {
      // Stopped while claiming: give the jobs straight back.
      if (claimed.length) await this.#hooks.giveBack(claimed);
      return;
    }
    for (const job of claimed) {
      // Its previous attempt's outcome is written but not yet reported: start it after that.
      if (this.outcomePending.has(job.id)) this.#heldBack.set(job.id, job);
      else this.#buffer.push(job);
    }
    // Started by enqueues while this claim was in flight: after the claim's older jobs.
    if (this.#directWaiting.length > 0) {
      this.#buffer.push(...this.#directWaiting);
      this.#directWaiting = [];
    }
    this.#dispatch();
    if (this.#mayHaveWork) this.scheduleFill();
    this.#hooks.claimSettled();
  }

  /**
   * Whether this pool holds a suspect (`SUSPECT_INTERRUPTIONS`, records.ts): buffered, held back
   * or running. Then its claims leave suspects to other pools, so two suspects never share a
   * process and a poison job cannot take the same neighbours down until their budget runs out.
   */
  #holdsSuspect(): boolean {
    for (const job of this.#buffer) if (job.interruptions >= SUSPECT_INTERRUPTIONS) return true;
    for (const job of this.#heldBack.values()) if (job.interruptions >= SUSPECT_INTERRUPTIONS) return true;
    for (const attempt of this.#executor.running.values()) {
      if (attempt.job.interruptions >= SUSPECT_INTERRUPTIONS) return true;
    }
    return false;
  }

  /**
   * A claim that could take suspects keeps the first and gives the others back at once (without
   * an interruption): they stay at the head of the queue for other pools, and this pool's next
   * claims leave them out. Only right after a crash do several suspects come together.
   */
  #keepOneSuspect(claimed: ClaimedJob[]): ClaimedJob[] {
    let kept = false;
    const extra: ClaimedJob[] = [];
    const keep = claimed.filter((job) => {
      if (job.interruptions < SUSPECT_INTERRUPTIONS) return true;
      if (!kept) {
        kept = true;
        return true;
      }
      extra.push(job);
      return false;
    });
    if (extra.length === 0) return claimed;
    this.#hooks.returnSuspects(extra);
    return keep;
  }

  /** Start buffered jobs on free slots. */
  #dispatch(): void {
    if (this.#buffer.length === 0 || !this.#running) return;
    for (const slot of this.#executor.slots) {
      if (slot.attempt !== null || slot.reserved) continue;
      const job = this.#buffer.shift();
      if (!job) break;
      this.#executor.start(job, slot);
    }
  }
}
