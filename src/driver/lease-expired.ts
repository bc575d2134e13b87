/**
 * The one wording of the error a rescue stores when a lease expired. SQLite builds it with this
 * function; PostgreSQL builds it in SQL (the rescue is one statement), and the conformance suite
 * checks both against this function, so `job:rescued`, `job:abandoned` and the stored history
 * always say the same thing.
 */
import type { EpochMs } from '../core/types.js';

/** `StoredError.name` of an expired lease. */
export const LEASE_EXPIRED_ERROR_NAME = 'LeaseExpiredError';

/** Shown in place of the pool id when the expired lease named none. */
export const UNKNOWN_POOL = '(unknown)';

/**
 * The message of a `LeaseExpiredError`: when the lease expired (ISO 8601, UTC, milliseconds),
 * which pool held it, and what usually causes it.
 */
export function leaseExpiredMessage(leaseExpiredAt: EpochMs, poolId: string | null): string {
  return (
    `lease expired at ${new Date(leaseExpiredAt).toISOString()} while running on pool ${poolId ?? UNKNOWN_POOL}; ` +
    'its process died, froze or lost its connection before renewing the lease'
  );
}
