/**
 * `jobwire enqueue <task> [json]`: add one job by task name (no task code needed here).
 */
import {
  closestName,
  type DedupRule,
  type DependencyPolicy,
  type DependsOn,
  type EnqueueOptions,
  JobFailedError,
  JobwireError,
} from '../../index.js';
import { CliError, DB, HELP, intOption, JSON_FLAG, parseCommandArgs, UsageError } from '../args.js';
import { type Command, type CommandContext, eprintln, println } from '../command.js';
import { durationOption } from '../duration.js';
import { safeJson } from '../format.js';
import { findJsonError } from '../json-position.js';
import { withClient } from '../open-client.js';

const HELP_TEXT = `jobwire enqueue — add a job

Usage
  jobwire enqueue <task> [payload] [options]

  <task>      the task name (a worker with that task runs it). The job gets the task's
              defaults (queue, priority, attempts, timeout, backoff) as its workers
              published them (see "jobwire tasks"); the options below override them
  [payload]   the payload as JSON, e.g. '{"to":"ada@example.com"}'; "-" reads it from stdin.
              Default: {}

Options
  --queue <q>             queue (default: the task's, else "default")
  --priority <n>          larger runs first among due jobs of the queue (default: the task's,
                          else 0); negative values run after the default (--priority -5)
  --delay <duration>      run no earlier than this long from now: 5000 (ms), 5s, 10m, 2h, 7d
  --max-attempts <n>      attempts before the job is abandoned (default: the task's, else 3)
  --unique-key <k>        while a job with this key is active, return it instead of adding one
  --unique-for <d>        with --unique-key: also return a job with the key that completed
                          less than this long ago, e.g. 1h
  --throttle <k>          at most one job per key per --window: within it, return the first
  --debounce <k>          run --window after the latest enqueue with this key: while the job
                          still waits, replace its payload and push its run time back
  --window <d>            the throttle or debounce window, e.g. 10s, 1m
  --max-wait <d>          with --debounce: never push the run past first enqueue + this
  --concurrency-key <k>   the flow-control key (e.g. a tenant): the queue's per-key limits apply
  --depends-on <id,…>     wait (state blocked) until these jobs completed; the job becomes due in
                          the write that completes the last one (see docs/dependencies.md)
  --on-failure <p>        with --depends-on: what a dependency that is abandoned, cancelled or
                          deleted does to this job: cancel (default), run, or block
  --attempt-timeout <d>   per-attempt time limit, e.g. 30s (the handler's signal aborts)
  --wait                  wait for the job to finish and print its result; exit 1 if it is
                          abandoned or cancelled
  --timeout <duration>    with --wait: give up waiting after this long, e.g. 1m (exit 1; the
                          job stays)
  --db <path|url>         database (default: $JOBWIRE_DATABASE_URL, a postgres $DATABASE_URL,
                          else ./jobwire.db; see jobwire --help)
  --schema <name>         PostgreSQL schema (default $JOBWIRE_SCHEMA, else jobwire)
  --new-task              enqueue a task no worker has published yet even when its name is close
                          to one that is (without it, that is refused as a likely typo)
  --json                  print the job record as JSON (with --wait: the finished record)
  -h, --help              show this help

Output: the job id on stdout (with --wait, then the result as JSON). A deduplicated enqueue
(unique key, throttle, debounce) prints the matched job's id and a note on stderr; so does a task no worker has published yet
(the job then gets the global defaults unless options say otherwise). Such a task whose name is
close to a published one ("sned-email" for "send-email") is refused with exit code 1 and the
name it likely meant, unless --new-task says it is new.

Examples
  jobwire enqueue send-email '{"to":"ada@example.com"}' --queue emails
  echo '{"rows":500}' | jobwire enqueue process-data - --wait --timeout 1m`;

export const enqueueCommand: Command = {
  name: 'enqueue',
  summary: 'add a job by task name (payload as JSON), optionally wait for its result',
  help: HELP_TEXT,
  run,
};

