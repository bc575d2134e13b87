/**
 * What a new connection of the driver's own pool runs first (`warmConnections`, on by default).
 *
 * A PostgreSQL server process allocates with the C library's malloc. glibc (most Linux builds)
 * gives freed memory at the top of the heap back to the kernel once more than its trim threshold
 * (128 KB to start with) is free, and the next statement that needs it takes page faults to get
 * it again, each a zeroed page. A claim of a few hundred jobs with the log on needs about a
 * megabyte while it runs (the log row's column aggregates, its text, the compressed copy), so
 * every claim gave it all back and faulted it in again: measured on 50,000-job drains, the
 * server took 0.5 page faults per job more with the log on than off (40,900 against 15,700), and
 * a 500-row log aggregate ran 3–4× slower than once the faults were gone (2.3–3.1 against 0.6–1.0
 * µs per row).
 *
 * glibc raises the trim threshold by itself once a block it had mapped on its own (any over
 * the mmap threshold, 128 KB to start with) is freed: to twice that block's size. This statement
 * makes the server allocate and free one such block of 1 MB, so the process keeps up to 2 MB of
 * freed heap from then on instead of trimming after every statement: the claim's and the
 * finalize's memory stays mapped between calls (page faults of those drains 40,900 → 12,800).
 * The cost: one round trip per new connection, and up to ~2 MB of memory each server process of
 * the pool may keep while idle. With another allocator (musl, jemalloc) it changes nothing. The
 * literal is folded into a constant when the statement is planned, so the block is allocated and
 * freed once, in the planner's memory, whatever the server's version.
 */
export const WARM_CONNECTION_SQL = `SELECT length(repeat('x', ${1 << 20}))`;

/**
 * Runs `WARM_CONNECTION_SQL` on a new connection (pg.Pool's `onConnect`, awaited before use). A
 * failure is ignored: the statement only tunes memory, and a rejected hook would fail the query
 * that asked for the connection; a connection that is really broken fails that query anyway.
 */
export async function warmConnection(client: { query(sql: string): Promise<unknown> }): Promise<void> {
  await client.query(WARM_CONNECTION_SQL).catch(() => {});
}
