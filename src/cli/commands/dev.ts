/**
 * `jobwire dev`: the live demo. SQLite, the example tasks, a pool, and every event as it happens.
 */
import type { JobState, Jobwire, JobwireEvents } from '../../index.js';
import { DB, HELP, intOption, JSON_FLAG, numberOption, parseCommandArgs, UsageError } from '../args.js';
import type { Command, CommandContext } from '../command.js';
import { setting } from '../config.js';
import { LogHealthReader } from '../demo/log-reader.js';
import {
  bannerLines,
  type DemoCounts,
  DemoProgress,
  databaseCheckLines,
  endLine,
  progressLine,
  seedLines,
} from '../demo/report.js';
import { demoSchedules } from '../demo/schedules.js';
import { demoPlan, demoQueues, demoTasks, randomJob, seededRandom } from '../demo/tasks.js';
import { safeJson } from '../format.js';
import { type ServedDashboard, serveDashboard } from '../http-serve.js';
import { logLevelOption } from '../log-level.js';
import { describeDatabase, openClient } from '../open-client.js';
import { EventPrinter, jsonLine, PROGRESS_STEP_PERCENT } from '../output.js';
import { RunStats, renderSummary } from '../run-stats.js';
import { onShutdownSignals } from '../signals.js';

const HELP_TEXT = `jobwire dev — a live demo: example tasks, a pool, every event as it happens, and the dashboard

Usage
  jobwire dev [options]          (in a clone: npm start -s -- [options]; -s keeps npm's
                                 own "> jobwire start" lines off stdout, e.g. with --json)

Options
  --db <path|url>     database (default ./jobwire.db; $DATABASE_URL is ignored here)
  --schema <name>     PostgreSQL schema, with a postgres:// --db (default jobwire)
  --jobs <n>          demo jobs to enqueue (default 40)
  --concurrency <n>   worker slots (default 4)
  --rate <r>          after the first jobs, keep enqueuing r random jobs per second until Ctrl-C
  --seed <n>          seed of the demo's random choices: the same seed gives the same jobs,
                      payloads and failures (timing still varies). Default: random, printed.
  --exit-when-done    stop and exit 0 once every demo job is completed, abandoned or cancelled
  --no-schedules      leave out the demo's two recurring schedules
  --port <n>          serve the HTTP API and dashboard on this port (default 8080, or any
                      free port when 8080 is taken; 0: any free port). A sign-in link with a
                      token generated for this run is printed (see docs/http.md)
  --host <addr>       interface of the dashboard (default 127.0.0.1, this machine only)
  --no-http           do not serve the HTTP API and dashboard
  --json              one pino-compatible JSON object per line on stdout: {"time", "level",
                      "msg", "event", ...payload}; the last line is {"event": "summary", ...}.
                      Notes and progress go to stderr.
  --log-level <l>     debug, info, warn or error (default info; debug adds worker:* events)
  --quiet             print only failures (job:failed, job:abandoned, pool:error, …)
  -h, --help          show this help

The tasks: send-email (short, ~15 % transient SMTP failures), generate-report (1–3 s with
progress), process-data (CSV batches; a malformed row abandons the job at once), resize-video
and convert-video (seconds of frames; convert-video has a 4.5 s timeout that sometimes trips).
A few jobs are delayed or prioritised, two enqueues reuse a unique key (deduplicated), and one
video is cancelled while it runs. Retries use short backoffs so a run ends in ~30 s.

Output: one line per event (at most 80 columns) — local time, event, job id, task, queue,
attempt/max, worker, details. Progress lines are throttled to every ${PROGRESS_STEP_PERCENT} % per job (--json
prints every event). "x/N done" lines follow the demo's jobs, and an end line says when all
are done. At the end (or on Ctrl-C) a summary table per task — jobs, done, failed attempts,
retries, abandoned, cancelled, mean wait, mean and p95 run time — then the busy time (first
start to last finish, without idle time) and jobs/s over it.

Ctrl-C stops gracefully (running jobs get 5 s to finish, then are aborted and released) and
exits 0; a second Ctrl-C exits at once.`;

const FINAL: readonly JobState[] = ['completed', 'abandoned', 'cancelled'];

export const devCommand: Command = {
  name: 'dev',
  summary: 'live demo: SQLite + example tasks + a pool, printing every event',
  help: HELP_TEXT,
  run,
};

