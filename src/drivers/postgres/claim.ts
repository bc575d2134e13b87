/**
 * The claim: the claim statement alone for queues this process knows to have no flow work, the
 * flow-claim function (flow-claim.ts) for the others.
 */

import { byClaimOrder, packedToClaimed } from '../../driver/claim-pack.js';
import type { ClaimedJob, JobClaimParams } from '../../driver/driver.js';
import { claimStatement } from './claim-sql.js';
import type { PgContext } from './context.js';
import { claimWithFlow } from './flow-claim.js';
import { idleMarks } from './flow-idle.js';

/**
 * Claim up to `params.limit` jobs. Queues this process knows to have no flow work (flow-idle.ts)
 * take the claim statement alone; the others take the flow-claim function (flow-claim.ts), which
 * runs the same statement first and the flow path for what is left, in one round trip.
 */
export async function jobClaim(ctx: PgContext, params: JobClaimParams): Promise<ClaimedJob[]> {
  ctx.assertOpen();
  if (params.limit < 1 || params.queues.length === 0) return [];
  const { idleUntil } = idleMarks(ctx);
  const now = Date.now();
  const flowQueues = [...new Set(params.queues)].filter((q) => !((idleUntil.get(q) ?? 0) > now));
  if (flowQueues.length > 0) return claimWithFlow(ctx, params, flowQueues);
  const { text, values } = claimStatement(ctx.s, params);
  const rows = await ctx.query<{ job: string }>('jobClaim', text, values);
  return rows.map((row) => packedToClaimed(row.job)).sort(byClaimOrder);
}
