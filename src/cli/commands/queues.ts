/**
 * `jobwire queues ls|pause|resume`.
 */
import {
  COUNT_PRECISION_MARK,
  JOB_STATES,
  type Jobwire,
  type QueueCounts,
  type QueueInfo,
} from '../../index.js';
import { CliError, closest, DB, HELP, JSON_FLAG, parseCommandArgs, UsageError } from '../args.js';
import { type Command, type CommandContext, eprintln, println } from '../command.js';
import { colorEnabled, painter, safeJson, table } from '../format.js';
import { withClient } from '../open-client.js';

const HELP_TEXT = `jobwire queues — list, pause and resume queues

Usage
  jobwire queues ls [--json] [--exact]
                                      every queue with jobs or settings, with counts by state:
                                      exact up to 10,000, above it ≥ (at least) or ~ (estimate),
                                      at a cost that does not grow with the table
  jobwire queues pause <queue>        pools (in every process) stop claiming its jobs;
                                      enqueue keeps working
  jobwire queues resume <queue>       let pools claim from it again

A queue is known once it has jobs, settings, or a published task that uses it; pausing or
resuming another name is an error (a typo would otherwise pause nothing). --force pauses a
queue before its first job.

Options
  --db <path|url>   database (default: $JOBWIRE_DATABASE_URL, a postgres $DATABASE_URL,
                    else ./jobwire.db; see jobwire --help)
  --schema <name>   PostgreSQL schema (default $JOBWIRE_SCHEMA, else jobwire)
  --json            (ls) the queues as JSON (with each count's precision unless --exact)
  --exact           (ls) count every job exactly (reads the whole jobs table)
  --force           (pause) pause a queue jobwire does not know yet
  -h, --help        show this help`;

const FORCE = { force: { type: 'boolean' } } as const;
const EXACT = { exact: { type: 'boolean' } } as const;

/** Refuse a queue name no job, setting or published task uses, naming the closest known one. */
async function assertKnownQueue(client: Jobwire, queue: string, sub: string): Promise<void> {
  // Bounded counts list every queue with settings or waiting jobs without reading the history.
  const [queues, tasks] = await Promise.all([client.queueCounts(), client.listPublishedTasks()]);
  const known = [...new Set([...queues.map((q) => q.name), ...tasks.map((t) => t.queue)])].sort();
  if (known.includes(queue)) return;
  const guess = closest(queue, known);
  throw new CliError(
    `no queue "${queue}": no job, setting or published task uses it`,
    `${guess ? `did you mean "${guess}"? ` : ''}known queues: ${known.length ? known.join(', ') : '(none yet)'}` +
      (sub === 'pause' ? `; to pause it before its first job: jobwire queues pause ${queue} --force` : ''),
  );
}

export const queuesCommand: Command = {
  name: 'queues',
  summary: 'list queues with counts; pause and resume them',
  help: HELP_TEXT,
  run,
};

async function run(args: string[], context: CommandContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h') {
    println(context, HELP_TEXT);
    return 0;
  }
  if (sub === undefined) {
    eprintln(context, HELP_TEXT);
    throw new UsageError('missing the queues subcommand', 'e.g. jobwire queues ls');
  }
  if (sub !== 'ls' && sub !== 'pause' && sub !== 'resume') {
    const guess = closest(sub, ['ls', 'pause', 'resume']);
    throw new UsageError(
      `unknown subcommand "queues ${sub}"`,
      `${guess ? `did you mean "jobwire queues ${guess}"? ` : ''}run "jobwire queues --help".`,
    );
  }
  const { values, positionals } = parseCommandArgs(`jobwire queues ${sub}`, {
    args: rest,
    allowPositionals: sub !== 'ls',
    options: {
      ...HELP,
      ...DB,
      ...(sub === 'ls' ? { ...JSON_FLAG, ...EXACT } : {}),
      ...(sub === 'pause' ? FORCE : {}),
    },
  });
  if (values.help) {
    println(context, HELP_TEXT);
    return 0;
  }
  if (sub === 'ls') {
    return withClient(
      { db: values.db, schema: values.schema, strictTasks: false, mustExist: true },
      async (client) => {
        // Bounded by default: a listing must not read millions of finished jobs to print a table.
        const queues: (QueueInfo | QueueCounts)[] = (values as { exact?: boolean }).exact
          ? await client.listQueues()
          : await client.queueCounts();
        if ((values as { json?: boolean }).json) {
          println(context, safeJson(queues, 2));
          return 0;
        }
        if (queues.length === 0) {
          println(context, 'no queues yet (a queue appears with its first job)');
          return 0;
        }
        const paint = painter(colorEnabled(context.io.out));
        const rows = queues.map((queue) => [
          queue.name,
          queue.paused ? paint('yellow', 'paused') : paint('green', 'active'),
          ...JOB_STATES.map(
            (state) =>
              `${'precision' in queue ? COUNT_PRECISION_MARK[queue.precision[state]] : ''}${queue.counts[state] ?? 0}`,
          ),
        ]);
        println(
          context,
          table(
            [
              { header: 'queue' },
              { header: 'status' },
              ...JOB_STATES.map((state) => ({ header: state, right: true })),
            ],
            rows,
            paint,
          ),
        );
        return 0;
      },
    );
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length ? 'give one queue name' : 'missing the queue name',
      `usage: jobwire queues ${sub} <queue>`,
    );
  }
  const queue = positionals[0]!;
  const force = (values as { force?: boolean }).force === true;
  return withClient(
    { db: values.db, schema: values.schema, strictTasks: false, mustExist: true },
    async (client) => {
      if (!force) await assertKnownQueue(client, queue, sub);
      if (sub === 'pause') {
        println(
          context,
          (await client.pauseQueue(queue))
            ? `paused queue "${queue}": pools stop claiming its jobs (enqueue still works)`
            : `queue "${queue}" was already paused`,
        );
      } else {
        println(
          context,
          (await client.resumeQueue(queue)) ? `resumed queue "${queue}"` : `queue "${queue}" was not paused`,
        );
      }
      return 0;
    },
  );
}
