/**
 * The failures `jobwire worker` prints, rate-limited. During a database outage every process
 * fails its leader election every second and its pool operations with backoff: 60 to 80
 * identical lines a minute that bury everything else and never say when storage came back.
 * Here each distinct failure (event, pool or service, operation and message) is printed the
 * first time; repeats are counted and summed up in one line every `summaryEveryMs`
 * (`failures:repeated`: "still failing: 30 more in the last 30 s …"); and once storage
 * failures stop, a read that succeeds confirms it and one line says so (`storage:recovered`:
 * "storage answers again after 61 s …"), after which a new failure is printed again.
 *
 * Storage has recovered when no storage failure (a `StorageError`) came for a quiet period —
 * twice the longest gap between two of them in this run of failures, 3 s at least, 30 s at
 * most, so a slow retry cadence (a SQLite lock's busy wait) is not mistaken for a recovery —
 * and a read of the schema version that began after the last failure succeeded (a hung
 * connection makes it wait with the rest).
 */
import type { Jobwire } from '../../index.js';
import { clockTime, pad, safeJson } from '../format.js';
import { EVENT_WIDTH } from '../format-event.js';
import type { CliLogLevel } from '../log-level.js';
import { type EventPrinter, jsonLine } from '../output.js';

/** How often suppressed repeats are summed up, in ms. */
export const FAILURE_SUMMARY_EVERY_MS = 30_000;
/** The shortest quiet period after which storage may be declared back, in ms. */
const MIN_QUIET_MS = 3000;
const MAX_QUIET_MS = 30_000;
const TICK_MS = 1000;

interface FailureEvent {
  poolId?: string;
  service?: string;
  operation: string;
  error: { name: string; message: string };
}

/** A run of storage failures: from the first until storage answers again. */
interface Streak {
  since: number;
  lastAt: number;
  /** Longest gap between two storage failures of this run. */
  maxGapMs: number;
  failures: number;
  suppressed: number;
}

