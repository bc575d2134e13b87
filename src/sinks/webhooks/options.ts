/**
 * The webhook sink's options and their validation: every mistake is an InvalidOptionError when
 * the sink is created, never a failed delivery later.
 */
import { InvalidOptionError } from '../../core/errors.js';
import type { JobwireEventName, JobwireEvents } from '../../core/events.js';
import type { BackoffSpec } from '../../core/types.js';
import { assertEventNames, assertKnownOptions, isQueueName, optionNames } from '../../index.js';
import { parseWebhookSecrets } from './signature.js';

/** Any event payload of the catalogue. */
export type AnyJobwireEvent = JobwireEvents[JobwireEventName];

/** One receiver of webhooks. */
export interface WebhookEndpoint {
  /** Stable name of this endpoint (stored in delivery jobs; the secret never is). */
  id: string;
  /** `http:` or `https:` URL that receives POSTs. */
  url: string;
  /**
   * The shared secret, `whsec_<base64 key>` (24–64 bytes; `generateWebhookSecret()` makes one).
   * To rotate it without a window of refused deliveries, pass `[newSecret, oldSecret]` until the
   * receiver has switched: every delivery is then signed with both.
   */
  secret: string | readonly string[];
  /**
   * Events to deliver: exact names (`job:abandoned`), a scope (`queue:*`) or everything (`*`).
   */
  events: readonly (JobwireEventName | `${string}:*` | '*')[];
  /** Deliver only events for which this returns true (called in the emitting process). */
  filter?(event: AnyJobwireEvent, name: JobwireEventName): boolean;
}

/** Every field of `WebhookEndpoint` (the compiler checks the list against it); any other key is refused. */
const ENDPOINT_OPTION_NAMES = optionNames<WebhookEndpoint>({
  id: true,
  url: true,
  secret: true,
  events: true,
  filter: true,
});

/** Options of `webhooks()`. */
export interface WebhookSinkOptions {
  endpoints: readonly WebhookEndpoint[];
  /** Queue of the delivery jobs; a pool must serve it. Default `jobwire-webhooks`. */
  queue?: string;
  /** Deliver to loopback, private, link-local, unique-local and metadata addresses. Default false. */
  allowPrivateTargets?: boolean;
  /** Time limit of one HTTP attempt in ms. Default 10,000. */
  timeoutMs?: number;
  /** Attempts per delivery before its job is abandoned. Default 10. */
  maxAttempts?: number;
  /** Delay between attempts. Default exponential from 5 s, capped at 1 h (about 3 h in all). */
  backoff?: BackoffSpec;
  /**
   * Where events come from. `'bus'` (default): what this process emits. `{ subscription: name }`:
   * the durable event log, through a named subscription — every selected event of every process,
   * each enqueued once per cluster (run the sink with one name in one or more processes: the
   * subscription's stored position is shared). On PostgreSQL the deliveries are enqueued in the
   * transaction that stores the position, so a crash neither loses nor repeats one.
   *
   * `from` is where a subscription name used for the first time starts: `'now'` (default) — the
   * events committed from then on — or `'start'`, the oldest event the log keeps (up to
   * `events.retention.maxAgeMs`, 7 days by default), to send that history on purpose. A name
   * with a stored position always resumes there.
   */
  source?: 'bus' | WebhookLogSource;
}

/** `source` in its object form: the durable event log through a named subscription. */
export interface WebhookLogSource {
  subscription: string;
  /** Where a name without a stored position starts: `'now'` (default) or `'start'`. */
  from?: 'now' | 'start';
}

/** Every field of `WebhookSinkOptions` (the compiler checks the list against it); any other key is refused. */
const SINK_OPTION_NAMES = optionNames<WebhookSinkOptions>({
  endpoints: true,
  queue: true,
  allowPrivateTargets: true,
  timeoutMs: true,
  maxAttempts: true,
  backoff: true,
  source: true,
});
/** The fields of `source` in its object form. */
const SOURCE_OPTION_NAMES = optionNames<WebhookLogSource>({
  subscription: true,
  from: true,
});

/** Options after validation and defaults. */
export interface ResolvedSinkOptions {
  endpoints: ReadonlyMap<string, WebhookEndpoint & { parsedUrl: URL }>;
  queue: string;
  allowPrivateTargets: boolean;
  timeoutMs: number;
  maxAttempts: number;
  backoff: BackoffSpec;
  source: 'bus' | Required<WebhookLogSource>;
}

export const DEFAULT_WEBHOOK_QUEUE = 'jobwire-webhooks';
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
export const DEFAULT_WEBHOOK_MAX_ATTEMPTS = 10;
export const DEFAULT_WEBHOOK_BACKOFF: BackoffSpec = { type: 'exponential', baseMs: 5_000, maxMs: 3_600_000 };

