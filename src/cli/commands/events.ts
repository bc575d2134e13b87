/**
 * `jobwire events tail|read|job`: the durable event log, written by every process on the
 * database — followed live (`tail`), read a page at a time (`read`), or one job's timeline
 * (`job <id>`, also spelled `events --job <id>`). Everything goes through `jobwire.events` and
 * `jobwire.jobEvents`; lines are rendered by `event-lines.ts`.
 */
import {
  EventCursorExpiredError,
  type EventLogFilter,
  InvalidOptionError,
  isQueueName,
  type Jobwire,
  type LoggedEvent,
  type LoggedEventName,
} from '../../index.js';
import { CliError, closest, DB, HELP, intOption, JSON_FLAG, parseCommandArgs, UsageError } from '../args.js';
import { type Command, type CommandContext, eprintln, println } from '../command.js';
import { EVENT_NAMES, EventLinePrinter, LINE_WIDTH } from '../event-lines.js';
import { colorEnabled, painter, safeJson } from '../format.js';
import { describeDatabase, openClient, withClient } from '../open-client.js';
import { DeliveredCursor, listenForStop } from './events-stop.js';

/** How long a stopping tail lets stdout's reader take what was printed. */
const FLUSH_WAIT_MS = 5000;

const DB_HELP = `  --db <path|url>     database (default $DATABASE_URL if postgres://, else ./jobwire.db)
  --schema <name>     PostgreSQL schema (default $JOBWIRE_SCHEMA, else jobwire)`;

const FILTER_HELP = `  --type <name>       only these events; repeat it or give a list (job:failed,job:abandoned);
                      "job:*" means every job event
  --queue <q>         only events of these queues (events without a queue, such as pool:*,
                      are left out); repeat it or give a list
  --job <id>          only events of these jobs; repeat it or give a list`;

const LINE_HELP = `Each line: time of day with its zone, event, #job id, queue/task, attempt/max, and a short
detail (the error, the duration…), at most ${LINE_WIDTH} columns on a terminal (into a file or a
pipe nothing is cut). A date line comes first and whenever the day changes.`;

const TAIL_HELP = `jobwire events tail — print every event as it is committed, by any process

Usage
  jobwire events tail [--from now|start|<cursor>] [filters] [--json]

Options
  --from <position>   now (default): only events committed from now on; start: the oldest
                      event kept, then on live; <cursor>: just after that event (a cursor from
                      --json output or from the line printed when tail stops)
${FILTER_HELP}
  --json              one JSON object per line: {"cursor", "type", "at", "data"}
${DB_HELP}
  -h, --help          show this help

${LINE_HELP}

Stopping: Ctrl-C (SIGINT) or SIGTERM ends it with exit code 0, and stderr says which --from
resumes just after the last event printed: nothing is skipped or printed twice. A cursor
older than the events kept is refused (exit code 1): start again from start or now.`;

const READ_HELP = `jobwire events read — one page of the event log, then the cursor of the next

Usage
  jobwire events read [--from start|now|<cursor>] [--limit <n>] [filters] [--json]

Options
  --from <position>   start (default): the oldest event kept; <cursor>: after that event
  --limit <n>         events per page, 1–10000 (default 100)
${FILTER_HELP}
  --json              {"events": [{"cursor", "type", "at", "data"}, …], "cursor", "more"}
${DB_HELP}
  -h, --help          show this help

${LINE_HELP}
The last line names the --from of the next page. Scripts: loop on --json's "cursor" until
"more" is false, then poll (or use tail).`;

const JOB_HELP = `jobwire events job — one job's timeline, oldest first, from every process that handled it

Usage
  jobwire events job <id> [--json] [--limit <n>]
  jobwire events --job <id> [--json] [--limit <n>]

Options
  --limit <n>         at most this many events, 1–10000 (default 1000)
  --json              the events as a JSON array: [{"type", "at", "data"}, …]
${DB_HELP}
  -h, --help          show this help

The log outlives the job's row: a deleted job's timeline is still shown. A job that does not
exist and has no events is an error (exit code 1).`;

const HELP_TEXT = `jobwire events — the durable event log, readable from any process

Usage
  jobwire events <subcommand> [options]
  jobwire events --job <id>        a job's timeline (= jobwire events job <id>)

Subcommands
  tail          print events as they are committed (--from now|start|<cursor>), until Ctrl-C
  read          one page of events (--from, --limit), then the cursor of the next page
  job <id>      one job's timeline, oldest first

Filters (tail, read): --type <name>, --queue <q>, --job <id>, each repeatable.
Run "jobwire events <subcommand> --help" for its options.`;

type Sub = { help: string; run: (args: string[], context: CommandContext) => Promise<number> };

const SUBCOMMANDS: Record<string, Sub> = {
  tail: { help: TAIL_HELP, run: tail },
  read: { help: READ_HELP, run: read },
  job: { help: JOB_HELP, run: timeline },
};

