/**
 * The acting half of `jobwire jobs`: retry, cancel and delete by id, retry and cancel by filter,
 * and the checks of job ids and states the listing shares.
 */
import { JOB_STATES, type JobFilter, JobNotFoundError, type JobState, type Jobwire } from '../../index.js';
import { CliError, closest, DB, HELP, listOption, parseCommandArgs, UsageError } from '../args.js';
import { type CommandContext, eprintln, println } from '../command.js';
import { colorEnabled, painter } from '../format.js';
import { withClient } from '../open-client.js';

/** One id's action: resolves with the line to print, throws what to report. */
export type PerId = (client: Jobwire, id: string) => Promise<string>;
/** A bulk action on the jobs a filter selects: resolves with the line to print. */
export type Matching = (client: Jobwire, filter: JobFilter) => Promise<string>;

/** Job ids are whole numbers: anything else is a mistake on the command line, not a missing job. */
export function jobIdOf(text: string): string {
  if (!/^[1-9][0-9]{0,18}$/.test(text)) {
    throw new UsageError(
      `"${text}" is not a job id`,
      'job ids are whole numbers, e.g. 42 (see "jobwire jobs ls")',
    );
  }
  return text;
}

/** A --state list checked against `allowed`, with a "did you mean". */
export function stateList(value: string | undefined, allowed: readonly JobState[]): JobState[] | undefined {
  const states = listOption(value);
  for (const state of states ?? []) {
    if (!(allowed as readonly string[]).includes(state)) {
      const guess = closest(state, allowed);
      throw new UsageError(
        `${(JOB_STATES as readonly string[]).includes(state) ? 'this command does not act on' : 'unknown'} state "${state}"`,
        `${guess ? `did you mean "${guess}"? ` : ''}states here: ${allowed.join(', ')}`,
      );
    }
  }
  return states as JobState[] | undefined;
}

/**
 * Apply `action` to each id, or `matching` to the jobs the filters select (ids or filters, not
 * both); report each outcome; exit 1 if any id failed.
 */
export async function eachId(
  name: string,
  help: string,
  args: string[],
  context: CommandContext,
  action: PerId,
  matching?: { states: readonly JobState[]; run: Matching },
) {
  const filters = matching
    ? { state: { type: 'string' }, queue: { type: 'string' }, task: { type: 'string' } }
    : {};
  const { values, positionals } = parseCommandArgs(`jobwire jobs ${name}`, {
    args,
    allowPositionals: true,
    options: { ...HELP, ...DB, ...(filters as Record<string, { type: 'string' }>) },
  });
  if (values.help) {
    println(context, help);
    return 0;
  }
  const raw = values as Record<string, string | undefined>;
  const filtered = matching && (raw.state !== undefined || raw.queue !== undefined || raw.task !== undefined);
  if (filtered && positionals.length > 0) {
    throw new UsageError('give job ids or filters, not both', `usage: jobwire jobs ${name} --help`);
  }
  if (matching && filtered) {
    const filter: JobFilter = {
      state: stateList(raw.state, matching.states),
      queue: listOption(raw.queue),
      task: listOption(raw.task),
    };
    return withClient(
      { db: values.db, schema: values.schema, strictTasks: false, mustExist: true },
      async (client) => {
        println(context, await matching.run(client, filter));
        return 0;
      },
    );
  }
  if (positionals.length === 0) {
    throw new UsageError(
      `missing the job id(s)${matching ? ' or filters' : ''}`,
      `usage: jobwire jobs ${name} <id…>${matching ? ` or jobwire jobs ${name} --queue <q> --state <s>` : ''}`,
    );
  }
  const ids = positionals.map(jobIdOf);
  return withClient(
    { db: values.db, schema: values.schema, strictTasks: false, mustExist: true },
    async (client) => {
      let failed = 0;
      const paint = painter(colorEnabled(context.io.err));
      for (const id of ids) {
        try {
          println(context, await action(client, id));
        } catch (error) {
          failed++;
          eprintln(
            context,
            `${paint(['bold', 'red'], 'error:')} ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
      return failed ? 1 : 0;
    },
  );
}

/** `jobs retry --state/--queue/--task`. */
export const retryMatching = {
  states: ['abandoned', 'cancelled', 'completed'] as const,
  run: async (client: Jobwire, filter: JobFilter) => {
    const { count, skipped } = await client.retryJobs(filter);
    return (
      `retried ${count} ${count === 1 ? 'job' : 'jobs'}` +
      (skipped ? ` (${skipped} changed state meanwhile)` : '')
    );
  },
};

/** `jobs cancel --state/--queue/--task`. */
export const cancelMatching = {
  states: ['blocked', 'scheduled', 'pending', 'running'] as const,
  run: async (client: Jobwire, filter: JobFilter) => {
    const { count, skipped } = await client.cancelJobs(filter);
    return (
      `cancelled ${count} ${count === 1 ? 'job' : 'jobs'}` +
      (skipped ? ` (${skipped} finished meanwhile)` : '')
    );
  },
};

/** `jobs retry <id>`. */
export async function retryOne(client: Jobwire, id: string): Promise<string> {
  const job = await client.retryJob(id);
  return `retried #${job.id} (${job.task}): ${job.state}, ${job.maxAttempts} attempts`;
}

/** `jobs cancel <id>`: says whether it was already cancelled. */
export async function cancelOne(client: Jobwire, id: string): Promise<string> {
  const before = await client.getJob(id);
  if (!before) throw new JobNotFoundError(id);
  if (await client.cancelJob(id)) return `cancelled #${id} (${before.task}, was ${before.state})`;
  const now = await client.getJob(id);
  if (!now) throw new JobNotFoundError(id);
  if (now.state === 'cancelled') return `#${id} (${now.task}) was already cancelled`;
  throw new CliError(
    `job ${id} is already ${now.state}; only blocked, scheduled, pending or running jobs can be cancelled`,
  );
}

/** `jobs delete <id>`. */
export async function deleteOne(client: Jobwire, id: string): Promise<string> {
  if (!(await client.deleteJob(id))) throw new JobNotFoundError(id);
  return `deleted #${id}`;
}
