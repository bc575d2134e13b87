/**
 * Wake-ups across processes with LISTEN/NOTIFY.
 *
 * LISTEN needs a session that stays open, so the notifier keeps one dedicated connection outside
 * the pool, opened when the first listener subscribes. That connection is watched: an error, an
 * end, or a liveness probe that gets no answer (a silently dead TCP connection) makes it reconnect
 * with capped exponential backoff, LISTEN again on every channel, then tell every
 * `CHANNELS.jobAvailable` listener `'*'` so pools look for work inserted while it was away.
 * Nothing here ever throws into the process: failures become warnings and retries.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { CHANNELS, type Notifier } from '../../driver/driver.js';
import { destroyClient, endWithin } from './connection-end.js';

type Listener = (payload: string) => void;

/** Defaults, overridable through `PostgresNotifierOptions`. */
export const NOTIFIER_DEFAULTS = {
  healthCheckIntervalMs: 5_000,
  healthCheckTimeoutMs: 3_000,
  reconnectMinMs: 100,
  reconnectMaxMs: 5_000,
} as const;

export interface PostgresNotifierOptions {
  /** Opens the dedicated LISTEN connection (not connected yet). */
  createClient: () => pg.Client;
  /** Runs `pg_notify`; the driver's pool. */
  pool: pg.Pool;
  /** The schema, so drivers on different schemas of one database do not hear each other. */
  schema: string;
  healthCheckIntervalMs?: number;
  healthCheckTimeoutMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

/** Identifiers (and so channel names) are at most 63 bytes in PostgreSQL. */
const MAX_CHANNEL_BYTES = 63;

/** The PostgreSQL channel that carries `channel` for `schema`: `<schema>.<channel>` when it fits. */
export function pgChannel(schema: string, channel: string): string {
  const plain = `${schema}.${channel}`;
  if (Buffer.byteLength(plain) <= MAX_CHANNEL_BYTES) return plain;
  const digest = createHash('sha256').update(schema).digest('hex').slice(0, 16);
  return `${digest}.${channel}`.slice(0, MAX_CHANNEL_BYTES);
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

function warn(message: string, err?: unknown): void {
  const detail = err === undefined ? '' : `: ${err instanceof Error ? err.message : String(err)}`;
  process.emitWarning(`jobwire: ${message}${detail}`, { code: 'JOBWIRE_PG_NOTIFIER' });
}

/** The PostgreSQL notifier. `ready()` and `reconnects` exist for the driver and for tests. */
export class PostgresNotifier implements Notifier {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly options: Required<Omit<PostgresNotifierOptions, 'createClient' | 'pool' | 'schema'>>;
  /** The connected LISTEN client, or null while (re)connecting or idle. */
  private client: pg.Client | null = null;
  /** pg channels LISTENed on `client`. */
  private listening = new Set<string>();
  /** Serialises connect and LISTEN/UNLISTEN work; never rejects. */
  private work: Promise<void> = Promise.resolve();
  private pendingWork = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private healthTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private attempts = 0;
  private closed = false;
  /** Successful connections after the first one. */
  reconnects = 0;

  constructor(private readonly config: PostgresNotifierOptions) {
    this.options = {
      healthCheckIntervalMs: config.healthCheckIntervalMs ?? NOTIFIER_DEFAULTS.healthCheckIntervalMs,
      healthCheckTimeoutMs: config.healthCheckTimeoutMs ?? NOTIFIER_DEFAULTS.healthCheckTimeoutMs,
      reconnectMinMs: config.reconnectMinMs ?? NOTIFIER_DEFAULTS.reconnectMinMs,
      reconnectMaxMs: config.reconnectMaxMs ?? NOTIFIER_DEFAULTS.reconnectMaxMs,
    };
  }

  notify(channel: string, payload: string): void {
    if (this.closed) return;
    // After pending LISTENs, so a listen() followed by notify() in this process is heard.
    this.ready()
      .then(() =>
        this.config.pool.query('SELECT pg_notify($1, $2)', [pgChannel(this.config.schema, channel), payload]),
      )
      .catch((err: unknown) => warn(`NOTIFY on ${channel} failed`, err));
  }

  listen(channel: string, listener: Listener): () => void {
    if (this.closed) return () => {};
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    // Wrap so the same function subscribed twice gets two independent subscriptions.
    const subscription: Listener = (payload) => listener(payload);
    set.add(subscription);
    this.sync();
    return () => {
      const current = this.listeners.get(channel);
      if (!current?.delete(subscription)) return;
      if (current.size === 0) {
        this.listeners.delete(channel);
        this.sync();
      }
    };
  }

  /**
   * Resolves once every LISTEN asked for so far has been sent (or its connection attempt failed).
   * It does not wait out a reconnect backoff.
   */
  ready(): Promise<void> {
    return this.pendingWork === 0 ? Promise.resolve() : this.work;
  }

  /** True while the LISTEN connection is up. */
  get connected(): boolean {
    return this.client !== null;
  }

  /** The server process id of the LISTEN connection, or null while it is down (for operators and tests). */
  get backendPid(): number | null {
    return (this.client as { processID?: number } | null)?.processID ?? null;
  }

  /** Stop listening and drop the connection. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.clearTimers();
    await this.work;
    const client = this.client;
    this.client = null;
    // Not `client.end()`: over a connection a partition swallowed, it waits for ~15 minutes.
    if (client) await endWithin(client);
  }

  private enqueue(step: () => Promise<void>): void {
    this.pendingWork++;
    this.work = this.work
      .then(step)
      .catch((err: unknown) => warn('LISTEN connection work failed', err))
      .finally(() => {
        this.pendingWork--;
      });
  }

  /** Bring the connection and its LISTEN set in line with the subscribed channels. */
  private sync(): void {
    if (this.closed) return;
    if (this.client === null && this.retryTimer !== null) return; // the retry will do it
    this.enqueue(async () => {
      if (this.closed) return;
      if (this.client === null) {
        // While a reconnect is scheduled, its timer does the connecting (keeping the backoff).
        if (this.retryTimer === null && this.listeners.size > 0) await this.connect();
        return;
      }
      await this.syncChannels(this.client);
    });
  }

  private wanted(): Set<string> {
    return new Set([...this.listeners.keys()].map((channel) => pgChannel(this.config.schema, channel)));
  }

  private async syncChannels(client: pg.Client): Promise<void> {
    const wanted = this.wanted();
    for (const channel of wanted) {
      if (this.listening.has(channel)) continue;
      await client.query(`LISTEN ${quoteIdent(channel)}`);
      this.listening.add(channel);
    }
    for (const channel of [...this.listening]) {
      if (wanted.has(channel)) continue;
      await client.query(`UNLISTEN ${quoteIdent(channel)}`);
      this.listening.delete(channel);
    }
  }

  private async connect(): Promise<void> {
    const first = this.attempts++ === 0;
    const client = this.config.createClient();
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('the connection ended')));
    client.on('notification', (message) => this.dispatch(message.channel, message.payload ?? ''));
    try {
      await client.connect();
      this.listening = new Set();
      this.client = client;
      await this.syncChannels(client);
    } catch (err) {
      this.lost(client, err);
      return;
    }
    if (this.closed) return;
    this.failures = 0;
    this.startHealthChecks(client);
    if (!first) {
      this.reconnects++;
      this.wakeEveryone();
    }
  }

