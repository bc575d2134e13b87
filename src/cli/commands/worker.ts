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
import { describeDatabase, openClient } from '../open-client.js';
import { EventPrinter, PROGRESS_STEP_PERCENT } from '../output.js';
import { RunStats, renderSummary } from '../run-stats.js';
import { onShutdownSignals } from '../signals.js';
import { type MetricsServer, serveMetrics } from './metrics.js';

const HELP_TEXT = `jobwire worker — run the tasks of a module until stopped

Usage
  jobwire worker --tasks <module> [options]

Options
  --tasks <module>     module exporting tasks made with defineTask(): named exports, and/or a
                       default export that is a task, an array of tasks or an object of tasks.
                       Resolved from the current directory; .js/.mjs, or .ts when run with tsx.
  --queues <a,b>       queues to serve (default: every queue the tasks name, else "default")
  --concurrency <n>    worker slots: jobs run at once (default 10)
  --grace <ms>         on shutdown, how long running jobs may take before they are aborted
                       and released (default 10000)
  --db <path|url>      database (default $DATABASE_URL if postgres://, else ./jobwire.db)
  --json               one JSON object per line: {"event": name, ...payload}; the last line
                       is {"event": "summary", ...}
  --metrics-port <n>   serve Prometheus metrics at http://<host>:<n>/metrics: this worker's
                       counters and histograms plus the cluster gauges (see jobwire metrics)
  --metrics-host <a>   address of the metrics server (default 127.0.0.1; 0.0.0.0 for all)
  --quiet              print only failures (job:failed, job:abandoned, job:lease-lost,
                       job:rescued, pool:error, service:error) and no summary
  -h, --help           show this help

Output: one line per event (progress throttled to every ${PROGRESS_STEP_PERCENT} % per job), and a summary on exit.

Stopping: SIGINT (Ctrl-C) or SIGTERM stops gracefully — no new jobs are claimed, running jobs
get --grace ms to finish, the rest are aborted and released for another worker — and the
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
    throw new CliError(`loading tasks module ${path} failed: ${message}`, undefined, { cause: error });
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
      quiet: { type: 'boolean' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
    },
  });
  if (values.help) {
    context.io.out.write(`${HELP_TEXT}\n`);
    return 0;
  }
  if (!values.tasks) {
    throw new UsageError('--tasks <module> is required', 'e.g. jobwire worker --tasks ./dist/tasks.js');
  }
  const concurrency = intOption('concurrency', values.concurrency, { min: 1, max: 10_000 }) ?? 10;
  const graceMs = intOption('grace', values.grace, { min: 0, max: 86_400_000 }) ?? 10_000;
  const metricsPort = intOption('metrics-port', values['metrics-port'], { min: 0, max: 65_535 });
  if (values['metrics-host'] !== undefined && metricsPort === undefined) {
    throw new UsageError('--metrics-host needs --metrics-port');
  }
  const tasks = await loadTasks(values.tasks);
  const queues =
    listOption(values.queues) ?? [...new Set(tasks.map((task) => task.queue ?? 'default'))].sort();

  const printer = new EventPrinter({
    json: values.json === true,
    quiet: values.quiet === true,
    io: context.io,
  });
  const { client, target } = await openClient({ db: values.db, tasks });
  const stats = new RunStats();
  client.events.onAny((name, event) => stats.observe(name, event));
  printer.attach(client);
  const cleanups: (() => void)[] = [];
  let stopListening = () => {};
  let metricsServer: MetricsServer | undefined;
  try {
    // Before the pool, so the worker gauges see its slots start.
    if (metricsPort !== undefined) {
      metricsServer = await serveMetrics(client, {
        port: metricsPort,
        host: values['metrics-host'] ?? '127.0.0.1',
      });
      // Even --quiet says where: with --metrics-port 0 nothing else tells the port.
      if (printer.quiet) context.io.err.write(`metrics at ${metricsServer.url}\n`);
      else printer.note(`metrics at ${metricsServer.url}`, { indent: false });
    }
    printer.note(
      `jobwire worker · ${describeDatabase(target)} · tasks ${tasks.map((t) => t.name).join(', ')} · ` +
        `queues ${queues.join(',')} · concurrency ${concurrency} · Ctrl-C to stop`,
      { indent: false },
    );
    const pool = client.createPool({ queues, concurrency, shutdownGraceMs: graceMs, handleSignals: true });
    const stopped = new Promise<JobwireEvents['pool:stopped']>((resolve) => {
      cleanups.push(client.events.on('pool:stopped', resolve));
    });
    // The pool stops itself on the signal; listening keeps the process alive to close cleanly.
    stopListening = onShutdownSignals();
    await pool.start();
    await stopped;
    await metricsServer?.close();
    metricsServer = undefined;
    // Close before the summary: services wind down after the last pool (leader:resigned), and
    // the summary must be the last line.
    await client.close();
    if (printer.json) {
      context.io.out.write(`${JSON.stringify({ event: 'summary', ...stats.summary() })}\n`);
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
