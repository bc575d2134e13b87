/**
 * The webhook sink: selected events — of a client's in-process bus, or of the durable log through
 * a named subscription — become delivery jobs, one per (event, endpoint), in a queue of their own. Delivery is an ordinary jobwire task, so it retries
 * with backoff, lands in `abandoned` when its attempts run out, and can be listed and retried
 * like any job.
 */
import { createHash } from 'node:crypto';
import type { Jobwire } from '../../core/client.js';
import { ClosedError, InvalidOptionError, UnrecoverableError } from '../../core/errors.js';
import type { JobwireEventName } from '../../core/events.js';
import { defineTask, type Task } from '../../index.js';
import { deliverHttp, WebhookResponseError, WebhookTargetRefusedError } from './deliver.js';
import {
  type AnyJobwireEvent,
  type ResolvedSinkOptions,
  resolveSinkOptions,
  selects,
  type WebhookSinkOptions,
} from './options.js';
import { signWebhook } from './signature.js';

/** The name of the built-in task that delivers one webhook. */
export const WEBHOOK_DELIVER_TASK = 'jobwire.webhook.deliver';

/** The payload of a delivery job. The endpoint's secret is never stored: only its id. */
export interface WebhookDelivery {
  endpointId: string;
  /** The `webhook-id` header: the same on every attempt of this delivery. */
  messageId: string;
  type: JobwireEventName;
  /** When the sink saw the event (ms since the epoch). */
  emittedAt: number;
  data: AnyJobwireEvent;
}

/** The body POSTed to the endpoint (the Standard Webhooks payload shape). */
export interface WebhookBody {
  type: JobwireEventName;
  /** ISO 8601 time the event was emitted. */
  timestamp: string;
  data: AnyJobwireEvent;
}

/** What a delivery job's result records. */
export interface WebhookDeliveryResult {
  status: number;
  endpointId: string;
  messageId: string;
}

/** A sink attached to a client; `stop()` detaches it. */
export interface WebhookSink {
  /** The delivery task (registered on the client). */
  readonly task: Task<WebhookDelivery, WebhookDelivery, WebhookDeliveryResult>;
  /** The queue delivery jobs wait in: a pool must serve it for anything to be sent. */
  readonly queue: string;
  /** Stop enqueueing deliveries; resolves once the enqueues already started are stored. */
  stop(): Promise<void>;
}

/**
 * A stable message id for an event: the same event (name and payload) always gets the same id,
 * so a retried delivery — and the same event sent to several endpoints — keeps it.
 */
export function webhookMessageId(name: JobwireEventName, event: AnyJobwireEvent): string {
  const digest = createHash('sha256')
    .update(name)
    .update('\n')
    .update(JSON.stringify(event))
    .digest('base64url');
  return `msg_${digest.slice(0, 32)}`;
}

/**
 * Attach a webhook sink to a client: register the delivery task and enqueue, for each selected
 * event this process emits, one delivery job per endpoint that selects it. Attach the same sink
 * (same endpoints and secrets) in the processes whose pools serve its queue: the secret is read
 * from the configuration at delivery time, never from the database.
 */
