/**
 * Where an insert that needs more than one statement runs: in a transaction of its own, or — when
 * the caller passed its open transaction — inside a savepoint of it, so a failure undoes our part
 * (and its NOTIFY) and only that, leaving the caller's transaction usable.
 */
import type { PgContext, Queryable } from './context.js';

/**
 * Run `work` on our own transaction's client (`own` true) or inside a savepoint named `savepoint`
 * on the caller's `executor` (`own` false), and return what it returns.
 */
export async function inInsertTransaction<T>(
  ctx: PgContext,
  executor: Queryable | undefined,
  savepoint: string,
  work: (client: Queryable, own: boolean) => Promise<T>,
): Promise<T> {
  if (!executor) return ctx.transaction('jobInsertMany', (client) => work(client, true));
  await ctx.query('jobInsertMany', `SAVEPOINT ${savepoint}`, [], executor);
  let result: T;
  try {
    result = await work(executor, false);
  } catch (err) {
    // If the caller's transaction is already aborted this fails too; the first error matters.
    await ctx
      .query(
        'jobInsertMany',
        `ROLLBACK TO SAVEPOINT ${savepoint}; RELEASE SAVEPOINT ${savepoint}`,
        [],
        executor,
      )
      .catch(() => {});
    throw err;
  }
  await ctx.query('jobInsertMany', `RELEASE SAVEPOINT ${savepoint}`, [], executor);
  return result;
}
