/**
 * Probes for load balancers and Kubernetes, open without credentials (they reveal no job data):
 *
 * - `GET /healthz`: the process answers (liveness). Never touches the database, so a slow
 *   database does not get healthy processes restarted.
 * - `GET /readyz`: the database answers within `health.timeoutMs`, its schema is the one this
 *   code expects (no pending migration), and the optional thresholds hold (due jobs waiting and
 *   the oldest one's age, from `queueStats`, whose cost is bounded: see docs/health.md).
 *   200 when ready, else 503 with the reasons.
 */
import type { Hono } from 'hono';
import { isJobwireError, type Jobwire } from '../index.js';
import type { HttpEnv } from './auth.js';
import type { ResolvedHttpOptions } from './options.js';
import { json } from './respond.js';

/** The body of `/readyz`. */
export interface ReadinessReport {
  status: 'ready' | 'not-ready';
  /** Why not ready (empty when ready). */
  reasons: string[];
  schema?: { current: number; latest: number };
}

/** Run the readiness checks (see the module comment). */
export async function readiness(
  jobwire: Jobwire,
  thresholds: ResolvedHttpOptions['health'],
): Promise<ReadinessReport> {
  const reasons: string[] = [];
  let schema: ReadinessReport['schema'];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), thresholds.timeoutMs);
  });
  const checks = async () => {
    schema = await jobwire.schemaVersion();
    if (schema.current < schema.latest) {
      reasons.push(
        `migrations pending: the database schema is version ${schema.current}, this code needs ${schema.latest} (run "jobwire migrate")`,
      );
    } else if (schema.current > schema.latest) {
      reasons.push(
        `the database schema is version ${schema.current}, newer than this code knows (${schema.latest}): upgrade jobwire`,
      );
    }
    const { maxPending, maxOldestPendingMs } = thresholds;
    if (schema.current !== schema.latest || (maxPending === undefined && maxOldestPendingMs === undefined))
      return;
    const now = jobwire.clock.now();
    for (const queue of await jobwire.queueStats()) {
      if (maxPending !== undefined && queue.pending > maxPending) {
        reasons.push(`queue "${queue.queue}": ${queue.pending} due jobs waiting, over ${maxPending}`);
      }
      const oldest = queue.oldestPendingRunAt === null ? null : now - Number(queue.oldestPendingRunAt);
      if (maxOldestPendingMs !== undefined && oldest !== null && oldest > maxOldestPendingMs) {
        reasons.push(
          `queue "${queue.queue}": the oldest due job has waited ${oldest} ms, over ${maxOldestPendingMs} ms`,
        );
      }
    }
  };
  try {
    const outcome = await Promise.race([checks(), timeout]);
    if (outcome === 'timeout') reasons.push(`the database did not answer within ${thresholds.timeoutMs} ms`);
  } catch (error) {
    // Probes are unauthenticated: name the kind of failure, never the database's own message.
    const code = isJobwireError(error) ? error.code : 'unexpected error';
    reasons.push(`the database is not usable (${code})`);
  } finally {
    clearTimeout(timer);
  }
  return { status: reasons.length ? 'not-ready' : 'ready', reasons, ...(schema && { schema }) };
}

/** Add `/healthz` and `/readyz` to `app`. */
export function addHealthRoutes(
  app: Hono<HttpEnv>,
  jobwire: Jobwire,
  thresholds: ResolvedHttpOptions['health'],
): void {
  const started = Date.now();
  app.get('/healthz', () => json({ status: 'ok', uptimeMs: Date.now() - started }));
  app.get('/readyz', async () => {
    const report = await readiness(jobwire, thresholds);
    return json(report, report.status === 'ready' ? 200 : 503);
  });
}