/** Parse a JSON payload; on failure say where, with the line, column and a pointer. */
export function parsePayload(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (text.trim() === '') {
      throw new CliError(`invalid JSON payload (${source}): it is empty`, 'pass e.g. {} or {"key": "value"}');
    }
    const problem = findJsonError(text);
    if (!problem) throw new CliError(`invalid JSON payload (${source}): ${(error as Error).message}`);
    const { index, expected } = problem;
    const before = text.slice(0, index);
    const line = before.split('\n').length;
    const column = index - before.lastIndexOf('\n');
    const lineText = text.split('\n')[line - 1] ?? '';
    const start = Math.max(0, column - 1 - 40);
    const found = index < text.length ? `found ${JSON.stringify(text[index])}` : 'found the end of the input';
    throw new CliError(
      `invalid JSON payload (${source}) at line ${line}, column ${column} (position ${index}): expected ${expected}, ${found}\n` +
        `  ${lineText.slice(start, start + 80)}\n  ${' '.repeat(column - 1 - start)}^`,
      `quote the payload for your shell, e.g. '{"key": "value"}'`,
    );
  }
}

const POLICIES: readonly DependencyPolicy[] = ['cancel', 'run', 'block'];

/** `--depends-on 12,13` with `--on-failure`, as `dependsOn`. */
function dependsOnOption(ids: string | undefined, onFailure: string | undefined): DependsOn[] | undefined {
  if (ids === undefined) {
    if (onFailure !== undefined) throw new UsageError('--on-failure only applies with --depends-on');
    return undefined;
  }
  const list = ids.split(',').map((id) => id.trim());
  if (list.some((id) => !/^[1-9][0-9]*$/.test(id))) {
    throw new UsageError(`--depends-on takes job ids separated by commas, e.g. 12,13; got "${ids}"`);
  }
  if (onFailure !== undefined && !POLICIES.includes(onFailure as DependencyPolicy)) {
    throw new UsageError(`--on-failure must be one of ${POLICIES.join(', ')}; got "${onFailure}"`);
  }
  return list.map((id) => ({ id, onFailure: (onFailure as DependencyPolicy | undefined) ?? 'cancel' }));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function run(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('jobwire enqueue', {
    args,
    allowPositionals: true,
    options: {
      ...HELP,
      ...DB,
      ...JSON_FLAG,
      queue: { type: 'string' },
      priority: { type: 'string' },
      delay: { type: 'string' },
      'max-attempts': { type: 'string' },
      'unique-key': { type: 'string' },
      'unique-for': { type: 'string' },
      throttle: { type: 'string' },
      debounce: { type: 'string' },
      window: { type: 'string' },
      'max-wait': { type: 'string' },
      'concurrency-key': { type: 'string' },
      'depends-on': { type: 'string' },
      'on-failure': { type: 'string' },
      'attempt-timeout': { type: 'string' },
      wait: { type: 'boolean' },
      timeout: { type: 'string' },
      'new-task': { type: 'boolean' },
    },
  });
  if (values.help) {
    context.io.out.write(`${HELP_TEXT}\n`);
    return 0;
  }
  const [task, payloadArg, ...extra] = positionals;
  if (!task) throw new UsageError('missing the task name', 'usage: jobwire enqueue <task> [payload-json]');
  if (extra.length) {
    throw new UsageError(
      `unexpected argument "${extra[0]}"`,
      'the payload is ONE argument: quote the JSON for your shell, e.g. \'{"a": 1}\'',
    );
  }
  const timeoutMs = durationOption('timeout', values.timeout, { min: 1, max: 2_147_483_647 });
  if (timeoutMs !== undefined && !values.wait) throw new UsageError('--timeout only applies with --wait');

  const options: EnqueueOptions = {};
  if (values.queue !== undefined) options.queue = values.queue;
  const priority = intOption('priority', values.priority);
  if (priority !== undefined) options.priority = priority;
  const delay = durationOption('delay', values.delay, { min: 0 });
  if (delay !== undefined) options.delayMs = delay;
  const maxAttempts = intOption('max-attempts', values['max-attempts'], { min: 1 });
  if (maxAttempts !== undefined) options.maxAttempts = maxAttempts;
  Object.assign(options, dedupOptions(values));
  if (values['concurrency-key'] !== undefined) options.concurrencyKey = values['concurrency-key'];
  const dependsOn = dependsOnOption(values['depends-on'], values['on-failure']);
  if (dependsOn) options.dependsOn = dependsOn;
  const attemptTimeout = durationOption('attempt-timeout', values['attempt-timeout'], { min: 1 });
  if (attemptTimeout !== undefined) options.timeoutMs = attemptTimeout;

  const payload =
    payloadArg === undefined
      ? {}
      : payloadArg === '-'
        ? parsePayload(await readStdin(), 'stdin')
        : parsePayload(payloadArg, 'argument');

  // strictTasks off: a task no worker has published yet can still be enqueued (with a note).
  return withClient({ db: values.db, schema: values.schema, strictTasks: false }, async (client) => {
    const published = await client.getPublishedTask(task);
    if (!published && values['new-task'] !== true) {
      // Close to a name workers run: a typo, which would be stored and abandoned after its attempts.
      const near = closestName(
        task,
        (await client.listPublishedTasks()).map((t) => t.name),
      );
      if (near !== undefined) {
        throw new CliError(
          `no worker has published task "${task}"; did you mean "${near}"? Nothing was enqueued`,
          `jobwire tasks lists the published tasks; to enqueue "${task}" anyway (a task no worker runs yet), add --new-task`,
        );
      }
    }
    const job = await client.enqueue(task, payload, options);
    if (!published) {
      eprintln(
        context,
        `note: no worker has published task "${task}" yet, so the job got the global defaults ` +
          `(queue "${job.queue}", ${job.maxAttempts} attempts); a worker publishes its tasks when it starts`,
      );
    }
    if (job.state === 'blocked') {
      eprintln(context, `note: job #${job.id} is blocked until its dependencies complete`);
    }
    if (job.duplicate) eprintln(context, duplicateNote(job));
    if (!values.wait) {
      println(context, values.json ? safeJson(job, 2) : job.id);
      return 0;
    }
    if (!values.json) println(context, job.id);
    if (context.io.err.isTTY) eprintln(context, `waiting for job #${job.id} (${job.task})…`);
    try {
      const result = await client.waitForJob(job.id, { timeoutMs });
      if (values.json) println(context, safeJson(await client.getJob(job.id), 2));
      else println(context, safeJson(result ?? null, 2));
      return 0;
    } catch (error) {
      if (error instanceof JobFailedError && values.json) {
        println(context, safeJson(await client.getJob(job.id), 2));
      }
      if (error instanceof JobwireError && error.code === 'JOBWIRE_WAIT_TIMEOUT') {
        throw new CliError(error.message, `the job stays queued: see "jobwire jobs show ${job.id}"`);
      }
      throw error;
    }
  });
}

/** The rule options of the flags (`--unique-key`, `--unique-for`, `--throttle`, `--debounce`, …). */
function dedupOptions(values: Record<string, string | boolean | undefined>): EnqueueOptions {
  const text = (name: string) => values[name] as string | undefined;
  const rules = ['unique-key', 'throttle', 'debounce'].filter((name) => text(name) !== undefined);
  if (rules.length > 1)
    throw new UsageError(`--${rules[0]} and --${rules[1]} cannot be combined: a job has one rule`);
  const window = durationOption('window', text('window'), { min: 1 });
  const maxWait = durationOption('max-wait', text('max-wait'), { min: 1 });
  const uniqueFor = durationOption('unique-for', text('unique-for'), { min: 1 });
  if (window !== undefined && rules[0] !== 'throttle' && rules[0] !== 'debounce') {
    throw new UsageError('--window applies to --throttle or --debounce');
  }
  if (maxWait !== undefined && rules[0] !== 'debounce')
    throw new UsageError('--max-wait applies to --debounce');
  if (uniqueFor !== undefined && rules[0] !== 'unique-key')
    throw new UsageError('--unique-for applies to --unique-key');
  const key = rules[0] === undefined ? undefined : text(rules[0])!;
  switch (rules[0]) {
    case 'unique-key':
      return uniqueFor === undefined
        ? { uniqueKey: key! }
        : { unique: { key: key!, states: ['scheduled', 'pending', 'running', 'completed'], for: uniqueFor } };
    case 'throttle':
    case 'debounce': {
      if (window === undefined) throw new UsageError(`--${rules[0]} needs --window, e.g. --window 1m`);
      return rules[0] === 'throttle'
        ? { throttle: { key: key!, window } }
        : { debounce: { key: key!, window, ...(maxWait === undefined ? {} : { maxWait }) } };
    }
    default:
      return {};
  }
}

/** What a deduplicated enqueue tells the user on stderr. */
function duplicateNote(job: {
  id: string;
  state: string;
  runAt: Date;
  uniqueKey: string | null;
  dedup: DedupRule | null;
  matchedBy: string | null;
}): string {
  const key = job.dedup?.key ?? job.uniqueKey ?? '';
  if (job.matchedBy === 'debounce') {
    return `note: job #${job.id} (debounce key "${key}") had not started: its payload was replaced; it runs at ${job.runAt.toISOString()}`;
  }
  return `note: job #${job.id} holds ${job.matchedBy ?? 'unique'} key "${key}" and is already ${job.state}; no new job was added`;
}
