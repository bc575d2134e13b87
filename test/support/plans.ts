/**
 * Reading PostgreSQL plans in tests: EXPLAIN (ANALYZE, FORMAT JSON) nodes, the fields the plan
 * tests look at, and how many rows of `jobs` a plan touched.
 */

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