  /** Tell every job-available listener to look for work: notifications may have been missed. */
  private wakeEveryone(): void {
    for (const listener of [...(this.listeners.get(CHANNELS.jobAvailable) ?? [])]) {
      this.call(CHANNELS.jobAvailable, listener, '*');
    }
  }

  private dispatch(pgName: string, payload: string): void {
    for (const [channel, set] of this.listeners) {
      if (pgChannel(this.config.schema, channel) !== pgName) continue;
      for (const listener of [...set]) this.call(channel, listener, payload);
    }
  }

  private call(channel: string, listener: Listener, payload: string): void {
    try {
      listener(payload);
    } catch (err) {
      warn(`a listener on channel "${channel}" threw`, err);
    }
  }

  /** The connection failed or died: drop it and schedule a reconnect if anyone is listening. */
  private lost(client: pg.Client, err: unknown): void {
    if (this.closed) return; // close() ends the connection itself
    const wasCurrent = this.client === client;
    if (wasCurrent) this.client = null;
    destroyClient(client);
    if (!wasCurrent && this.client !== null) return; // a stale client's late event
    if (this.healthTimer) {
      clearInterval(this.healthTimer);
      this.healthTimer = null;
    }
    if (this.retryTimer !== null || this.listeners.size === 0) return;
    const delay = Math.min(this.options.reconnectMaxMs, this.options.reconnectMinMs * 2 ** this.failures);
    this.failures++;
    if (this.failures === 1 || this.failures % 10 === 0) {
      warn(`LISTEN connection lost, reconnecting in ${delay} ms`, err);
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.sync();
    }, delay);
    this.retryTimer.unref();
  }

  private startHealthChecks(client: pg.Client): void {
    if (this.healthTimer) clearInterval(this.healthTimer);
    let probing = false;
    this.healthTimer = setInterval(() => {
      if (probing || this.client !== client) return;
      probing = true;
      let timeout: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timeout = setTimeout(
          () =>
            reject(new Error(`no answer to a liveness probe within ${this.options.healthCheckTimeoutMs} ms`)),
          this.options.healthCheckTimeoutMs,
        );
      });
      Promise.race([client.query('SELECT 1'), expired])
        .catch((err: unknown) => this.lost(client, err))
        .finally(() => {
          clearTimeout(timeout);
          probing = false;
        });
    }, this.options.healthCheckIntervalMs);
    this.healthTimer.unref();
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.healthTimer) clearInterval(this.healthTimer);
    this.retryTimer = null;
    this.healthTimer = null;
  }
}
