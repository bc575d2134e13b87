/**
 * `jobwire schedules ls|add|rm|pause|resume|trigger`: recurring jobs, shown with their next and
 * last runs in each schedule's own time zone.
 */
import {
  closestName,
  formatDuration,
  formatInZone,
  type MissedRunPolicy,
  type ScheduleDefinition,
  type ScheduleInfo,
  UnknownTaskError,
} from '../../index.js';
import { CliError, closest, DB, HELP, JSON_FLAG, parseCommandArgs, UsageError } from '../args.js';
import { type Command, type CommandContext, eprintln, println } from '../command.js';
import { durationOption } from '../duration.js';
import { colorEnabled, painter, safeJson, table } from '../format.js';
import { withClient } from '../open-client.js';

const HELP_TEXT = `jobwire schedules — recurring jobs (cron or fixed interval)

Usage
  jobwire schedules ls [--json]              every schedule, next and last run in its zone
  jobwire schedules add <id> --task <name> (--cron "<pattern>" | --every <duration>) [options]
                                             create or change a schedule
  jobwire schedules rm <id>                  remove it (its job enqueued ahead is cancelled)
  jobwire schedules pause <id>               stop firing until resumed
  jobwire schedules resume <id>              fire again from the next tick after now
  jobwire schedules trigger <id>             enqueue one job of it now

Options of add
  --task <name>           the task each tick enqueues (published by a worker)
  --cron "<pattern>"      5 fields, or 6 with seconds; L, W, #; @daily, @hourly, …
  --every <duration>      a fixed interval: 30s, 5m, 1h, 1d
  --tz <zone>             IANA zone the pattern's clock is read in (default UTC)
  --payload <json>        the jobs' payload (default {})
  --queue <name>          the jobs' queue (default: the task's)
  --missed <policy>       skip | run-once (default) | backfill[:<window>[:<max>]], e.g. backfill:6h:10
  --overlap <policy>      allow (default) | skip (no tick while the previous job is pending or running)
  --jitter <duration>     spread each job's due time by up to this much after its tick

Options
  --db <path|url>   database (default $DATABASE_URL if postgres://, else ./jobwire.db)
  --schema <name>   PostgreSQL schema (default $JOBWIRE_SCHEMA, else jobwire)
  --json            (ls, add) JSON output
  -h, --help        show this help

Schedules fire from the leader of a running pool (jobwire worker, or an app's pool).`;

const SUBCOMMANDS = ['ls', 'add', 'rm', 'pause', 'resume', 'trigger'] as const;

export const schedulesCommand: Command = {
  name: 'schedules',
  summary: 'list, add, remove, pause, resume and trigger schedules',
  help: HELP_TEXT,
  run,
};

function missedOption(value: string | undefined): MissedRunPolicy | undefined {
  if (value === undefined) return undefined;
  if (value === 'skip' || value === 'run-once') return value;
  const [name, window, max] = value.split(':');
  if (name === 'backfill') {
    const count = max === undefined ? undefined : Number(max);
    if (count !== undefined && (!Number.isInteger(count) || count < 1)) {
      throw new UsageError(`--missed ${value}: the count must be a whole number >= 1`, 'e.g. backfill:6h:10');
    }
    return {
      backfill: {
        ...(window === undefined ? {} : { window: durationOption('missed', window) }),
        ...(count === undefined ? {} : { max: count }),
      },
    };
  }
  throw new UsageError(
    `--missed "${value}" is not a policy`,
    'skip, run-once, or backfill[:<window>[:<max>]]',
  );
}

function describe(schedule: ScheduleInfo): string {
  const { definition } = schedule;
  return definition.cron ?? `every ${formatDuration(definition.every ?? 0)}`;
}

