/** Leader election on SQLite: one row per name in `jobwire_leaders`, taken with a single upsert. */
import type { EpochMs } from '../../core/types.js';
import type { SqliteContext } from './context.js';

/** Build the leader methods (synchronous; the driver wraps them in promises). */
export function createLeaderMethods(ctx: SqliteContext) {
  const { db } = ctx;

  // One statement, so two processes electing at once serialise on the write lock. The row is
  // taken over only when it is ours or expired; `changes` is 0 when another owner holds it.
  const elect = db.prepare(
    `INSERT INTO jobwire_leaders (name, owner_id, elected_at, expires_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET
       elected_at = CASE WHEN owner_id = excluded.owner_id THEN elected_at ELSE excluded.elected_at END,
       owner_id = excluded.owner_id,
       expires_at = excluded.expires_at
     WHERE owner_id = excluded.owner_id OR expires_at < excluded.elected_at`,
  );
  const resign = db.prepare('DELETE FROM jobwire_leaders WHERE name = ? AND owner_id = ?');

  function leaderAttemptElect(params: {
    name: string;
    ownerId: string;
    ttlMs: number;
    now?: EpochMs;
  }): boolean {
    const now = ctx.now(params.now);
    return elect.run(params.name, params.ownerId, now, Math.floor(now + params.ttlMs)).changes === 1;
  }

  function leaderResign(params: { name: string; ownerId: string }): void {
    resign.run(params.name, params.ownerId);
  }

  return { leaderAttemptElect, leaderResign };
}
