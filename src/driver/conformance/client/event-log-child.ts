/**
 * The other processes of the multi-process suite ('event log processes'): a driver's test
 * program calls `runConformanceChild(open)` and this module plays the role the suite names in
 * `JOBWIRE_CONFORMANCE_ROLE`, with its settings as JSON in `JOBWIRE_CONFORMANCE_ARGS`:
 *
 * - `writer`: runs a pool and enqueues `jobs` jobs of the task `flaky` one by one, at random
 *   intervals; each job fails its first `fail` attempts (0–3, of 3), so jobs complete, retry and
 *   are abandoned while the other writers commit theirs. Prints `ready`, then `enqueued`.
 * - `tail`: tails the log from the cursor on the last line of `out` (or from the start) and
 *   appends one line per event read (see `eventLine`). A line is written before the next event
 *   is read, so after a SIGKILL the file's last line is where to resume.
 * - `subscribe`: a durable subscription named `name` (filtered to `queues` when given) appends
 *   the same lines from its handler (at least once: the event being handled when killed comes
 *   again).
 * - Readers given `dieOn` (event types) SIGKILL themselves right after some of those events
 *   (see `lineWriter`); the suite starts them again.
 *
 * Lines are single `write` calls on a file opened for appending: a SIGKILL loses none that
 * returned and never leaves half of one.
 */
import { createHash } from 'node:crypto';
import { existsSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createJobwire, type Jobwire } from '../../../core/client.js';
import type { LoggedEvent } from '../../../core/event-log/types.js';
import { defineTask } from '../../../core/task.js';
import type { Driver } from '../../driver.js';

/** The task writers run: fails while `job.attempt <= fail`. */
export const FLAKY_TASK = 'flaky';
/** Attempts each flaky job gets. */
export const FLAKY_MAX_ATTEMPTS = 3;
/** The queue the suite's jobs use. */
export const PROCESS_QUEUE = 'evproc';

interface ChildArgs {
  jobs?: number;
  out?: string;
  name?: string;
  queues?: string[];
  /**
   * Readers: SIGKILL this process right after writing the line of an event of one of these
   * types, each time with odds of one in two.
   */
  dieOn?: string[];
}

/**
 * Appends lines to `out`, SIGKILLing the process right after the line of a `dieOn` event (one
 * time in two). `job:failed` is always followed by `job:retrying` or `job:abandoned` written by
 * the same transaction, so dying there makes the reader resume from inside a transaction's events
 * — where a resume that skips or repeats would show.
 */
function lineWriter(out: string, dieOn: readonly string[] = []): (event: LoggedEvent) => void {
  const file = openSync(out, 'a');
  return (event) => {
    writeSync(file, eventLine(event));
    if (dieOn.includes(event.type) && Math.random() < 0.5) process.kill(process.pid, 'SIGKILL');
  };
}

/**
 * One line of a reader's file for `event`: `<cursor> <type> <jobId|-> <attempt|-> <poolId|->
 * <digest>`, the digest a hash of its payload, so any two reads of one event give the same line
 * but for the cursor (which depends on the read).
 */
export function eventLine(event: LoggedEvent): string {
  const data = event.data as { jobId?: unknown; attempt?: unknown; poolId?: unknown };
  const jobId = typeof data.jobId === 'string' ? data.jobId : '-';
  const attempt = typeof data.attempt === 'number' ? String(data.attempt) : '-';
  const poolId = typeof data.poolId === 'string' ? data.poolId : '-';
  const digest = createHash('sha1').update(JSON.stringify(event.data)).digest('hex').slice(0, 16);
  return `${event.cursor} ${event.type} ${jobId} ${attempt} ${poolId} ${digest}\n`;
}

/**
 * Play the role in `JOBWIRE_CONFORMANCE_ROLE` on the driver `open` returns (see the module
 * comment). Never returns for the reader roles: the suite kills the process.
 */
export async function runConformanceChild(open: () => Promise<Driver>): Promise<void> {
  const role = process.env.JOBWIRE_CONFORMANCE_ROLE;
  const args = JSON.parse(process.env.JOBWIRE_CONFORMANCE_ARGS ?? '{}') as ChildArgs;
  const flaky = defineTask<{ fail: number }>({
    name: FLAKY_TASK,
    queue: PROCESS_QUEUE,
    maxAttempts: FLAKY_MAX_ATTEMPTS,
    backoff: { type: 'fixed', delayMs: 20 },
    handler: async ({ fail }, { job }) => {
      // A random run time, so attempts of different processes finish (and commit) out of order.
      await sleep(Math.random() * 20);
      if (job.attempt <= fail) throw new Error(`planned failure ${job.attempt} of ${fail}`);
      return job.attempt;
    },
  });
  const client = await createJobwire({ driver: await open(), tasks: [flaky] });
  if (role === 'writer') return writer(client, args.jobs ?? 10);
  if (role === 'tail') return tail(client, args.out!, lineWriter(args.out!, args.dieOn));
  if (role === 'subscribe')
    return subscribe(client, args.name!, lineWriter(args.out!, args.dieOn), args.queues);
  throw new Error(`unknown conformance child role ${role}`);
}

async function writer(client: Jobwire, jobs: number): Promise<void> {
  const pool = client.createPool({
    queues: [PROCESS_QUEUE],
    concurrency: 3,
    pollIntervalMs: 20,
    handleSignals: false,
  });
  await pool.start();
  process.stdout.write('ready\n');
  for (let i = 0; i < jobs; i++) {
    // 0, 1 and 2 planned failures complete (after retries); 3 is abandoned.
    await client.enqueue(FLAKY_TASK, { fail: [0, 0, 1, 2, 3][Math.floor(Math.random() * 5)]! });
    await sleep(150 + Math.random() * 150);
  }
  process.stdout.write('enqueued\n');
}

/** The cursor on the file's last whole line, dropping a line cut short (there is none in practice). */
function resumeCursor(out: string): string {
  if (!existsSync(out)) return 'start';
  const text = readFileSync(out, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  if (end < text.length) truncateSync(out, Buffer.byteLength(text.slice(0, end)));
  const lines = text.slice(0, end).split('\n').filter(Boolean);
  return lines.length === 0 ? 'start' : lines[lines.length - 1]!.split(' ')[0]!;
}

async function tail(client: Jobwire, out: string, write: (event: LoggedEvent) => void): Promise<void> {
  const after = resumeCursor(out);
  process.stdout.write('ready\n');
  for await (const event of client.events.tail({ after, pollMs: 20 })) write(event);
}

function subscribe(
  client: Jobwire,
  name: string,
  write: (event: LoggedEvent) => void,
  queues: string[] | undefined,
): void {
  // Killed inside the handler, before the cursor moved past the event: it comes again.
  client.events.subscribe(name, write, { pollMs: 20, filter: queues ? { queues } : undefined });
  process.stdout.write('ready\n');
}
