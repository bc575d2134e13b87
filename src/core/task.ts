/**
 * Task definitions: a name, a handler, optional payload validation and per-task defaults.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { DependencyEdgeState, DependencyPolicy } from '../driver/dependencies.js';
import { InvalidOptionError, InvalidPayloadError } from './errors.js';
import { assertKnownOptions, optionNames } from './known-options.js';
import { isName, NAME_RULE } from './names.js';
import { preview } from './preview.js';
import type { BackoffFunction, BackoffSpec, JobState } from './types.js';

/** What a handler receives besides its payload. */
export interface TaskContext {
  /** The running job. */
  readonly job: {
    readonly id: string;
    readonly task: string;
    readonly queue: string;
    /** This attempt's number, 1 for the first run. */
    readonly attempt: number;
    readonly maxAttempts: number;
    readonly correlationId: string;
    readonly metadata: Readonly<Record<string, unknown>>;
    readonly priority: number;
  };
  /**
   * Fires when the attempt must stop: timeout (`JobTimeoutError`), cancellation
   * (`JobCancelledError`), shutdown past the grace period (`ShutdownAbortError`) or a lost lease
   * (`LeaseLostError`); `signal.reason` says which. Pass it to fetch, streams and child processes.
   */
  readonly signal: AbortSignal;
  /** Report progress (any JSON value, e.g. a percentage). Emits `job:progress`; stored with the job. */
  progress(value: unknown): void;
  /** The id of the worker running this attempt. */
  readonly workerId: string;
  /**
   * The jobs this one depends on (`dependsOn`), by id, with their state and stored result as
   * they are now. Given a task (or contract), only that task's dependencies, with the result typed
   * as its handler's. See docs/dependencies.md.
   */
  dependencies<T extends AnyTaskRef | undefined = undefined>(
    task?: T,
  ): Promise<DependencyResult<T extends AnyTaskRef ? TaskResult<T> : unknown>[]>;
}

/** One dependency of a running job, as `TaskContext.dependencies()` reads it. */
export interface DependencyResult<Result = unknown> {
  /** The dependency's job id. */
  id: string;
  task: string;
  /** Its state now (`completed` unless its edge's policy let this job run anyway); `deleted` once pruned. */
  state: JobState | 'deleted';
  /** Its stored result when it completed, else null. */
  result: Result | null;
  /** What its end did to this job (see docs/dependencies.md). */
  edge: DependencyEdgeState;
  onFailure: DependencyPolicy;
}

/** A task handler: returns the job's result (any JSON value, or nothing). */
export type TaskHandler<Payload, Result> = (
  payload: Payload,
  context: TaskContext,
) => Promise<Result> | Result;

/** Options shared by task definitions (defaults for their jobs) and enqueue calls. */
export interface JobDefaults {
  /** Queue the job waits in. Default `"default"`. */
  queue?: string;
  /** Larger runs first among due jobs of a queue. Default 0. */
  priority?: number;
  /** Attempts before the job is abandoned. Default 3. */
  maxAttempts?: number;
  /** Per-attempt time limit in ms; the handler's signal aborts when it elapses. Default none. */
  timeoutMs?: number;
  /** Delay before a retry. Default exponential with jitter from 1 s, capped at 1 h. */
  backoff?: BackoffSpec;
}

/** The definition passed to `defineTask`. */
export interface TaskDefinitionInput<Input, Payload, Result> extends JobDefaults {
  /** Unique task name: letters, digits, `.`, `_`, `-`, `:`; 1–128 characters. */
  name: string;
  /**
   * Optional Standard Schema (zod, valibot, arktype, …). The payload is validated at enqueue and
   * again before each run; the handler receives the schema's output.
   */
  schema?: StandardSchemaV1<Input, Payload>;
  /** A backoff computed in code; overrides `backoff`. Only the defining process can use it. */
  backoffFn?: BackoffFunction;
  handler: TaskHandler<Payload, Result>;
}

/** A registered task. `Input` is what enqueue accepts, `Payload` what the handler receives. */
export interface Task<Input = unknown, Payload = Input, Result = unknown> extends JobDefaults {
  readonly name: string;
  readonly schema?: StandardSchemaV1<Input, Payload>;
  readonly backoffFn?: BackoffFunction;
  readonly handler: TaskHandler<Payload, Result>;
  /** Phantom field carrying the enqueue input type for inference; always undefined. */
  readonly __input?: Input;
}

/**
 * What a producer needs to enqueue a task — its name, payload schema and job defaults — without
 * its handler. Both a `Task` and a `TaskContract` are one; `enqueue` accepts either.
 */
export interface TaskRef<Input = unknown, Payload = Input> extends JobDefaults {
  readonly name: string;
  readonly schema?: StandardSchemaV1<Input, Payload>;
  /** Phantom field carrying the enqueue input type for inference; always undefined. */
  readonly __input?: Input;
}

/**
 * A task's contract: everything but the handler. Share it between a producer service (which
 * enqueues it, typed) and the worker service that attaches the handler with `implement`.
 */
export interface TaskContract<Input = unknown, Payload = Input, Result = unknown>
  extends TaskRef<Input, Payload> {
  /** Phantom field carrying the handler's result type; always undefined. */
  readonly __result?: Result;
  /** The runnable task: this contract plus a handler (and optionally a backoff computed in code). */
  implement(
    handler: TaskHandler<Payload, Result>,
    extras?: { backoffFn?: BackoffFunction },
  ): Task<Input, Payload, Result>;
}

