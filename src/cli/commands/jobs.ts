/**
 * `jobwire jobs ls|show|retry|cancel|delete`: inspect and administer jobs.
 */
import {
  type DependencyEdge,
  describeDedupRule,
  JOB_LIST_SCAN_CAP,
  JOB_STATES,
  type JobDependencies,
  JobNotFoundError,
  type JobRecord,
  type JobState,
} from '../../index.js';
import {
  closest,
  DB,
  HELP,
  intOption,
  JSON_FLAG,
  listOption,
  parseCommandArgs,
  UsageError,
} from '../args.js';
import { type Command, type CommandContext, eprintln, println } from '../command.js';
import {
  age,
  colorEnabled,
  dateTime,
  duration,
  errorSummary,
  formatProgress,
  type Paint,
  painter,
  safeJson,
  table,
  timeZoneLabel,
  utcOffsetLabel,
} from '../format.js';
import { withClient } from '../open-client.js';
import {
  cancelMatching,
  cancelOne,
  deleteOne,
  eachId,
  jobIdOf,
  retryMatching,
  retryOne,
  stateList,
} from './jobs-admin.js';
import { PURGE_HELP, purge } from './jobs-purge.js';

const DB_HELP = `  --db <path|url>   database (default: $JOBWIRE_DATABASE_URL, a postgres $DATABASE_URL,
                    else ./jobwire.db; see jobwire --help)
  --schema <name>   PostgreSQL schema (default $JOBWIRE_SCHEMA, else jobwire)`;

const LS_HELP = `jobwire jobs ls — list jobs, newest first

Usage
  jobwire jobs ls [options]

Options
  --state <s,…>     only these states: ${JOB_STATES.join(', ')}
  --queue <q,…>     only these queues
  --task <t,…>      only these tasks
  --limit <n>       page size, 1–1000 (default 50)
  --cursor <c>      the page after the one that printed this cursor
${DB_HELP}
  --json            {"jobs": [...], "nextCursor": ...}
  -h, --help        show this help

Columns: id, task, queue, state, attempt/max, run at (local time, its UTC offset in the header),
age (since created), last error.
When more jobs match, the last line gives the --cursor of the next page. One call reads at most
${JOB_LIST_SCAN_CAP.toLocaleString('en-US')} jobs, so a filter whose matches are old can print a short or empty page
that still gives a --cursor: older jobs may match further on.`;

const SHOW_HELP = `jobwire jobs show — every field of one job: payload, result, progress, errors with stacks

Usage
  jobwire jobs show <id> [--json] [--db <path|url>]`;

const RETRY_HELP = `jobwire jobs retry — run abandoned, cancelled or completed jobs again with fresh attempts

Usage
  jobwire jobs retry <id…>
  jobwire jobs retry [--state <s,…>] [--queue <q,…>] [--task <t,…>]

By id, or every job that matches the filters (at least one). --state: abandoned, cancelled,
completed (default abandoned,cancelled). Matching jobs are retried in pages of 500.
A job whose dependencies have not all completed goes back to blocked and waits for them (a
dependency retried in the same command included); one whose dependency is abandoned or
cancelled with --on-failure cancel is not retried: retry the dependency too.
${DB_HELP}

Exit code 1 if any job given by id could not be retried (missing, still active, or waiting on a
failed dependency).`;

const CANCEL_HELP = `jobwire jobs cancel — cancel blocked, scheduled, pending or running jobs

Usage
  jobwire jobs cancel <id…>
  jobwire jobs cancel [--state <s,…>] [--queue <q,…>] [--task <t,…>]

By id, or every job that matches the filters (at least one). --state: blocked, scheduled,
pending, running (default all four; a blocked job's dependents get their edges' policies). A
running job's AbortSignal fires and its result is discarded.
Cancelling a job that is already cancelled succeeds; exit code 1 if any job given by id is
missing or already completed/abandoned.
${DB_HELP}`;

