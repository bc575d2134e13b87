/**
 * `jobwire worker --tasks ./tasks.js`: run the tasks a module exports in a pool until SIGINT/SIGTERM.
 */
import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyTask, JobwireEvents } from '../../index.js';
import {
  CliError,
  DB,
  HELP,
  intOption,
  JSON_FLAG,
  listOption,
  parseCommandArgs,
  UsageError,
} from '../args.js';
import type { Command, CommandContext } from '../command.js';
import { envFlag, setting } from '../config.js';
import { durationOption } from '../duration.js';
import { safeJson, timeZoneLabel } from '../format.js';
import { whereLoadFailed } from '../load-error.js';
import { logLevelOption } from '../log-level.js';
import { describeDatabase, openClient } from '../open-client.js';
import { EventPrinter, jsonLine, PROGRESS_STEP_PERCENT } from '../output.js';
import { RunStats, renderSummary } from '../run-stats.js';
import { onShutdownSignals } from '../signals.js';
import { type MetricsServer, serveMetrics } from './metrics.js';
import { attachThrottledPrinter } from './worker-failures.js';
import { healthOption } from './worker-health.js';

const HELP_TEXT = `jobwire worker — run the tasks of a module until stopped (or drained, with --once)

Usage
  jobwire worker --tasks <module> [options]

Options (each has an environment variable; a flag wins over it — see docs/configuration.md)
  --tasks <module>     module exporting tasks made with defineTask(): named exports, and/or a
                       default export that is a task, an array of tasks or an object of
                       tasks. Resolved from the current directory; .js/.mjs, or .ts under tsx.
                       $JOBWIRE_TASKS
  --queues <a,b>       queues to serve (default: every queue the tasks name, else "default")
                       $JOBWIRE_QUEUES
  --concurrency <n>    worker slots: jobs run at once (default 10)  $JOBWIRE_CONCURRENCY
  --grace <duration>   on shutdown, how long running jobs may take before they are aborted
                       and released: 10000 (ms), 30s, 2m (default 10s)  $JOBWIRE_GRACE
  --once               run every job that is due, then stop and exit 0 (cron, serverless);
                       jobs not due yet (delayed, or a retry's backoff) stay for the next run
                       $JOBWIRE_ONCE=1
  --no-retention       when this worker leads, it prunes no finished jobs (the leader applies
                       its own retention; by default completed jobs go after 1 day, cancelled
                       after 7, abandoned after 30 — see docs/retention.md). Use it beside an
                       app that keeps its jobs (retention: false)  $JOBWIRE_NO_RETENTION=1
  --delete-completed   delete each job this worker completes as it completes (retention
                       completed: 'immediately'): its job:completed event stays in the log and
                       its count in queueStats; jobs others depend on are kept
                       $JOBWIRE_DELETE_COMPLETED=1
  --health <json|file> queue-health thresholds for when this worker leads (the health option
                       as JSON, inline or in a file): {"queues":{"mail":{"maxPending":100}}}.
                       The leader's own option applies: give every process that may lead the
                       same one (docs/health.md)  $JOBWIRE_HEALTH
  --db <path|url>      database (default: $JOBWIRE_DATABASE_URL, a postgres $DATABASE_URL,
                       else ./jobwire.db)
  --schema <name>      PostgreSQL schema (default $JOBWIRE_SCHEMA, else jobwire)
  --log-level <l>      debug, info, warn or error (default info; debug adds the per-slot
                       worker:* events)  $JOBWIRE_LOG_LEVEL
  --json               one pino-compatible JSON object per line: {"time", "level", "msg",
                       "event", ...payload}; the last line is {"event": "summary", ...}
  --metrics-port <n>   serve Prometheus metrics at http://<host>:<n>/metrics: this worker's
                       counters and histograms plus the cluster gauges (see jobwire metrics)
                       $JOBWIRE_METRICS_PORT
  --metrics-host <a>   address of the metrics server (default 127.0.0.1; 0.0.0.0 for all)
                       $JOBWIRE_METRICS_HOST
  --quiet              print only failures (job:failed, job:abandoned, job:lease-lost,
                       job:rescued, pool:error, service:error) and no summary
  -h, --help           show this help

Output: one line per event (progress throttled to every ${PROGRESS_STEP_PERCENT} % per job), and a summary on exit.
Written to a file or a pipe, lines are never cut; on a terminal they fit its width, and an
error message wraps whole under the event name.

Stopping: SIGINT (Ctrl-C) or SIGTERM stops gracefully — no new jobs are claimed, running jobs
get --grace to finish, the rest are aborted and released for another worker — and the
process then exits with code 0. A second signal exits at once with 128 + the signal number
(130 for SIGINT, 143 for SIGTERM); leases left behind expire and their jobs are rescued.`;