/** See the module comment. */
export class FailureThrottle {
  readonly #printer: EventPrinter;
  readonly #probe: () => Promise<unknown>;
  readonly #now: () => number;
  readonly #summaryEveryMs: number;
  /** Failures already printed, by key, with when each last came. */
  readonly #printed = new Map<string, number>();
  /** Repeats not printed since the last summary, by "source operation". */
  readonly #repeats = new Map<string, number>();
  #repeatsSince = 0;
  #lastMessage = '';
  #streak: Streak | undefined;
  #probing = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    printer: EventPrinter,
    probe: () => Promise<unknown>,
    options: { now?: () => number; summaryEveryMs?: number } = {},
  ) {
    this.#printer = printer;
    this.#probe = probe;
    this.#now = options.now ?? Date.now;
    this.#summaryEveryMs = options.summaryEveryMs ?? FAILURE_SUMMARY_EVERY_MS;
  }

  /** Print `event` through the printer, unless it repeats a failure already printed. */
  print(name: string, event: Record<string, unknown>): void {
    if (this.#closed || (name !== 'pool:error' && name !== 'service:error')) {
      this.#printer.print(name, event);
      return;
    }
    const failure = event as unknown as FailureEvent;
    const now = this.#now();
    const source = failure.service ?? `pool ${failure.poolId ?? ''}`.trim();
    if (failure.error?.name === 'StorageError') this.#storageFailed(now);
    const key = `${name}|${source}|${failure.operation}|${failure.error?.message}`;
    const seen = this.#printed.has(key);
    this.#printed.set(key, now);
    this.#start();
    if (!seen) {
      this.#printer.print(name, event);
      return;
    }
    const label = `${failure.service ?? 'pool'} ${failure.operation}`;
    if (this.#repeats.size === 0) this.#repeatsSince = now;
    this.#repeats.set(label, (this.#repeats.get(label) ?? 0) + 1);
    this.#lastMessage = failure.error?.message ?? '';
    if (this.#streak) this.#streak.suppressed += 1;
  }

  /** Stop the timer (the worker is stopping); what is still counted is summed up now. */
  close(): void {
    if (this.#closed) return;
    this.#flushRepeats(this.#now());
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #storageFailed(now: number): void {
    const streak = this.#streak;
    if (streak === undefined) {
      this.#streak = { since: now, lastAt: now, maxGapMs: 0, failures: 1, suppressed: 0 };
      return;
    }
    streak.maxGapMs = Math.max(streak.maxGapMs, now - streak.lastAt);
    streak.lastAt = now;
    streak.failures += 1;
  }

  #start(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    this.#timer.unref();
  }

  #tick(): void {
    const now = this.#now();
    if (this.#repeats.size > 0 && now - this.#repeatsSince >= this.#summaryEveryMs) this.#flushRepeats(now);
    const streak = this.#streak;
    if (streak !== undefined) {
      const quietMs = Math.min(MAX_QUIET_MS, Math.max(MIN_QUIET_MS, 2 * streak.maxGapMs));
      if (!this.#probing && now - streak.lastAt >= quietMs) void this.#confirmRecovery(streak);
      return;
    }
    // No outage in progress: forget failures that stopped, so that their return is printed.
    for (const [key, at] of this.#printed) if (now - at >= this.#summaryEveryMs) this.#printed.delete(key);
    if (this.#printed.size === 0 && this.#repeats.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  async #confirmRecovery(streak: Streak): Promise<void> {
    this.#probing = true;
    const lastAt = streak.lastAt;
    try {
      await this.#probe();
    } catch {
      return; // Still down: the next quiet tick tries again.
    } finally {
      this.#probing = false;
    }
    // A failure while the read was in flight: not back yet.
    if (this.#closed || this.#streak !== streak || streak.lastAt !== lastAt) return;
    const now = this.#now();
    const suppressed = streak.suppressed;
    this.#repeats.clear();
    this.#printed.clear();
    this.#streak = undefined;
    const seconds = Math.max(1, Math.round((now - streak.since) / 1000));
    const failures = `${streak.failures} storage failure${streak.failures === 1 ? '' : 's'}`;
    this.#line(
      'info',
      'storage:recovered',
      `storage answers again after ${seconds} s (failing since ${clockTime(streak.since)}; ${failures}, ${suppressed} repeats not printed)`,
      {
        downForMs: now - streak.since,
        since: streak.since,
        failures: streak.failures,
        notPrinted: suppressed,
      },
    );
  }

  #flushRepeats(now: number): void {
    if (this.#repeats.size === 0) return;
    const total = [...this.#repeats.values()].reduce((sum, n) => sum + n, 0);
    const seconds = Math.max(1, Math.round((now - this.#repeatsSince) / 1000));
    const which = [...this.#repeats].map(([label, n]) => `${label} ×${n}`).join(', ');
    const repeats = Object.fromEntries(this.#repeats);
    this.#repeats.clear();
    this.#line(
      'warn',
      'failures:repeated',
      `still failing: ${total} more in the last ${seconds} s, not printed (${which}); last: ${this.#lastMessage}`,
      { repeats, total, periodMs: now - this.#repeatsSince },
    );
  }

  #line(level: CliLogLevel, name: string, text: string, fields: Record<string, unknown>): void {
    // As visible as the failures themselves (at error, so every --log-level shows them), also with --quiet.
    const printer = this.#printer;
    if (printer.json) {
      printer.io.out.write(`${safeJson(jsonLine(level, text, { event: name, ...fields }))}\n`);
      return;
    }
    const paint = printer.paint;
    const style = level === 'info' ? 'green' : 'yellow';
    printer.io.out.write(
      `${paint('gray', clockTime(this.#now()))} ${paint(style, pad(name, EVENT_WIDTH))} ${text}\n`,
    );
  }
}

/** Print every event of `client` through `printer`, failures rate-limited. Returns a function that stops. */
export function attachThrottledPrinter(client: Jobwire, printer: EventPrinter): () => void {
  const throttle = new FailureThrottle(printer, () => client.schemaVersion());
  const off = client.events.onAny((name, event) =>
    throttle.print(name, event as unknown as Record<string, unknown>),
  );
  return () => {
    off();
    throttle.close();
  };
}