const DELETE_HELP = `jobwire jobs delete — delete jobs in any state

Usage
  jobwire jobs delete <id…> [--db <path|url>]

Exit code 1 if any job does not exist.`;

const HELP_TEXT = `jobwire jobs — inspect and administer jobs

Usage
  jobwire jobs <subcommand> [options]

Subcommands
  ls                 list jobs (filters: --state, --queue, --task; paging: --limit, --cursor)
  show <id>          every field of a job, its errors with stacks, result and progress
  retry <id…>        run finished jobs again (or by filter: --state, --queue, --task)
  cancel <id…>       cancel jobs that have not finished (or by filter)
  delete <id…>       delete jobs
  purge              delete finished jobs by state and age (--state completed --older-than 7d)

Run "jobwire jobs <subcommand> --help" for its options.`;

type Sub = { help: string; run: (args: string[], context: CommandContext) => Promise<number> };

const SUBCOMMANDS: Record<string, Sub> = {
  ls: { help: LS_HELP, run: list },
  show: { help: SHOW_HELP, run: show },
  retry: {
    help: RETRY_HELP,
    run: (args, context) => eachId('retry', RETRY_HELP, args, context, retryOne, retryMatching),
  },
  cancel: {
    help: CANCEL_HELP,
    run: (args, context) => eachId('cancel', CANCEL_HELP, args, context, cancelOne, cancelMatching),
  },
  delete: {
    help: DELETE_HELP,
    run: (args, context) => eachId('delete', DELETE_HELP, args, context, deleteOne),
  },
  purge: { help: PURGE_HELP, run: purge },
};

export const jobsCommand: Command = {
  name: 'jobs',
  summary: 'list, show, retry, cancel and delete jobs',
  help: HELP_TEXT,
  async run(args, context) {
    const [sub, ...rest] = args;
    if (sub === '--help' || sub === '-h') {
      println(context, HELP_TEXT);
      return 0;
    }
    if (sub === undefined) {
      eprintln(context, HELP_TEXT);
      throw new UsageError('missing the jobs subcommand', 'e.g. jobwire jobs ls');
    }
    const found = SUBCOMMANDS[sub];
    if (!found) {
      const guess = closest(sub, Object.keys(SUBCOMMANDS));
      throw new UsageError(
        `unknown subcommand "jobs ${sub}"`,
        `${guess ? `did you mean "jobwire jobs ${guess}"? ` : ''}run "jobwire jobs --help".`,
      );
    }
    return found.run(rest, context);
  },
};

const stateStyle: Record<JobState, Parameters<Paint>[0]> = {
  blocked: 'gray',
  scheduled: 'blue',
  pending: 'cyan',
  running: 'yellow',
  completed: 'green',
  abandoned: 'red',
  cancelled: 'magenta',
};

const shortDate = (date: Date | null) => (date ? dateTime(date.getTime()) : '–');

