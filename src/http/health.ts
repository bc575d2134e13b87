/**
 * Probes for load balancers and Kubernetes, open without credentials (they reveal no job data):
 *
 * - `GET /healthz`: the process answers (liveness). Never touches the database, so a slow
 *   database does not get healthy processes restarted.
 * - `GET /readyz`: the database answers within `health.timeoutMs`, its schema is the one this
 *   code expects (no pending migration), and the optional thresholds hold (due jobs waiting and
 *   the oldest one's age, from `queueStats`). Those read per queue at most `maxPending + 1`
 *   waiting jobs (2 without `maxPending`: "more than maxPending" needs no more), through an
 *   index in run-at order whose first entry is the oldest due job; plus the running jobs and the
 *   jobs finished or failed in the window (see docs/health.md, "Cost"), never the backlog.
 *   Paused queues are left out of the thresholds. 200 when ready, else 503 with the reasons.
 */
import type { Hono } from 'hono';
import { assertKnownOptions, isJobwireError, type Jobwire } from '../index.js';
import type { HttpEnv } from './auth.js';
import { READINESS_THRESHOLD_NAMES, type ResolvedHttpOptions } from './options.js';
import { json } from './respond.js';

/**
 * The largest cap `queueStats` accepts (the driver's MAX_EXACT_UP_TO, out of this layer's reach):
 * a `maxPending` above it is checked against a count of at most this + 1.
 */
const MAX_EXACT_UP_TO = 1_000_000;

/** The body of `/readyz`. */
export interface ReadinessReport {
  status: 'ready' | 'not-ready';
  /** Why not ready (empty when ready). */
  reasons: string[];
  schema?: { current: number; latest: number };
}

/**
 * Run the readiness checks (see the module comment). A threshold key `ReadinessThresholds` does
 * not name rejects with an `InvalidOptionError`: a misspelt one would never be checked.
 */
export async function readiness(
  jobwire: Jobwire,
  thresholds: ResolvedHttpOptions['health'],
): Promise<ReadinessReport> {
  assertKnownOptions('thresholds', thresholds, READINESS_THRESHOLD_NAMES, 'readiness threshold');
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
    // The counts past the cap are flagged `atLeast` (the cap + 1): enough to tell "over".
    const exactUpTo = Math.min(MAX_EXACT_UP_TO, Math.max(1, maxPending ?? 1));
    for (const queue of await jobwire.queueStats({ exactUpTo })) {
      // A paused queue's backlog grows on purpose; it says nothing of whether this instance can
      // serve (every instance went not-ready when a busy queue was paused).
      if (queue.paused) continue;
      if (maxPending !== undefined && queue.pending > maxPending) {
        // Past the cap the read stopped at maxPending + 1: "more than", not a count.
        reasons.push(
          queue.precision.pending === 'atLeast'
            ? `queue "${queue.queue}": more than ${maxPending} due jobs waiting`
            : `queue "${queue.queue}": ${queue.pending} due jobs waiting, over ${maxPending}`,
        );
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