export function webhooks(jobwire: Jobwire, options: WebhookSinkOptions): WebhookSink {
  const settings = resolveSinkOptions(options);
  if (jobwire.getTask(WEBHOOK_DELIVER_TASK)) {
    throw new InvalidOptionError(
      'jobwire',
      'this client has a webhook sink already: list every endpoint in one',
    );
  }
  const task = defineTask<WebhookDelivery, WebhookDeliveryResult>({
    name: WEBHOOK_DELIVER_TASK,
    queue: settings.queue,
    maxAttempts: settings.maxAttempts,
    // The attempt's limit is the request's: a body trickling in slower than that is a failure too.
    timeoutMs: settings.timeoutMs,
    backoff: settings.backoff,
    handler: (delivery, context) => deliver(settings, delivery, context.signal),
  });
  jobwire.registerTask(task);

  const pending = new Set<Promise<unknown>>();
  /** Workers whose last job was a delivery: their next `worker:idle` is one of ours. */
  const deliveringWorkers = new Set<string>();

  const isOwnEvent = (name: JobwireEventName, event: AnyJobwireEvent): boolean => {
    const fields = event as { task?: unknown; poolId?: unknown; workerId?: unknown };
    const worker = `${String(fields.poolId)}/${String(fields.workerId)}`;
    if (name === 'worker:busy') {
      if (fields.task === WEBHOOK_DELIVER_TASK) deliveringWorkers.add(worker);
      else deliveringWorkers.delete(worker);
    }
    if (name === 'worker:idle' && deliveringWorkers.delete(worker)) return true;
    return fields.task === WEBHOOK_DELIVER_TASK;
  };

  /** The delivery jobs of one event (none when no endpoint selects it). */
  const deliveries = (name: JobwireEventName, event: AnyJobwireEvent, emittedAt: number) => {
    // Deliveries' own events would each cause another delivery, without end.
    if (isOwnEvent(name, event)) return [];
    const targets = [...settings.endpoints.values()].filter(
      (endpoint) => selects(endpoint.events, name) && (endpoint.filter?.(event, name) ?? true),
    );
    const messageId = webhookMessageId(name, event);
    return targets.map((endpoint) => ({
      task,
      payload: { endpointId: endpoint.id, messageId, type: name, emittedAt, data: event },
      options: { metadata: { webhookEndpoint: endpoint.id, webhookEvent: name, webhookId: messageId } },
    }));
  };

  if (settings.source !== 'bus') {
    const subscriptionName = settings.source.subscription;
    // From the durable log: the subscription's position is stored with the enqueue (PostgreSQL)
    // or right after it (SQLite: the handler may see an event twice; see below).
    // A name used for the first time starts at 'now' unless asked otherwise: the log keeps days of
    // history, and attaching a sink must not send it all to the receivers.
    const subscription = jobwire.events.subscribe(
      settings.source.subscription,
      async (logged, context) => {
        const jobs = deliveries(logged.type as JobwireEventName, logged.data as AnyJobwireEvent, logged.at);
        if (jobs.length === 0) return;
        if (context.transaction !== undefined) {
          await jobwire.enqueueMany(jobs, { transaction: context.transaction });
          return;
        }
        // Without a transaction (SQLite) the position is stored after the handler, so every
        // process running this subscription may handle the same event (about one event in ten
        // with two processes attached, as this page tells them to be), and one that dies between
        // the two handles it again. The delivery's key makes the database keep one job per
        // (endpoint, message) while any is kept, finished ones included: each event is enqueued
        // once per endpoint, as on PostgreSQL.
        await jobwire.enqueueMany(
          jobs.map((job) => ({
            ...job,
            options: {
              ...job.options,
              unique: deliveryUnique(subscriptionName, job.payload.endpointId, job.payload.messageId),
            },
          })),
        );
      },
      { from: settings.source.from },
    );
    return { task, queue: settings.queue, stop: () => subscription.stop() };
  }

  const off = jobwire.events.onAny((name, event) => {
    const jobs = deliveries(name, event, jobwire.clock.now());
    if (jobs.length === 0) return;
    const stored = jobwire
      .enqueueMany(jobs)
      .catch((error: unknown) => {
        // Events emitted while the client closes cannot be stored any more.
        if (!(error instanceof ClosedError)) throw error;
      })
      .finally(() => pending.delete(stored));
    pending.add(stored);
    // A failed enqueue reaches the client's onListenerError through the bus.
    return stored;
  });

  return {
    task,
    queue: settings.queue,
    async stop() {
      off();
      await Promise.allSettled([...pending]);
    },
  };
}

/** Every state a job can be in (the unique key then holds for as long as the delivery is kept). */
const EVERY_STATE = ['scheduled', 'pending', 'running', 'completed', 'abandoned', 'cancelled'] as const;

/**
 * The dedup rule of one event's delivery to one endpoint (subscription source without
 * transactions). The subscription's name is part of the key: a sink under another name (a replay
 * of the log with `from: 'start'`) still sends its own deliveries, as on PostgreSQL.
 */
function deliveryUnique(subscription: string, endpointId: string, messageId: string) {
  return {
    key: `${WEBHOOK_DELIVER_TASK}:${subscription}:${endpointId}:${messageId}`,
    states: [...EVERY_STATE],
  };
}

async function deliver(
  settings: ResolvedSinkOptions,
  delivery: WebhookDelivery,
  signal: AbortSignal,
): Promise<WebhookDeliveryResult> {
  const endpoint = settings.endpoints.get(delivery.endpointId);
  if (!endpoint) {
    // Not unrecoverable: another process, or this one after a redeploy, may know the endpoint.
    throw new Error(`webhook endpoint "${delivery.endpointId}" is not configured in this process`);
  }
  const body: WebhookBody = {
    type: delivery.type,
    timestamp: new Date(delivery.emittedAt).toISOString(),
    data: delivery.data,
  };
  const text = JSON.stringify(body);
  // The wall clock, not the client's: receivers compare it with theirs to refuse replays.
  const headers = signWebhook(endpoint.secret, delivery.messageId, Date.now() / 1000, text);
  try {
    const status = await deliverHttp({
      url: endpoint.parsedUrl,
      headers: { ...headers },
      body: text,
      timeoutMs: settings.timeoutMs,
      allowPrivateTargets: settings.allowPrivateTargets,
      signal,
    });
    return { status, endpointId: endpoint.id, messageId: delivery.messageId };
  } catch (error) {
    if (error instanceof WebhookTargetRefusedError) {
      throw new UnrecoverableError(error.message, { cause: error });
    }
    if (error instanceof WebhookResponseError && error.status === 410) {
      throw new UnrecoverableError(`${error.message} (410 Gone: the receiver asks not to be sent more)`, {
        cause: error,
      });
    }
    throw error;
  }
}