async function list(args: string[], context: CommandContext): Promise<number> {
  const { values } = parseCommandArgs('jobwire jobs ls', {
    args,
    options: {
      ...HELP,
      ...DB,
      ...JSON_FLAG,
      state: { type: 'string' },
      queue: { type: 'string' },
      task: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
    },
  });
  if (values.help) {
    println(context, LS_HELP);
    return 0;
  }
  const states = stateList(values.state, JOB_STATES);
  const limit = intOption('limit', values.limit, { min: 1, max: 1000 }) ?? 50;
  return withClient(
    { db: values.db, schema: values.schema, strictTasks: false, mustExist: true },
    async (client) => {
      const page = await client.listJobs({
        state: states,
        queue: listOption(values.queue),
        task: listOption(values.task),
        limit,
        cursor: values.cursor ?? null,
      });
      if (values.json) {
        println(context, safeJson(page, 2));
        return 0;
      }
      const paint = painter(colorEnabled(context.io.out));
      const more = `jobwire jobs ls --cursor ${page.nextCursor} (same filters)`;
      // Fewer jobs than asked for with a cursor: the listing stopped after JOB_LIST_SCAN_CAP jobs
      // read, and older jobs may still match; say so rather than look like the end.
      const scope = `the ${values.cursor ? 'next' : 'newest'} ${JOB_LIST_SCAN_CAP.toLocaleString('en-US')} jobs`;
      if (page.jobs.length === 0) {
        if (page.nextCursor) {
          println(context, `no matches among ${scope}; older jobs may match`);
          println(context, paint('gray', `more: ${more}`));
        } else {
          println(context, values.cursor ? 'no more jobs' : 'no jobs match');
        }
        return 0;
      }
      const now = Date.now();
      const rows = page.jobs.map((job) => [
        job.id,
        job.task,
        job.queue,
        paint(stateStyle[job.state], job.state),
        `${job.attempt}/${job.maxAttempts}`,
        shortDate(job.runAt),
        age(now - job.createdAt.getTime()),
        errorSummary(job.state === 'completed' ? null : job.errors.at(-1), 60),
      ]);
      println(
        context,
        table(
          [
            { header: 'id', right: true },
            { header: 'task' },
            { header: 'queue' },
            { header: 'state' },
            { header: 'attempt', right: true },
            // The zone in the header: the times are local, and a pasted table travels.
            { header: `run at (${utcOffsetLabel()})` },
            { header: 'age', right: true },
            { header: 'last error' },
          ],
          rows,
          paint,
        ),
      );
      if (page.nextCursor && page.jobs.length < limit) {
        println(context, paint('gray', `no more matches among ${scope}; older jobs may match: ${more}`));
      } else if (page.nextCursor) {
        println(context, paint('gray', `more: ${more}`));
      }
      return 0;
    },
  );
}

async function show(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('jobwire jobs show', {
    args,
    allowPositionals: true,
    options: { ...HELP, ...DB, ...JSON_FLAG },
  });
  if (values.help) {
    println(context, SHOW_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length ? 'give one job id' : 'missing the job id',
      'usage: jobwire jobs show <id>',
    );
  }
  const id = jobIdOf(positionals[0]!);
  return withClient(
    { db: values.db, schema: values.schema, strictTasks: false, mustExist: true },
    async (client) => {
      const job = await client.getJob(id);
      if (!job) throw new JobNotFoundError(id);
      const edges = await client.getJobDependencies(id);
      const hasEdges = edges.dependencies.length + edges.dependents.length > 0;
      if (values.json) {
        println(context, safeJson(hasEdges ? { ...job, dependencies: edges } : job, 2));
        return 0;
      }
      const paint = painter(colorEnabled(context.io.out));
      println(context, renderJob(job, paint) + (hasEdges ? `\n\n${renderEdges(edges, paint)}` : ''));
      return 0;
    },
  );
}

/** Why an edge holds (or no longer holds) its dependent, in words. */
const EDGE_WORDS: Record<DependencyEdge['state'], string> = {
  waiting: 'waiting for it',
  stuck: 'STUCK: it ended without completing (policy block); retry it, or cancel the dependent',
  done: 'completed',
  ignored: 'it failed; ran anyway (policy run)',
  cancelled: 'it failed; dependent cancelled (policy cancel)',
};

/** A job's dependency edges, both ways, for `jobs show`. */
export function renderEdges(edges: JobDependencies, paint: Paint): string {
  const other = (edge: DependencyEdge, id: string) =>
    edge.other ? `#${id} (${edge.other.task}, ${edge.other.state})` : `#${id} (deleted)`;
  const lines = [paint('bold', `depends on (${edges.dependencies.length})`)];
  if (edges.dependencies.length === 0) lines.push('  –');
  for (const edge of edges.dependencies) {
    const words = EDGE_WORDS[edge.state];
    lines.push(
      `  ${other(edge, edge.dependsOn)}  on failure: ${edge.onFailure}  ${edge.state === 'stuck' ? paint('red', words) : words}`,
    );
  }
  lines.push('', paint('bold', `dependents (${edges.dependents.length})`));
  if (edges.dependents.length === 0) lines.push('  –');
  for (const edge of edges.dependents) {
    lines.push(`  ${other(edge, edge.jobId)}  on failure: ${edge.onFailure}  edge ${edge.state}`);
  }
  return lines.join('\n');
}

