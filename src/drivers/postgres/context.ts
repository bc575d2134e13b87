/** What every part of the PostgreSQL driver shares: the pool, the schema, and one way to run SQL. */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { ClosedError } from '../../core/errors.js';
import { toStorageError } from './errors.js';
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

export class PgContext {
  /** The schema as a quoted identifier, safe to paste into SQL. */
  readonly s: string;
  private closed = false;

  constructor(
    readonly schema: string,
    readonly pool: pg.Pool,
    /** `host:port/database` for messages. */
    readonly target: string,
    readonly notifier: PostgresNotifier,
  ) {
    this.s = quoteIdent(schema);
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
      const config: pg.QueryConfig = prepare ? { name: statementName(text), text, values } : { text, values };
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
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw this.wrap(err, operation);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  wrap(err: unknown, operation: string): unknown {
    return toStorageError(err, this.target, this.schema, operation);
  }
}
