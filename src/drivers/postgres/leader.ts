import type { LeaderElectParams, LeaderResignParams } from '../../driver/driver.js';
import type { PgContext } from './context.js';
import { nowSql } from './row.js';

/** The row is taken when absent, expired (before now), or already ours (then the lease is extended). */
const electSql = (s: string): string => `
WITH clock AS (SELECT ${nowSql('$4')} AS now)
INSERT INTO ${s}.leaders AS l (name, owner_id, elected_at, expires_at)
SELECT $1, $2, clock.now, clock.now + $3::float8 * interval '1 millisecond' FROM clock
ON CONFLICT (name) DO UPDATE
SET owner_id = EXCLUDED.owner_id,
    elected_at = CASE WHEN l.owner_id = EXCLUDED.owner_id THEN l.elected_at ELSE EXCLUDED.elected_at END,
    expires_at = EXCLUDED.expires_at
WHERE l.owner_id = EXCLUDED.owner_id OR l.expires_at < EXCLUDED.elected_at
RETURNING l.owner_id`;

export async function leaderAttemptElect(ctx: PgContext, params: LeaderElectParams): Promise<boolean> {
  ctx.assertOpen();
  const rows = await ctx.query('leaderAttemptElect', electSql(ctx.s), [
    params.name,
    params.ownerId,
    Math.floor(params.ttlMs),
    params.now ?? null,
  ]);
  return rows.length > 0;
}

export async function leaderResign(ctx: PgContext, params: LeaderResignParams): Promise<void> {
  ctx.assertOpen();
  await ctx.query('leaderResign', `DELETE FROM ${ctx.s}.leaders WHERE name = $1 AND owner_id = $2`, [
    params.name,
    params.ownerId,
  ]);
}
