/**
 * `jobwire queues ls|pause|resume`.
 */
import { JOB_STATES } from '../../index.js';
import { closest, DB, HELP, JSON_FLAG, parseCommandArgs, UsageError } from '../args.js';
import { type Command, type CommandContext, eprintln, println } from '../command.js';
import { colorEnabled, painter, safeJson, table } from '../format.js';
import { withClient } from '../open-client.js';

const HELP_TEXT = `jobwire queues — list, pause and resume queues

Usage
  jobwire queues ls [--json]          every queue with jobs or settings, with counts by state
  jobwire queues pause <queue>        pools (in every process) stop claiming its jobs;
                                      enqueue keeps working
  jobwire queues resume <queue>       let pools claim from it again

Options
  --db <path|url>   database (default $DATABASE_URL if postgres://, else ./jobwire.db)
  --json            (ls) the queues as JSON
  -h, --help        show this help`;

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
    options: { ...HELP, ...DB, ...(sub === 'ls' ? JSON_FLAG : {}) },
  });
  if (values.help) {
    println(context, HELP_TEXT);
    return 0;
  }
  if (sub === 'ls') {
    return withClient({ db: values.db, strictTasks: false, mustExist: true }, async (client) => {
      const queues = await client.listQueues();
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
        ...JOB_STATES.map((state) => String(queue.counts[state] ?? 0)),
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
    });
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length ? 'give one queue name' : 'missing the queue name',
      `usage: jobwire queues ${sub} <queue>`,
    );
  }
  const queue = positionals[0]!;
  return withClient({ db: values.db, strictTasks: false, mustExist: true }, async (client) => {
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
  });
}