const EVENT_PATTERN = /^(\*|[a-z][a-z0-9-]*:(\*|[a-z][a-z0-9-]*))$/;

function positiveInteger(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError(field, `must be an integer >= 1, got ${String(value)}`);
  }
  return value;
}

/**
 * Validate the options and fill in defaults. A key the interfaces do not name is refused before
 * its object's values are checked, so a misspelt `endpoints` is answered with the name it meant
 * rather than "pass at least one endpoint".
 */
export function resolveSinkOptions(options: WebhookSinkOptions): ResolvedSinkOptions {
  if (typeof options === 'object' && options !== null) {
    assertKnownOptions('', options, SINK_OPTION_NAMES, 'webhook sink option');
  }
  if (!options || !Array.isArray(options.endpoints) || options.endpoints.length === 0) {
    throw new InvalidOptionError('endpoints', 'pass at least one endpoint { id, url, secret, events }');
  }
  const endpoints = new Map<string, WebhookEndpoint & { parsedUrl: URL }>();
  options.endpoints.forEach((endpoint, index) => {
    const field = `endpoints[${index}]`;
    if (typeof endpoint === 'object' && endpoint !== null) {
      assertKnownOptions(field, endpoint, ENDPOINT_OPTION_NAMES, 'webhook endpoint option');
    }
    if (!isQueueName(endpoint?.id)) {
      throw new InvalidOptionError(`${field}.id`, 'must be a name of letters, digits, ".", "_", "-" or ":"');
    }
    if (endpoints.has(endpoint.id))
      throw new InvalidOptionError(`${field}.id`, `"${endpoint.id}" is used twice`);
    let parsedUrl: URL;
    try {
      parsedUrl = new URL(endpoint.url);
    } catch {
      throw new InvalidOptionError(`${field}.url`, `not a URL: ${String(endpoint.url)}`);
    }
    if (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:') {
      throw new InvalidOptionError(`${field}.url`, 'must be an http: or https: URL');
    }
    if (parsedUrl.username || parsedUrl.password) {
      throw new InvalidOptionError(`${field}.url`, 'must not carry credentials; the signature authenticates');
    }
    parseWebhookSecrets(endpoint.secret, `${field}.secret`);
    if (!Array.isArray(endpoint.events) || endpoint.events.length === 0) {
      throw new InvalidOptionError(
        `${field}.events`,
        'list at least one event, e.g. ["job:abandoned", "queue:*"]',
      );
    }
    for (const pattern of endpoint.events) {
      if (typeof pattern !== 'string' || !EVENT_PATTERN.test(pattern)) {
        throw new InvalidOptionError(
          `${field}.events`,
          `"${String(pattern)}" is not an event name, "scope:*" or "*"`,
        );
      }
    }
    // Well-formed is not enough: "job:complete" would never be delivered.
    assertEventNames(`${field}.events`, endpoint.events, true);
    if (endpoint.filter !== undefined && typeof endpoint.filter !== 'function') {
      throw new InvalidOptionError(`${field}.filter`, 'must be a function');
    }
    endpoints.set(endpoint.id, { ...endpoint, parsedUrl });
  });
  const queue = options.queue ?? DEFAULT_WEBHOOK_QUEUE;
  if (!isQueueName(queue)) throw new InvalidOptionError('queue', 'must be a valid queue name');
  const source = options.source ?? 'bus';
  if (typeof source === 'object' && source !== null) {
    assertKnownOptions('source', source, SOURCE_OPTION_NAMES, 'webhook source option');
  }
  if (source !== 'bus' && (typeof source !== 'object' || typeof source?.subscription !== 'string')) {
    throw new InvalidOptionError('source', "must be 'bus' or { subscription: 'a-name' }");
  }
  const from = source === 'bus' ? 'now' : (source.from ?? 'now');
  if (from !== 'now' && from !== 'start') {
    throw new InvalidOptionError(
      'source.from',
      `must be 'now' (only events committed from now on, the default) or 'start' (the history the log keeps), got ${String(from)}`,
    );
  }
  return {
    source: source === 'bus' ? source : { subscription: source.subscription, from },
    endpoints,
    queue,
    allowPrivateTargets: options.allowPrivateTargets === true,
    timeoutMs: positiveInteger('timeoutMs', options.timeoutMs, DEFAULT_WEBHOOK_TIMEOUT_MS),
    maxAttempts: positiveInteger('maxAttempts', options.maxAttempts, DEFAULT_WEBHOOK_MAX_ATTEMPTS),
    backoff: options.backoff ?? DEFAULT_WEBHOOK_BACKOFF,
  };
}

/** True when `name` is selected by one of `patterns`. */
export function selects(patterns: readonly string[], name: string): boolean {
  const scope = `${name.slice(0, name.indexOf(':'))}:*`;
  return patterns.some((pattern) => pattern === '*' || pattern === name || pattern === scope);
}
