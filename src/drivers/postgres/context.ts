/** What every part of the PostgreSQL driver shares: the pool, the schema, and one way to run SQL. */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { ClosedError } from '../../core/errors.js';
import { isReadTimeout, queryTimeoutError, toStorageError } from './errors.js';
import { type PostgresNotifier, pgChannel } from './notifier.js';

/** Anything that runs a query: the pool, a checked-out client, or a caller's client. */
export interface Queryable {
  query<R extends pg.QueryResultRow>(config: pg.QueryConfig): Promise<pg.QueryResult<R>>;
}

/** Quote a (validated) name as an SQL identifier. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

const statementNames = new Map<string, string>();

/**
 * A stable prepared-statement name for `text`. Statements are prepared once per connection and
 * reused; the name hashes the text (which includes the schema), so drivers on different schemas
 * sharing a pool never collide.
 */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `jobwire_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * Operations whose statements may run long by design, so `queryTimeoutMs` does not apply:
 * migrations (an index built over a large table; waiting for another process's migration).
 */
const UNBOUNDED_OPERATIONS: ReadonlySet<string> = new Set(['migrate']);

export class PgContext {
  /** The schema as a quoted identifier, safe to paste into SQL. */
  readonly s: string;
  private closed = false;
  /** Connections this driver checked out of the pool (its transactions), not a caller's. */
  private readonly ownClients = new WeakSet<object>();

  constructor(
    readonly schema: string,
    readonly pool: pg.Pool,
    /** `host:port/database` for messages. */
    readonly target: string,
    readonly notifier: PostgresNotifier,
    /** `PostgresDriverOptions.queryTimeoutMs` (0: none). */
    readonly queryTimeoutMs = 0,
  ) {
    this.s = quoteIdent(schema);
  }

  /**
   * How long a statement of `operation` may go unanswered on `on` (the pool when undefined), in
   * ms, 0 for no limit. A caller's client is the caller's to bound: a timeout there would leave
   * its transaction to a connection we drop.
   */
  timeoutOf(operation: string, on?: Queryable): number {
    if (on !== undefined && !this.ownClients.has(on)) return 0;
    return UNBOUNDED_OPERATIONS.has(operation) ? 0 : this.queryTimeoutMs;
  }

  /**
   * Note that `client` is one of ours (a transaction's): its statements get the query timeout.
   * Returns a function that forgets it again.
   */
  adopt(client: object): () => void {
    this.ownClients.add(client);
    return () => this.ownClients.delete(client);
  }

  /** The PostgreSQL channel name for one of `CHANNELS`. */
  channel(name: string): string {
    return pgChannel(this.schema, name);
  }

  markClosed(): void {
    this.closed = true;
  }

  assertOpen(): void {
    if (this.closed) throw new ClosedError('The PostgreSQL driver');
  }

  /**
   * Run one statement (prepared and cached per connection) and return its rows. Errors become
   * `StorageError`s naming `operation`. `on` runs it on a given client instead of the pool;
   * statements on a caller's client are not prepared, to leave no state on a connection we do not own.
   */
  async query<R extends pg.QueryResultRow>(
    operation: string,
    text: string,
    values: unknown[] = [],
    on?: Queryable,
    prepare = on === undefined,
  ): Promise<R[]> {
    this.assertOpen();
    try {
      const config: TimedQueryConfig = prepare
        ? { name: statementName(text), text, values }
        : { text, values };
      const timeout = this.timeoutOf(operation, on);
      if (timeout > 0) config.query_timeout = timeout;
      const result = await (on ?? this.pool).query<R>(config);
      return result.rows;
    } catch (err) {
      throw this.wrap(err, operation);
    }
  }

  /**
   * This context with every `query` that names no client run on `client` (a transaction of
   * ours, so its statements are prepared like the pool's).
   */
  within(client: Queryable): PgContext {
    const view = Object.create(this) as PgContext;
    view.query = (operation, text, values, on, prepare) =>
      this.query(operation, text, values, on ?? client, prepare ?? true);
    return view;
  }

  /** Run `fn` in a transaction on a client of the pool, rolling back if it throws. */
  async transaction<T>(operation: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.wrap(err, operation);
    }
    let broken = false;
    // While checked out the pool no longer listens for this client's errors; a connection that
    // dies between two statements must fail the transaction, not crash the process.
    const onError = () => {
      broken = true;
    };
    client.on('error', onError);
    const forget = this.adopt(client);
    const timeout = this.timeoutOf(operation, client);
    const statement = (text: string): TimedQueryConfig =>
      timeout > 0 ? { text, query_timeout: timeout } : { text };
    try {
      await client.query(statement('BEGIN'));
      const result = await fn(client);
      await client.query(statement('COMMIT'));
      return result;
    } catch (err) {
      // A statement that went unanswered leaves the connection busy with it: a ROLLBACK would
      // only queue behind it. Dropping the connection ends the transaction on the server.
      if (isReadTimeout(err)) broken = true;
      else {
        await client.query(statement('ROLLBACK')).catch(() => {
          broken = true;
        });
      }
      throw this.wrap(err, operation);
    } finally {
      forget();
      client.off('error', onError);
      client.release(broken);
    }
  }

  wrap(err: unknown, operation: string): unknown {
    if (isReadTimeout(err)) return queryTimeoutError(err, this.target, operation, this.queryTimeoutMs);
    return toStorageError(err, this.target, this.schema, operation);
  }
}

/** node-postgres's per-query read timeout (`query_timeout`), which its typings leave out. */
type TimedQueryConfig = pg.QueryConfig & { query_timeout?: number };