/** The declaration passed to `declareTask`: a task definition without its handler. */
export type TaskDeclarationInput<Input, Payload> = Omit<
  TaskDefinitionInput<Input, Payload, unknown>,
  'handler' | 'backoffFn'
>;

/** Any task or contract, for APIs that only enqueue. */
// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous collection needs an open element type.
export type AnyTaskRef = TaskRef<any, any>;

/** Any task, for collections. */
// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous registry needs an open element type.
export type AnyTask = Task<any, any, any>;

/** The payload type `enqueue` accepts for a task. */
export type TaskInput<T> = T extends { readonly __input?: infer I } ? I : never;
/**
 * The result type a task's handler resolves with; `unknown` for a task name or a reference whose
 * result type is not known (such as `AnyTaskRef`).
 */
export type TaskResult<T> = T extends { readonly handler: (...args: never[]) => infer R }
  ? Awaited<R>
  : T extends { readonly __result?: infer R }
    ? R
    : unknown;

/** True for a valid task name (the same rule as queue names, see `names.ts`). */
export const isTaskName = (value: unknown): value is string => isName(value);

/** The fields of a task definition: anything else is a mistake (`retry`, `attempts`, …). */
const TASK_DEFINITION_NAMES = optionNames<TaskDefinitionInput<unknown, unknown, unknown>>({
  name: true,
  schema: true,
  backoffFn: true,
  handler: true,
  queue: true,
  priority: true,
  maxAttempts: true,
  timeoutMs: true,
  backoff: true,
});

/**
 * Define a task. The payload type is inferred from `schema` when given, else from the handler's
 * first parameter.
 *
 * ```ts
 * const sendEmail = defineTask({
 *   name: 'send-email',
 *   schema: z.object({ to: z.string().email() }),
 *   handler: async ({ to }, { signal }) => mailer.send(to, { signal }),
 * });
 * ```
 */
export function defineTask<Payload, Result = unknown, Input = Payload>(
  definition: TaskDefinitionInput<Input, Payload, Result>,
): Task<Input, Payload, Result> {
  if (!isName(definition?.name)) {
    throw new InvalidOptionError('name', `task names are ${NAME_RULE}, got ${preview(definition?.name)}`);
  }
  assertKnownOptions('', definition, TASK_DEFINITION_NAMES, `field of task "${definition.name}"`);
  if (typeof definition.handler !== 'function') {
    throw new InvalidOptionError('handler', `task "${definition.name}" needs a handler function`);
  }
  if (definition.backoffFn !== undefined && typeof definition.backoffFn !== 'function') {
    throw new InvalidOptionError('backoffFn', 'must be a function (attempt, error) => delay in ms');
  }
  if (definition.schema !== undefined && typeof definition.schema?.['~standard']?.validate !== 'function') {
    throw new InvalidOptionError('schema', 'must be a Standard Schema (zod, valibot, arktype, …)');
  }
  return Object.freeze({ ...definition });
}

/**
 * Declare a task's contract without its handler, so a process that only enqueues it gets its
 * queue, attempts, backoff and timeout (and, with `schema`, validation) — typed like the task.
 * The worker attaches the handler with `implement`; the result is a task like `defineTask`'s.
 *
 * ```ts
 * // shared/tasks.ts
 * export const sendEmail = declareTask<{ to: string }, { id: string }>({ name: 'send-email', queue: 'emails' });
 * // producer: createJobwire({ driver, tasks: [sendEmail] }); await jobwire.enqueue(sendEmail, { to });
 * // worker:   createJobwire({ driver, tasks: [sendEmail.implement(async ({ to }) => mailer.send(to))] });
 * ```
 */
export function declareTask<Payload, Result = unknown, Input = Payload>(
  declaration: TaskDeclarationInput<Input, Payload>,
): TaskContract<Input, Payload, Result> {
  const checked = { ...declaration };
  if ('handler' in checked) {
    throw new InvalidOptionError(
      'handler',
      `declareTask("${checked.name}") takes no handler: use implement()`,
    );
  }
  // A definition's checks apply to a contract too: run them once here, with a placeholder handler.
  defineTask({ ...checked, handler: () => undefined });
  const contract: TaskContract<Input, Payload, Result> = {
    ...checked,
    implement: (handler, extras) => defineTask<Payload, Result, Input>({ ...checked, ...extras, handler }),
  };
  return Object.freeze(contract);
}

/** True for a contract from `declareTask`: it can be implemented but has no handler to run. */
export const isTaskContract = (value: AnyTaskRef): boolean =>
  typeof (value as { handler?: unknown }).handler !== 'function' &&
  typeof (value as { implement?: unknown }).implement === 'function';

/**
 * Validate a payload against a task's schema. Returns the schema's output; throws
 * `InvalidPayloadError` listing every issue.
 */
export async function validatePayload(task: AnyTaskRef, payload: unknown): Promise<unknown> {
  if (!task.schema) return payload;
  let result = task.schema['~standard'].validate(payload);
  if (result instanceof Promise) result = await result;
  if (result.issues) {
    const issues = result.issues.map((issue) => ({
      message: issue.message,
      path: issue.path?.map((segment) => (typeof segment === 'object' ? segment.key : segment)),
    }));
    const summary = issues
      .slice(0, 5)
      .map((issue) => (issue.path?.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
      .join('; ');
    throw new InvalidPayloadError(task.name, summary, issues);
  }
  return result.value;
}
