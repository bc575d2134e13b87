/**
 * Reading PostgreSQL plans in tests: EXPLAIN (ANALYZE, FORMAT JSON) of a prepared statement, the
 * nodes' fields the plan tests look at, and how many rows of `jobs` a plan touched.
 */
import type pg from 'pg';

/** One node of an EXPLAIN (FORMAT JSON) plan, the fields these tests read. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Join Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** `node` and every node below it. */
export const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

/** Rows of `jobs` a plan produced or filtered out, outside its writes (per-loop figures × loops). */
export const jobsRowsVisited = (plan: PlanNode): number =>
  nodesOf(plan)
    .filter((n) => n['Relation Name'] === 'jobs' && n['Node Type'] !== 'ModifyTable')
    .reduce((sum, n) => sum + (n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0)) * n['Actual Loops'], 0);

/** A value as an SQL literal for EXECUTE; arrays as array literals (elements quoted, NULL kept). */
function literal(client: pg.Client, value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (Array.isArray(value)) {
    const elements = value.map((e) =>
      e === null || e === undefined ? 'NULL' : `"${String(e).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`,
    );
    return client.escapeLiteral(`{${elements.join(',')}}`);
  }
  return client.escapeLiteral(String(value));
}

let preparedCounter = 0;

/**
 * EXPLAIN ANALYZE of a statement as the driver runs it — prepared, here under a forced `mode`
 * (the driver forces generic plans) — in a transaction that is rolled back, so the table is the
 * same for the next one.
 */
export async function explainPrepared(
  client: pg.Client,
  statement: { text: string; values: readonly unknown[] },
  mode: 'custom' | 'generic',
  settings: readonly string[] = [],
): Promise<PlanNode> {
  const name = `explained_${++preparedCounter}`;
  await client.query(`PREPARE ${name} AS ${statement.text}`);
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL plan_cache_mode = force_${mode}_plan`);
    for (const setting of settings) await client.query(`SET LOCAL ${setting}`);
    const args = statement.values.map((v) => literal(client, v)).join(', ');
    const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE ${name}(${args})`);
    return (rows[0]['QUERY PLAN'] as [{ Plan: PlanNode }])[0].Plan;
  } finally {
    await client.query('ROLLBACK');
    await client.query(`DEALLOCATE ${name}`);
  }
}