async function run(args: string[], context: CommandContext): Promise<number> {
  const { values } = parseCommandArgs('jobwire dev', {
    args,
    options: {
      ...HELP,
      ...DB,
      ...JSON_FLAG,
      jobs: { type: 'string' },
      concurrency: { type: 'string' },
      rate: { type: 'string' },
      seed: { type: 'string' },
      'exit-when-done': { type: 'boolean' },
      'no-schedules': { type: 'boolean' },
      port: { type: 'string' },
      host: { type: 'string' },
      'no-http': { type: 'boolean' },
      'log-level': { type: 'string' },
      quiet: { type: 'boolean' },
    },
  });
  if (values.help) {
    context.io.out.write(`${HELP_TEXT}\n`);
    return 0;
  }
  const jobCount = intOption('jobs', values.jobs, { min: 0, max: 100_000 }) ?? 40;
  const concurrency = intOption('concurrency', values.concurrency, { min: 1, max: 1000 }) ?? 4;
  const rate = numberOption('rate', values.rate, { min: 0.01, max: 10_000 });
  const seed =
    intOption('seed', values.seed, { min: 0, max: 2 ** 32 - 1 }) ?? Math.floor(Math.random() * 1_000_000);
  const exitWhenDone = values['exit-when-done'] === true;
  const serveHttp = values['no-http'] !== true;
  if (!serveHttp && (values.port !== undefined || values.host !== undefined)) {
    throw new UsageError(
      '--port and --host set up the HTTP server, which --no-http turns off',
      'drop one of them',
    );
  }
  const port = intOption('port', values.port, { min: 0, max: 65_535 });
  if (exitWhenDone && rate !== undefined) {
    throw new UsageError(
      '--exit-when-done cannot be combined with --rate (continuous enqueue never finishes)',
      'drop --rate, or stop the demo with Ctrl-C',
    );
  }

  const levelSetting = setting('log-level', values['log-level'], 'JOBWIRE_LOG_LEVEL');
  const level = logLevelOption(levelSetting.value, `--${levelSetting.name}`) ?? 'info';
  const printer = new EventPrinter({
    json: values.json === true,
    quiet: values.quiet === true,
    level,
    io: context.io,
    // docs/cli.md: every line of the demo fits 80 columns, piped or not.
    alwaysFit: true,
  });
  // No retention: pruning old rows mid-run would skew the summary's database check.
  const { client, target } = await openClient({
    db: values.db,
    schema: values.schema,
    tasks: demoTasks,
    useEnv: false,
    retention: false,
  });
  const stats = new RunStats();
  client.events.onAny((name, event) => stats.observe(name, event));
  printer.attach(client);

  const cleanups: (() => void)[] = [];
  let stopListening = () => {};
  let dashboard: ServedDashboard | undefined;
  try {
    for (const line of bannerLines({
      database: describeDatabase(target),
      jobs: jobCount,
      concurrency,
      seed,
      rate,
      exitWhenDone,
    })) {
      printer.note(line, { indent: false });
    }
    if (serveHttp) {
      // The demo's own database: a token of this run only, and 8080 unless it is taken.
      dashboard = await serveDashboard(client, {
        port: port ?? 8080,
        host: values.host ?? '127.0.0.1',
        fallback: port === undefined,
      });
      // On stderr, whole: a link cut to the terminal's width would not sign anyone in, and
      // stdout keeps its one-line-per-event shape.
      context.io.err.write(`dashboard: ${dashboard.server.url}/\nsign in:   ${dashboard.loginUrl}\n`);
    }
    const before = await client.countJobs();
    // A second reader with a client of its own sees the run only through the durable event log.
    const head = await client.events.head();
    const { client: readerClient } = await openClient({
      db: values.db,
      schema: values.schema,
      useEnv: false,
    });
    const logReader = new LogHealthReader(readerClient, (line) => printer.note(line));
    logReader.start(head);
    cleanups.push(() => void logReader.stop().then(() => readerClient.close()));
    // Recurring work in the open-ended demo (a run that exits when its jobs are done has none).
    if (!exitWhenDone && values['no-schedules'] !== true) {
      for (const schedule of demoSchedules) await client.schedules.upsert(schedule);
      printer.note(`schedules: ${demoSchedules.map((s) => s.id).join(', ')} (see "jobwire schedules ls")`);
    }

    // Enqueue the plan before the pool starts, so the unique-key dedupe is certain to show.
    const waitFor = new Set<string>();
    const cancelAfter = new Map<string, number>();
    let duplicates = 0;
    for (const planned of demoPlan(jobCount, seed)) {
      const job = await client.enqueue(planned.task, planned.payload, planned.options);
      waitFor.add(job.id);
      if (job.duplicate) {
        duplicates++;
        printer.note(`dedupe: key ${job.uniqueKey} → #${job.id} (already queued)`);
      }
      if (planned.cancelAfterMs !== undefined) cancelAfter.set(job.id, planned.cancelAfterMs);
    }

    // One video gets cancelled a moment after it starts, to show cancellation aborting a handler.
    cleanups.push(
      client.events.on('job:started', (event) => {
        const delay = cancelAfter.get(event.jobId);
        if (delay === undefined) return;
        cancelAfter.delete(event.jobId);
        const timer = setTimeout(() => {
          printer.note(`demo: cancelling #${event.jobId} (${event.task}) while it runs`);
          client.cancelJob(event.jobId).catch(() => {});
        }, delay);
        cleanups.push(() => clearTimeout(timer));
      }),
    );

    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    // After the stats listener (registered first), so the summary already counts this event.
    const progress = new DemoProgress(waitFor);
    const reportProgress = (name: string, event: unknown) => {
      if (!progress.observe(name, event as Parameters<DemoProgress['observe']>[1])) return;
      printer.note(progressLine(progress));
      if (progress.finished) {
        printer.note(endLine(progress, exitWhenDone), { indent: false });
        resolveDone();
      }
    };
    cleanups.push(client.events.onAny(reportProgress));
    if (progress.finished) resolveDone();

    const pool = client.createPool({
      queues: demoQueues,
      concurrency,
      handleSignals: true,
      shutdownGraceMs: 5000,
      pollIntervalMs: 250,
    });
    const stopped = new Promise<JobwireEvents['pool:stopped']>((resolve) => {
      cleanups.push(client.events.on('pool:stopped', (event) => resolve(event)));
    });
    // The pool stops itself on SIGINT/SIGTERM; listening here keeps the process alive for the summary.
    stopListening = onShutdownSignals();
    await pool.start();

    if (rate !== undefined) {
      const random = seededRandom(seed ^ 0x2545f491);
      let serial = jobCount;
      let owed = 0;
      let last = Date.now();
      const timer = setInterval(
        () => {
          if (!pool.isRunning) return;
          const now = Date.now();
          owed += ((now - last) / 1000) * rate;
          last = now;
          for (; owed >= 1; owed--) {
            const planned = randomJob(random, ++serial);
            client.enqueue(planned.task, planned.payload, planned.options).catch(() => {});
          }
        },
        Math.max(20, Math.min(1000, 1000 / rate)),
      );
      cleanups.push(() => clearInterval(timer));
    }

    const finished = await Promise.race([
      exitWhenDone ? done.then(() => true) : new Promise<never>(() => {}),
      stopped.then(() => false),
    ]);
    if (finished) await pool.stop({ reason: 'every demo job finished' });
    // The log reader's last word: wait until it has read up to the end of the run.
    await logReader.caughtUp();
    logReader.flush();
    printer.note(`log reader: ${logReader.eventsRead} events read from the durable log by a second client`);
    for (const cleanup of cleanups.splice(0)) cleanup();

    const check = await databaseCheck(client, before, stats);
    await dashboard?.server.close();
    // Close before the summary: services wind down after the last pool (leader:resigned), and
    // the summary must be the last line.
    await client.close();
    const summary = stats.summary();
    if (printer.json) {
      const msg = `summary: ${summary.jobs} jobs, ${summary.completed} completed, ${summary.abandoned} abandoned`;
      context.io.out.write(
        `${safeJson(jsonLine('info', msg, { event: 'summary', seed, duplicates, ...summary, databaseCheck: check }))}\n`,
      );
    } else if (!printer.quiet || finished) {
      const notes = [
        ...seedLines(seed, duplicates),
        ...databaseCheckLines(check, describeDatabase(target), printer.paint),
      ];
      context.io.out.write(`\n${renderSummary(summary, printer.paint, notes)}\n`);
    }
    return 0;
  } finally {
    for (const cleanup of cleanups) cleanup();
    await dashboard?.server.close();
    await client.close();
    stopListening();
  }
}

type Counts = DemoCounts;

/**
 * Compare what the events said with `countJobs`: the growth of each final state since the run
 * began should equal the final events seen (another process on the same database breaks this).
 */
async function databaseCheck(
  client: Jobwire,
  before: Record<JobState, number>,
  stats: RunStats,
): Promise<{ ok: boolean; events: Counts; database: Counts }> {
  const after = await client.countJobs();
  const events = stats.finalCounts();
  const database = { completed: 0, abandoned: 0, cancelled: 0 };
  for (const state of FINAL) database[state as keyof Counts] = after[state] - before[state];
  const ok = FINAL.every((state) => database[state as keyof Counts] === events[state as keyof Counts]);
  return { ok, events, database };
}
