// Where a claim and a finalize spend their time on PostgreSQL's large tables (`bench/large.mjs
// --explain`): EXPLAIN (ANALYZE, BUFFERS) of exactly the statements the driver sends
// (claimStatement / finalizeStatement, custom plans as the driver's first executions get; the
// generic plans' shapes are checked by test/postgres-analyzed.test.ts), in a transaction that is
// rolled back so the table stays as it was.
import { packedToClaimed } from '../dist/driver/claim-pack.js';
import { claimStatement } from '../dist/drivers/postgres/claim-sql.js';
import { finalizeStatement } from '../dist/drivers/postgres/jobs-lease.js';

/** Plans, as text, of one claim of `limit` jobs of `queue` and of finalizing them as completed. */
export async function explainPostgres(url, schema, { queue = 'default', limit = 10 } = {}) {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const s = `"${schema}"`;
  const explain = async (statement) => {
    const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`, statement.values);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  };
  try {
    await client.query('BEGIN');
    const claimParams = { queues: [queue], limit, leaseMs: 30_000, poolId: 'explain', log: true };
    const claimPlan = await explain(claimStatement(s, claimParams));
    // The EXPLAIN ANALYZE claimed jobs; claim `limit` more for the finalize to finish.
    const claimed = await client.query(claimStatement(s, claimParams));
    // The claim answers one packed text per job (src/driver/claim-pack.ts).
    const items = claimed.rows.map((row) => {
      const job = packedToClaimed(row.job);
      return {
        id: job.id,
        leaseToken: job.leaseToken,
        outcome: 'completed',
        resultJson: null,
        events: [{ type: 'job:completed', data: { jobId: job.id, attempt: job.attempt } }],
      };
    });
    const finalizePlan = await explain(finalizeStatement(s, { items }));
    return { claimPlan, finalizePlan, finalized: items.length };
  } finally {
    await client.query('ROLLBACK');
    await client.end();
  }
}
