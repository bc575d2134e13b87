/** The client/pool suites (the whole client, not just the driver) on PostgreSQL. */
import pg from 'pg';
import { type ConformanceDatabases, runClientConformance } from '../src/driver/conformance/index.js';
import { postgresDatabases } from './support/postgres.js';

/**
 * The PostgreSQL databases plus a caller-owned connection (a pg pool client on the same server),
 * which the suite uses to prove enqueue joins the caller's transaction.
 */
const withCallerConnections: ConformanceDatabases = {
  name: postgresDatabases.name,
  async create() {
    const db = await postgresDatabases.create();
    return {
      ...db,
      async connect() {
        // The location's fragment names the schema; the driver qualifies its tables with it.
        const url = new URL(db.location);
        url.hash = '';
        const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
        const client = await pool.connect();
        return {
          transaction: client,
          query: (sql: string) => client.query(sql),
          async release() {
            client.release();
            await pool.end();
          },
        };
      },
    };
  },
};

runClientConformance(withCallerConnections);