export const eventsCommand: Command = {
  name: 'events',
  summary: 'the event log of every process: tail it live, read pages, a job timeline',
  help: HELP_TEXT,
  async run(args, context) {
    const [sub, ...rest] = args;
    if (sub === '--help' || sub === '-h') {
      println(context, HELP_TEXT);
      return 0;
    }
    if (sub === undefined) {
      eprintln(context, HELP_TEXT);
      throw new UsageError('missing the events subcommand', 'e.g. jobwire events tail');
    }
    // `jobwire events --job 42` (the issue's spelling) is the timeline.
    if (sub.startsWith('-')) return timeline(args, context, { viaFlag: true });
    const found = SUBCOMMANDS[sub];
    if (!found) {
      const guess = closest(sub, Object.keys(SUBCOMMANDS));
      throw new UsageError(
        `unknown subcommand "events ${sub}"`,
        `${guess ? `did you mean "jobwire events ${guess}"? ` : ''}run "jobwire events --help".`,
      );
    }
    return found.run(rest, context);
  },
};

/** Options `tail` and `read` share. */
const FILTER_OPTIONS = {
  type: { type: 'string', multiple: true },
  queue: { type: 'string', multiple: true },
  job: { type: 'string', multiple: true },
} as const;

/** Repeated flags, each possibly a comma-separated list, as one list (undefined when absent). */
function items(values: readonly string[] | undefined): string[] | undefined {
  if (!values) return undefined;
  return values.flatMap((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );
}

/** `--type`, `--queue` and `--job` as the log's filter; unknown names are usage errors. */
export function filterOf(values: {
  type?: string[];
  queue?: string[];
  job?: string[];
}): EventLogFilter | undefined {
  const filter: { types?: LoggedEventName[]; queues?: string[]; jobIds?: string[] } = {};
  const types = items(values.type);
  if (types) {
    const chosen = new Set<LoggedEventName>();
    for (const type of types) {
      const matches = type.endsWith(':*')
        ? EVENT_NAMES.filter((name) => name.startsWith(type.slice(0, -1)))
        : EVENT_NAMES.filter((name) => name === type);
      if (matches.length === 0) {
        const guess = closest(type, EVENT_NAMES);
        throw new UsageError(
          `unknown event type "${type}"`,
          `${guess ? `did you mean "${guess}"? ` : ''}event types: ${EVENT_NAMES.join(', ')}`,
        );
      }
      for (const name of matches) chosen.add(name);
    }
    filter.types = [...chosen];
  }
  const queues = items(values.queue);
  if (queues) {
    const bad = queues.find((queue) => !isQueueName(queue));
    if (bad !== undefined) throw new UsageError(`"${bad}" is not a queue name`);
    filter.queues = queues;
  }
  const jobIds = items(values.job);
  if (jobIds) filter.jobIds = jobIds;
  for (const [flag, list] of [
    ['--type', types],
    ['--queue', queues],
    ['--job', jobIds],
  ] as const) {
    if (list?.length === 0) throw new UsageError(`${flag} needs a value`);
  }
  return Object.keys(filter).length > 0 ? filter : undefined;
}

/** `--from`: start, now or a cursor (the driver judges a cursor; see `logErrors`). */
function positionOf(from: string | undefined, fallback: 'start' | 'now'): string {
  if (from === undefined) return fallback;
  if (from.trim() === '') throw new UsageError('--from is empty', 'give start, now or a cursor');
  return from.trim();
}

/** The log's errors as the CLI reports them: an expired cursor says what to do; a bad one is a usage error. */
async function logErrors<T>(from: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof EventCursorExpiredError) {
      throw new CliError(
        error.message,
        'run again with --from start (the oldest event kept) or --from now (new events only)',
        { cause: error },
      );
    }
    if (error instanceof InvalidOptionError && error.field === 'after') {
      throw new UsageError(
        `--from "${from}" is not an event cursor of this database`,
        'give start, now, or a cursor that jobwire events printed for this database',
      );
    }
    throw error;
  }
}

/** A log event as a JSON object: cursor first, so a script can keep it. */
const asJson = (event: LoggedEvent) => ({
  cursor: event.cursor,
  type: event.type,
  at: event.at,
  data: event.data,
});

function linePrinter(context: CommandContext, dated: 'always' | 'when-not-today'): EventLinePrinter {
  const paint = painter(colorEnabled(context.io.out));
  // Fitted to a terminal; whole lines into a file or a pipe (as the worker's output).
  const width = context.io.out.isTTY ? LINE_WIDTH : Number.POSITIVE_INFINITY;
  return new EventLinePrinter((line) => println(context, line), paint, { dated, width });
}

