/**
 * Turning enqueue items into the rows a driver inserts: every check and every encoding happens
 * here, before anything is written, so a refused item leaves nothing behind.
 */
import { randomUUID } from 'node:crypto';
import type { JobInsertParams } from '../driver/driver.js';
import { InvalidOptionError, JobwireError } from './errors.js';
import { assertKnownOptions, optionNames } from './known-options.js';
import { type EnqueueOptions, resolveJobOptions } from './options.js';
import { encodeMetadata, encodePayload } from './serialize.js';
import { type AnyTaskRef, type TaskInput, validatePayload } from './task.js';
import type { ResolvedTask } from './task-defaults.js';

/** One item of `enqueueMany`, untyped (see `TypedEnqueueItem` for the checked form). */
export interface EnqueueItem {
  /** A task, a contract from `declareTask`, or a task name. */
  task: AnyTaskRef | string;
  payload: unknown;
  options?: Omit<EnqueueOptions, 'transaction' | 'executor'>;
}

/** The payload an item naming `T` takes: the task's input, or anything for a task name. */
export type ItemPayload<T> = T extends string ? unknown : TaskInput<T>;

/**
 * One item of `enqueueMany` for `T`, a task, a contract or a task name: a task's item must carry
 * that task's input type as its payload, so a wrong payload does not compile; a name takes any.
 */
export interface TypedEnqueueItem<T extends AnyTaskRef | string> {
  task: T;
  payload: ItemPayload<T>;
  options?: Omit<EnqueueOptions, 'transaction' | 'executor'>;
}

/** What `prepareJobs` needs from the client. */
export interface PrepareContext {
  /**
   * The defaults (and, for a local task or contract, the schema) of what an item names: a task
   * registered here, one a worker published, or — with strictTasks off — none.
   */
  resolveTask(task: AnyTaskRef | string): Promise<ResolvedTask>;
  maxPayloadBytes: number;
  /** The correlation id of the job whose handler is enqueueing, if any. */
  inheritedCorrelationId: string | undefined;
  /** True for `enqueueMany`: errors then name the item's index. */
  many: boolean;
}

/** Items prepared between two yields to the event loop. */
const CHUNK = 500;

/**
 * Validate and encode every item. A large batch yields to the event loop every few hundred
 * items, so timers and heartbeats in this process keep running; nothing is written until every
 * item passed, so the batch stays all-or-nothing.
 */
export async function prepareJobs(
  items: readonly (EnqueueItem | undefined)[],
  context: PrepareContext,
): Promise<JobInsertParams[]> {
  const rows: JobInsertParams[] = [];
  for (let index = 0; index < items.length; index++) {
    if (index > 0 && index % CHUNK === 0) await new Promise((resolve) => setImmediate(resolve));
    try {
      rows.push(await prepareJob(items[index], context));
    } catch (error) {
      // Say which item of a batch was refused; the error's class, code and field stay the same.
      if (context.many && error instanceof JobwireError) error.message += ` (enqueueMany item ${index})`;
      throw error;
    }
  }
  return rows;
}

/** An item's fields: a misplaced option (`{ task, payload, priority }`) is refused, not dropped. */
const ITEM_FIELDS = optionNames<EnqueueItem>({ task: true, payload: true, options: true });

async function prepareJob(item: EnqueueItem | undefined, context: PrepareContext): Promise<JobInsertParams> {
  if (typeof item !== 'object' || item === null) {
    throw new InvalidOptionError(
      'items',
      `each item must be an object { task, payload, options }, got ${String(item)}`,
    );
  }
  // Per item of a batch of up to 10,000: look for a stray key without building a key array.
  for (const key in item) {
    if (!ITEM_FIELDS.has(key)) assertKnownOptions('', item, ITEM_FIELDS, 'enqueueMany item field');
  }
  const { name, defaults, ref: definition } = await context.resolveTask(item.task);
  // Explicit options win over the task's defaults, local or published.
  const resolved = resolveJobOptions(defaults, item.options);
  const payload = definition ? await validatePayload(definition, item.payload) : item.payload;
  // Store what the caller sent (the schema's input), so validation before the run sees the same shape.
  const payloadJson = encodePayload(
    name,
    definition?.schema ? item.payload : payload,
    context.maxPayloadBytes,
  );
  return {
    task: name,
    queue: resolved.queue,
    payloadJson,
    priority: resolved.priority,
    maxAttempts: resolved.maxAttempts,
    delayMs: resolved.delayMs,
    runAt: resolved.runAt,
    uniqueKey: resolved.uniqueKey,
    ...(resolved.dedup ? { dedup: resolved.dedup } : {}),
    concurrencyKey: resolved.concurrencyKey,
    correlationId: resolved.correlationId ?? context.inheritedCorrelationId ?? randomUUID(),
    metadataJson: encodeMetadata(resolved.metadata, context.maxPayloadBytes),
    timeoutMs: resolved.timeoutMs,
    backoff: resolved.backoff,
  };
}
