/**
 * Leader election on SQLite: one row per name in `jobwire_leaders`.
 *
 * The holder bumps `renewal_seq` with every renewal. Another process takes the row over only
 * when it has watched `(owner_id, renewal_seq)` stay unchanged for longer than `ttlMs` on its
 * own liveness clock (see liveness.ts), never by comparing a stored expiry written from another
 * process's wall clock with its own. `expires_at` is still written, for display.
 */
import type { EpochMs } from '../../core/types.js';
import type { LeaderElectParams, LeaderResignParams } from '../../driver/driver.js';
import { livenessNow, type SqliteContext } from './context.js';
import { observerOf } from './liveness.js';

/** Build the leader methods (synchronous; the driver wraps them in promises). */
export function createLeaderMethods(ctx: SqliteContext) {
  const { db } = ctx;
  const observer = observerOf(ctx);

  const current = db.prepare('SELECT owner_id, renewal_seq FROM jobwire_leaders WHERE name = ?');
  const insert = db.prepare(
    `INSERT INTO jobwire_leaders (name, owner_id, elected_at, expires_at, renewal_seq) VALUES (?, ?, ?, ?, 0)`,
  );
  const renew = db.prepare(
    `UPDATE jobwire_leaders SET expires_at = ?, renewal_seq = renewal_seq + 1
     WHERE name = ? AND owner_id = ?
     RETURNING renewal_seq`,
  );
  // Compare-and-set on what was observed: the row changes hands only if it is still exactly the
  // silent state this process watched.
  const takeOver = db.prepare(
    `UPDATE jobwire_leaders
     SET owner_id = ?, elected_at = ?, expires_at = ?, renewal_seq = renewal_seq + 1
     WHERE name = ? AND owner_id = ? AND renewal_seq = ?
     RETURNING renewal_seq`,
  );
  const resign = db.prepare('DELETE FROM jobwire_leaders WHERE name = ? AND owner_id = ?');

  type Outcome = { leader: false } | { leader: true; seq: number };

  // IMMEDIATE: the read and the write happen under the write lock, so two processes electing at
  // once serialise; the liveness clock is read once the lock is held (a renewal that committed
  // while we waited is never taken for silence).
  const electTx = db.transaction(
    (name: string, ownerId: string, ttlMs: number, now: EpochMs, given: EpochMs | undefined): Outcome => {
      const expiresAt = Math.floor(now + ttlMs);
      const row = current.get(name) as { owner_id: string; renewal_seq: number } | undefined;
      if (row === undefined) {
        insert.run(name, ownerId, now, expiresAt);
        return { leader: true, seq: 0 };
      }
      if (row.owner_id === ownerId) {
        const renewed = renew.get(expiresAt, name, ownerId) as { renewal_seq: number };
        return { leader: true, seq: renewed.renewal_seq };
      }
      const silentMs = observer.leaderSilentFor(name, row.owner_id, row.renewal_seq, livenessNow(given));
      if (silentMs <= ttlMs) return { leader: false };
      const taken = takeOver.get(ownerId, now, expiresAt, name, row.owner_id, row.renewal_seq) as
        | { renewal_seq: number }
        | undefined;
      return taken ? { leader: true, seq: taken.renewal_seq } : { leader: false };
    },
  );

  function leaderAttemptElect(params: LeaderElectParams): boolean {
    const outcome = electTx.immediate(
      params.name,
      params.ownerId,
      params.ttlMs,
      ctx.now(params.now),
      params.now,
    );
    // Our own write: any observer in this process sees the leadership alive as of now.
    if (outcome.leader)
      observer.leaderWritten(params.name, params.ownerId, outcome.seq, livenessNow(params.now));
    return outcome.leader;
  }

  function leaderResign(params: LeaderResignParams): void {
    if (resign.run(params.name, params.ownerId).changes === 1) observer.forgetLeader(params.name);
  }

  return { leaderAttemptElect, leaderResign };
}