async function run(args: string[], context: CommandContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h') {
    println(context, HELP_TEXT);
    return 0;
  }
  if (sub === undefined) {
    eprintln(context, HELP_TEXT);
    throw new UsageError('missing the schedules subcommand', 'e.g. jobwire schedules ls');
  }
  if (!(SUBCOMMANDS as readonly string[]).includes(sub)) {
    const guess = closest(sub, SUBCOMMANDS);
    throw new UsageError(
      `unknown subcommand "schedules ${sub}"`,
      `${guess ? `did you mean "jobwire schedules ${guess}"? ` : ''}run "jobwire schedules --help".`,
    );
  }
  const { values, positionals } = parseCommandArgs(`jobwire schedules ${sub}`, {
    args: rest,
    allowPositionals: sub !== 'ls',
    options: {
      ...HELP,
      ...DB,
      ...JSON_FLAG,
      task: { type: 'string' },
      cron: { type: 'string' },
      every: { type: 'string' },
      tz: { type: 'string' },
      payload: { type: 'string' },
      queue: { type: 'string' },
      missed: { type: 'string' },
      overlap: { type: 'string' },
      jitter: { type: 'string' },
    },
  });
  if (values.help) {
    println(context, HELP_TEXT);
    return 0;
  }
  // --schema too: without it every subcommand read and wrote the default schema.
  const where = { db: values.db, schema: values.schema };
  if (sub === 'ls') return list(context, where, values.json === true);
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length ? 'give one schedule id' : 'missing the schedule id',
      `usage: jobwire schedules ${sub} <id>`,
    );
  }
  const id = positionals[0]!;
  if (sub === 'add') {
    if (values.task === undefined) throw new UsageError('--task is required', 'e.g. --task reports.daily');
    if ((values.cron === undefined) === (values.every === undefined)) {
      throw new UsageError(
        'give --cron or --every (one of them)',
        'e.g. --cron "0 9 * * 1-5" --tz Europe/London',
      );
    }
    let payload: unknown = {};
    if (values.payload !== undefined) {
      try {
        payload = JSON.parse(values.payload);
      } catch (error) {
        throw new UsageError(
          `--payload is not JSON: ${(error as Error).message}`,
          `e.g. --payload '{"to":"ops"}'`,
        );
      }
    }
    if (values.overlap !== undefined && values.overlap !== 'allow' && values.overlap !== 'skip') {
      throw new UsageError(`--overlap "${values.overlap}" is not a policy`, 'allow or skip');
    }
    const definition: ScheduleDefinition = {
      id,
      task: values.task,
      ...(values.cron === undefined ? {} : { cron: values.cron }),
      ...(values.every === undefined ? {} : { every: durationOption('every', values.every) }),
      ...(values.tz === undefined ? {} : { timezone: values.tz }),
      payload: payload as never,
      ...(values.queue === undefined ? {} : { options: { queue: values.queue } }),
      ...(values.missed === undefined ? {} : { missed: missedOption(values.missed) }),
      ...(values.overlap === undefined ? {} : { overlap: values.overlap as 'allow' | 'skip' }),
      ...(values.jitter === undefined ? {} : { jitter: durationOption('jitter', values.jitter) }),
    };
    return withClient(where, async (client) => {
      const schedule = await client.schedules.upsert(definition).catch(async (error: unknown) => {
        if (!(error instanceof UnknownTaskError)) throw error;
        // The library's advice (strictTasks, declareTask) is for code; say what works here.
        const published = (await client.listPublishedTasks()).map((t) => t.name);
        const near = closestName(error.task, published);
        throw new CliError(
          `no worker has published task "${error.task}"${near ? `; did you mean "${near}"?` : ''} Nothing was saved`,
          published.length
            ? `jobwire tasks lists the published tasks (${published.join(', ')}); a worker publishes its tasks when it starts`
            : 'start a worker that runs the task once (it publishes its tasks when it starts), then add the schedule',
          { cause: error },
        );
      });
      if (values.json) println(context, safeJson(schedule, 2));
      else {
        const zone = schedule.definition.timezone;
        const next = schedule.nextRunAt
          ? `${formatInZone(schedule.nextRunAt.getTime(), zone)} ${zone}`
          : 'never';
        println(context, `schedule "${id}" saved: ${describe(schedule)}, next run ${next}`);
      }
      if (schedule.nextRunAt === null) {
        // Saved as asked (it may be meant to end), but a new schedule that can never fire is
        // most likely a mistake: 0 0 30 2 * (February 30th), or an end before its start.
        eprintln(
          context,
          `note: schedule "${id}" will never fire: no time matches it from now on (check the pattern and endAt)`,
        );
      }
      return 0;
    });
  }
  return withClient({ ...where, strictTasks: false, mustExist: true }, async (client) => {
    if (sub === 'rm') {
      const removed = await client.schedules.remove(id);
      println(context, removed ? `removed schedule "${id}"` : `no schedule "${id}"`);
      // As `flow rm`: removing nothing (a typo'd id) fails, so a script notices.
      return removed ? 0 : 1;
    } else if (sub === 'pause') {
      println(
        context,
        (await client.schedules.pause(id)) ? `paused schedule "${id}"` : `"${id}" was already paused`,
      );
    } else if (sub === 'resume') {
      println(
        context,
        (await client.schedules.resume(id)) ? `resumed schedule "${id}"` : `"${id}" was not paused`,
      );
    } else {
      const job = await client.schedules.trigger(id);
      println(context, `enqueued job #${job.id} of schedule "${id}"`);
    }
    return 0;
  });
}

async function list(
  context: CommandContext,
  where: { db: string | undefined; schema: string | undefined },
  json: boolean,
): Promise<number> {
  return withClient({ ...where, strictTasks: false, mustExist: true }, async (client) => {
    const schedules = await client.schedules.list();
    if (json) {
      println(context, safeJson(schedules, 2));
      return 0;
    }
    if (schedules.length === 0) {
      println(context, 'no schedules (add one with "jobwire schedules add", or define them in code)');
      return 0;
    }
    const paint = painter(colorEnabled(context.io.out));
    const when = (date: Date | null, zone: string) => (date ? formatInZone(date.getTime(), zone) : '–');
    const rows = schedules.map((s) => {
      const zone = s.definition.timezone;
      const status = s.paused
        ? paint('yellow', 'paused')
        : s.nextRunAt
          ? paint('green', 'active')
          : paint('gray', 'ended');
      return [
        s.id,
        describe(s),
        zone,
        s.definition.task,
        status,
        when(s.nextRunAt, zone),
        when(s.lastRunAt, zone),
      ];
    });
    println(
      context,
      table(
        [
          { header: 'id' },
          { header: 'schedule' },
          { header: 'zone' },
          { header: 'task' },
          { header: 'status' },
          { header: 'next run (zone)' },
          { header: 'last run (zone)' },
        ],
        rows,
        paint,
      ),
    );
    return 0;
  });
}
