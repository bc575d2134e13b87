// PostgreSQL helpers the fresh-worker benches share (bench/log-cost.mjs, bench/log-instructions.mjs).

/** Run `run` with a client of `connectionString`, closed afterwards. */
export async function pgQuery(connectionString, run) {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Planner statistics for a schema's tables, as autovacuum (and the peer harness) would leave them. */
export function analyzeSchema(connectionString, schema) {
  return pgQuery(connectionString, async (c) => {
    const { rows } = await c.query('SELECT tablename FROM pg_tables WHERE schemaname = $1', [schema]);
    for (const { tablename } of rows) await c.query(`ANALYZE "${schema}"."${tablename}"`);
  });
}

/** Drop a bench schema and everything in it. */
export function dropSchema(connectionString, schema) {
  return pgQuery(connectionString, (c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
}
