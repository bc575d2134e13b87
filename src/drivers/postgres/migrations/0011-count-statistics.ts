/**
 * Schema 11: planner statistics of jobs by (queue, state). (8–10 are flow control, another
 * change.) `queueCounts` estimates the counts it cannot read within its cap from them: the
 * share of each (queue, state) pair in ANALYZE's sample. They cost nothing on the hot path:
 * ANALYZE (autovacuum's, or an operator's) builds them, no write maintains them.
 */
export const migration0011CountStatistics = (s: string): string => `
CREATE STATISTICS ${s}.jobs_queue_state (mcv) ON queue, state FROM ${s}.jobs;
`;