export const workerCommand: Command = {
  name: 'worker',
  summary: 'run the tasks exported by a module (graceful stop on SIGINT/SIGTERM)',
  help: HELP_TEXT,
  run,
};

/** True for a value that came from defineTask(). */
export function isTask(value: unknown): value is AnyTask {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { name?: unknown }).name === 'string' &&
    typeof (value as { handler?: unknown }).handler === 'function'
  );
}

/** Every task a module exports: named exports, and a default task / array / object of tasks. */
export function collectTasks(module: Record<string, unknown>): AnyTask[] {
  const found = new Set<AnyTask>();
  const visit = (value: unknown, depth: number) => {
    if (isTask(value)) found.add(value);
    else if (depth === 0 && Array.isArray(value)) for (const item of value) visit(item, 1);
    else if (
      depth === 0 &&
      value &&
      typeof value === 'object' &&
      Object.getPrototypeOf(value) === Object.prototype
    ) {
      for (const item of Object.values(value)) visit(item, 1);
    }
  };
  for (const [key, value] of Object.entries(module)) {
    if (key === 'default' || Array.isArray(value)) visit(value, 0);
    else if (isTask(value)) found.add(value);
  }
  return [...found];
}

/** Import the user's tasks module. */
export async function loadTasks(path: string): Promise<AnyTask[]> {
  const file = resolve(path);
  if (!existsSync(file)) throw new CliError(`tasks module ${path} not found (looked for ${file})`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && ['.ts', '.mts', '.cts'].includes(extname(file))) {
      throw new CliError(
        `cannot load the TypeScript module ${path} with plain node`,
        'run the CLI under tsx (npx tsx …/jobwire worker …, or node --import tsx), or compile the module to .js',
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    const where = whereLoadFailed(file, error);
    throw new CliError(
      `loading tasks module ${path} failed: ${message}${where ? `\n${where}` : ''}`,
      undefined,
      { cause: error },
    );
  }
  const tasks = collectTasks(module);
  if (tasks.length === 0) {
    throw new CliError(
      `no tasks found in ${path}`,
      'export the values returned by defineTask(): named exports, or a default export array',
    );
  }
  return tasks;
}

async function run(args: string[], context: CommandContext): Promise<number> {
  const { values } = parseCommandArgs('jobwire worker', {
    args,
    options: {
      ...HELP,
      ...DB,
      ...JSON_FLAG,
      tasks: { type: 'string' },
      queues: { type: 'string' },
      concurrency: { type: 'string' },
      grace: { type: 'string' },
      once: { type: 'boolean' },
      'no-retention': { type: 'boolean' },
      health: { type: 'string' },
      'delete-completed': { type: 'boolean' },
      'log-level': { type: 'string' },
      quiet: { type: 'boolean' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
    },
  });
  if (values.help) {
    context.io.out.write(`${HELP_TEXT}\n`);
    return 0;
  }
  const tasksSetting = setting('tasks', values.tasks, 'JOBWIRE_TASKS');
  if (!tasksSetting.value) {
    throw new UsageError(
      '--tasks <module> is required',
      'e.g. jobwire worker --tasks ./dist/tasks.js (or set JOBWIRE_TASKS)',
    );
  }
  const concurrencySetting = setting('concurrency', values.concurrency, 'JOBWIRE_CONCURRENCY');
  const concurrency =
    intOption(concurrencySetting.name, concurrencySetting.value, { min: 1, max: 10_000 }) ?? 10;
  const graceSetting = setting('grace', values.grace, 'JOBWIRE_GRACE');
  const graceMs =
    durationOption(graceSetting.name, graceSetting.value, { min: 0, max: 86_400_000 }) ?? 10_000;
  const portSetting = setting('metrics-port', values['metrics-port'], 'JOBWIRE_METRICS_PORT');
  const metricsPort = intOption(portSetting.name, portSetting.value, { min: 0, max: 65_535 });
  const metricsHost = setting('metrics-host', values['metrics-host'], 'JOBWIRE_METRICS_HOST').value;
  if (metricsHost !== undefined && metricsPort === undefined) {
    throw new UsageError('--metrics-host needs --metrics-port');
  }
  const levelSetting = setting('log-level', values['log-level'], 'JOBWIRE_LOG_LEVEL');
  const level = logLevelOption(levelSetting.value, `--${levelSetting.name}`) ?? 'info';
  const once = values.once === true || envFlag('JOBWIRE_ONCE') === true;
  const tasks = await loadTasks(tasksSetting.value);
  const queues =
    listOption(setting('queues', values.queues, 'JOBWIRE_QUEUES').value) ??
    [...new Set(tasks.map((task) => task.queue ?? 'default'))].sort();

  const printer = new EventPrinter({
    json: values.json === true,
    quiet: values.quiet === true,
    level,
    io: context.io,
  });
  // Retention is the leader's: off here, this worker never prunes what another process keeps.
  const noRetention = values['no-retention'] === true || envFlag('JOBWIRE_NO_RETENTION') === true;
  const deleteCompleted = values['delete-completed'] === true || envFlag('JOBWIRE_DELETE_COMPLETED') === true;
  if (noRetention && deleteCompleted) {
    throw new UsageError(
      '--delete-completed and --no-retention contradict each other',
      '--no-retention keeps every finished job; --delete-completed deletes completed ones as they complete: pick one',
    );
  }
  const health = healthOption(setting('health', values.health, 'JOBWIRE_HEALTH'));
  const { client, target } = await openClient({
    db: values.db,
    schema: values.schema,
    tasks,
    ...(noRetention && { retention: false as const }),
    ...(deleteCompleted && { retention: { completed: 'immediately' as const } }),
    ...(health !== undefined && { health }),
  });
  // The summary is this worker's work: jobs it started, not those its leader enqueued or rescued.
  const stats = new RunStats(Date.now, { countFrom: 'started' });
  client.events.onAny((name, event) => stats.observe(name, event));
  // Failures rate-limited: repeats summed up, and a line when storage answers again (worker-failures.ts).
  const stopPrinting = attachThrottledPrinter(client, printer);
  const cleanups: (() => void)[] = [stopPrinting];
  let stopListening = () => {};
  let metricsServer: MetricsServer | undefined;
  try {
    // Before the pool, so the worker gauges see its slots start.
    if (metricsPort !== undefined) {
      metricsServer = await serveMetrics(client, {
        port: metricsPort,
        host: metricsHost ?? '127.0.0.1',
      });
      // Even --quiet says where: with --metrics-port 0 nothing else tells the port.
      if (printer.quiet) context.io.err.write(`metrics at ${metricsServer.url}\n`);
      else printer.note(`metrics at ${metricsServer.url}`, { indent: false });
    }
    for (const line of [
      `jobwire worker · ${describeDatabase(target)}`,
      `tasks ${tasks.map((t) => t.name).join(', ')}`,
      `queues ${queues.join(',')} · concurrency ${concurrency}`,
      `times in ${timeZoneLabel()} · ${once ? 'stops when drained (--once)' : 'Ctrl-C stops'}`,
    ]) {
      printer.note(line, { indent: false });
    }
    const pool = client.createPool({ queues, concurrency, shutdownGraceMs: graceMs, handleSignals: true });
    const stopped = new Promise<JobwireEvents['pool:stopped']>((resolve) => {
      cleanups.push(client.events.on('pool:stopped', resolve));
    });
    // The pool stops itself on the signal; listening keeps the process alive to close cleanly.
    stopListening = onShutdownSignals();
    await pool.start();
    // --once: every due job has run (or the pool stopped on a signal first).
    if (once) {
      await Promise.race([pool.whenIdle(), stopped]);
      await pool.stop({ reason: 'drained (--once): no due jobs left' });
    }
    await stopped;
    await metricsServer?.close();
    metricsServer = undefined;
    // Close before the summary: services wind down after the last pool (leader:resigned), and
    // the summary must be the last line.
    await client.close();
    stopPrinting();
    if (printer.json) {
      const summary = stats.summary();
      const msg = `summary: ${summary.jobs} jobs, ${summary.completed} completed, ${summary.abandoned} abandoned`;
      context.io.out.write(`${safeJson(jsonLine('info', msg, { event: 'summary', ...summary }))}\n`);
    } else if (!printer.quiet) {
      context.io.out.write(`\n${renderSummary(stats.summary(), printer.paint)}\n`);
    }
    return 0;
  } finally {
    for (const cleanup of cleanups) cleanup();
    await metricsServer?.close();
    await client.close();
    stopListening();
  }
}