async function tail(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('jobwire events tail', {
    args,
    allowPositionals: true,
    options: { ...HELP, ...DB, ...JSON_FLAG, ...FILTER_OPTIONS, from: { type: 'string' } },
  });
  if (values.help) {
    println(context, TAIL_HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}"`, 'usage: jobwire events tail [options]');
  }
  const filter = filterOf(values);
  const from = positionOf(values.from, 'now');
  const controller = new AbortController();
  // Listening before the database opens: a Ctrl-C while connecting still ends cleanly.
  const stopListening = listenForStop(context.io.out, () => controller.abort());
  try {
    const { client, target } = await openClient({
      db: values.db,
      schema: values.schema,
      strictTasks: false,
      mustExist: true,
    });
    try {
      // 'now' pinned to a cursor here, so the resume hint can name a position even if nothing came.
      const start = from === 'now' ? await client.events.head() : from;
      const delivered = new DeliveredCursor(context.io.out, start);
      eprintln(context, `tailing events of ${describeDatabase(target)} from ${from} · Ctrl-C to stop`);
      const printer = linePrinter(context, 'when-not-today');
      try {
        await logErrors(from, async () => {
          const events = client.events.tail({ after: start, filter, signal: controller.signal });
          for await (const event of events) {
            if (values.json) println(context, safeJson(asJson(event)));
            else printer.print(event);
            await delivered.written(event.cursor, controller.signal);
          }
        });
      } finally {
        // What was printed reaches the reader before the process ends (an error exit too).
        await delivered.flushed(FLUSH_WAIT_MS);
      }
      // The position after the last event the reader got: nothing skipped, nothing twice.
      eprintln(context, `stopped; resume with: jobwire events tail --from ${delivered.cursor}`);
      return 0;
    } finally {
      await client.close();
    }
  } finally {
    stopListening();
  }
}

async function read(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('jobwire events read', {
    args,
    allowPositionals: true,
    options: {
      ...HELP,
      ...DB,
      ...JSON_FLAG,
      ...FILTER_OPTIONS,
      from: { type: 'string' },
      limit: { type: 'string' },
    },
  });
  if (values.help) {
    println(context, READ_HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}"`, 'usage: jobwire events read [options]');
  }
  const filter = filterOf(values);
  const from = positionOf(values.from, 'start');
  const limit = intOption('limit', values.limit, { min: 1, max: 10_000 }) ?? 100;
  return withClient(
    { db: values.db, schema: values.schema, strictTasks: false, mustExist: true },
    async (client) => {
      const page = await logErrors(from, () => client.events.read({ after: from, limit, filter }));
      if (values.json) {
        println(
          context,
          safeJson({ events: page.events.map(asJson), cursor: page.cursor, more: page.more }, 2),
        );
        return 0;
      }
      const printer = linePrinter(context, 'always');
      for (const event of page.events) printer.print(event);
      const paint = painter(colorEnabled(context.io.out));
      if (page.events.length === 0) println(context, 'no events');
      println(
        context,
        paint(
          'gray',
          page.more
            ? `more: jobwire events read --from ${page.cursor} (same filters)`
            : `caught up; later events: jobwire events read --from ${page.cursor}`,
        ),
      );
      return 0;
    },
  );
}

async function timeline(
  args: string[],
  context: CommandContext,
  options: { viaFlag?: boolean } = {},
): Promise<number> {
  const name = options.viaFlag ? 'jobwire events' : 'jobwire events job';
  const { values, positionals } = parseCommandArgs(name, {
    args,
    allowPositionals: !options.viaFlag,
    options: {
      ...HELP,
      ...DB,
      ...JSON_FLAG,
      limit: { type: 'string' },
      ...(options.viaFlag ? { job: { type: 'string' } } : {}),
    },
  });
  if (values.help) {
    println(context, options.viaFlag ? HELP_TEXT : JOB_HELP);
    return 0;
  }
  const given = options.viaFlag
    ? [(values as { job?: string }).job].filter((id) => id !== undefined)
    : positionals;
  if (given.length !== 1 || given[0]!.trim() === '') {
    throw new UsageError(
      options.viaFlag
        ? 'give a subcommand (tail, read, job <id>) or --job <id>'
        : given.length
          ? 'give one job id'
          : 'missing the job id',
      'usage: jobwire events job <id>   (or jobwire events --job <id>); see "jobwire events --help"',
    );
  }
  const id = given[0]!.trim();
  const limit = intOption('limit', values.limit, { min: 1, max: 10_000 }) ?? 1000;
  return withClient(
    { db: values.db, schema: values.schema, strictTasks: false, mustExist: true },
    async (client) => {
      const events = await client.jobEvents(id, { limit });
      if (events.length === 0) await explainEmpty(client, id);
      if (values.json) {
        println(
          context,
          safeJson(
            events.map(({ type, at, data }) => ({ type, at, data })),
            2,
          ),
        );
        return 0;
      }
      if (events.length === 0) {
        println(context, `no events stored for job #${id} (it ran with the log off, or they were pruned)`);
        return 0;
      }
      const printer = linePrinter(context, 'always');
      for (const event of events) printer.print(event);
      return 0;
    },
  );
}

/** No events: an error when the job does not exist either (exit 1, as `jobs show`). */
async function explainEmpty(client: Jobwire, id: string): Promise<void> {
  if (await client.getJob(id)) return;
  throw new CliError(
    `job ${id} does not exist, and the event log holds no events of it`,
    'list jobs with "jobwire jobs ls"',
  );
}
