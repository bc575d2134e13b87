/**
 * Graceful shutdown on SIGTERM / SIGINT for every pool that asked for it.
 *
 * First signal: `shutdown:requested`, then every registered pool stops gracefully (stop
 * claiming, let running jobs finish within their grace period, abort and release the rest).
 * When all have stopped, our handlers are removed and the signal is raised again, so the process
 * ends the way it would have without us (unless the application listens to it too).
 * Second signal while stopping: `shutdown:requested` with `forced: true`, every running attempt
 * is aborted and the process exits at once with 128 + the signal number. Leases left behind
 * expire and their jobs are rescued.
 */
import { constants } from 'node:os';
import { ShutdownAbortError } from './errors.js';
import type { EventBus } from './events.js';

/**
 * What a signal needs of a pool, handed over at registration (the pool builds it privately, so
 * aborting everything at once is not part of the pool's public surface).
 */
export interface ShutdownTarget {
  /** Where `shutdown:requested` is reported. */
  readonly events: EventBus;
  readonly shutdownGraceMs: number;
  /** Stop gracefully. */
  stop(options: { reason?: string }): Promise<void>;
  /** Abort every running attempt at once (the second signal). */
  abortNow(reason: Error): void;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
const pools = new Set<ShutdownTarget>();
let installed = false;
let stopping = false;

function onSignal(signal: NodeJS.Signals): void {
  const at = Date.now();
  if (stopping) {
    for (const pool of pools) {
      pool.events.emit('shutdown:requested', { signal, forced: true, graceMs: 0, at });
      pool.abortNow(new ShutdownAbortError());
    }
    process.exit(128 + (constants.signals[signal] ?? 0));
  }
  stopping = true;
  const stopping_ = [...pools];
  for (const pool of stopping_) {
    pool.events.emit('shutdown:requested', {
      signal,
      forced: false,
      graceMs: pool.shutdownGraceMs,
      at,
    });
  }
  void Promise.allSettled(stopping_.map((pool) => pool.stop({ reason: `received ${signal}` }))).then(() => {
    uninstall();
    stopping = false;
    // Re-raise so the default action (or the application's own handler) still happens.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

/** Stop `pool` gracefully when the process receives SIGTERM or SIGINT. */
export function registerForSignals(pool: ShutdownTarget): void {
  pools.add(pool);
  install();
}

/** Forget `pool`; removes the handlers when no pool is left. */
export function unregisterForSignals(pool: ShutdownTarget): void {
  pools.delete(pool);
  if (pools.size === 0 && !stopping) uninstall();
}