const indent = (text: string, by = '  ') =>
  text
    .split('\n')
    .map((line) => by + line)
    .join('\n');

/**
 * The lease line's label: "lease expired" once its time has passed (a job still running under it
 * is then waiting for the rescuer: its process died or froze), "lease expires" before.
 */
export function leaseLabel(leaseExpiresAt: Date | null, now: number): string {
  return leaseExpiresAt && leaseExpiresAt.getTime() <= now ? 'lease expired' : 'lease expires';
}

/** Every field of a job, for humans. */
export function renderJob(job: JobRecord, paint: Paint): string {
  const now = Date.now();
  const when = (date: Date | null) => {
    if (!date) return '–';
    const delta = date.getTime() - now;
    return `${dateTime(date.getTime())}  ${paint('gray', delta > 0 ? `(in ${duration(delta)})` : `(${duration(-delta)} ago)`)}`;
  };
  const fields: [string, string][] = [
    ['state', paint(stateStyle[job.state], job.state)],
    ['task', job.task],
    ['queue', job.queue],
    ['attempt', `${job.attempt}/${job.maxAttempts}`],
    ['priority', String(job.priority)],
    ['created', when(job.createdAt)],
    ['run at', when(job.runAt)],
    ['started', when(job.startedAt)],
    ['finished', when(job.finishedAt)],
    ['pool', job.poolId ?? '–'],
    [leaseLabel(job.leaseExpiresAt, now), when(job.leaseExpiresAt)],
    ['unique key', job.uniqueKey ?? '–'],
    [
      'dedup rule',
      job.dedup ? describeDedupRule(job.dedup) : job.uniqueKey ? describeUnique(job.uniqueKey) : '–',
    ],
    ['concurrency key', job.concurrencyKey ?? '–'],
    ['correlation id', job.correlationId],
    ['attempt timeout', job.timeoutMs === null ? '–' : duration(job.timeoutMs)],
    ['backoff', job.backoff ? safeJson(job.backoff) : 'default (exponential from 1 s)'],
    ['metadata', safeJson(job.metadata)],
    ['progress', job.progress === null || job.progress === undefined ? '–' : formatProgress(job.progress)],
  ];
  const width = Math.max(...fields.map(([label]) => label.length));
  const lines = [`${paint('bold', `job #${job.id}`)}  ${paint('gray', `times in ${timeZoneLabel()}`)}`];
  for (const [label, value] of fields) lines.push(`  ${paint('gray', label.padEnd(width))}  ${value}`);
  lines.push('', paint('bold', 'payload'), indent(safeJson(job.payload, 2)));
  lines.push('', paint('bold', 'result'), indent(job.result === null ? '–' : safeJson(job.result, 2)));
  lines.push('', paint('bold', `errors (${job.errors.length})`));
  if (job.errors.length === 0) lines.push('  –');
  for (const error of job.errors) {
    lines.push(
      `  ${paint('red', `attempt ${error.attempt}`)}  ${dateTime(error.at)}  ${error.name}: ${error.message}`,
    );
    if (error.stack) {
      const frames = error.stack.split('\n').filter((line) => /^\s+at /.test(line));
      if (frames.length) lines.push(paint('gray', indent(frames.map((f) => f.trim()).join('\n'), '      ')));
    }
  }
  return lines.join('\n');
}

/** A plain unique key described like the rules. */
const describeUnique = (key: string) => describeDedupRule({ rule: 'unique', key, states: [], forMs: null });
