/**
 * Schema 16: `jobs` pages keep half their room for the versions a job's claim and finish write.
 *
 * Every claim and every finish updates the job's row and changes `state`, which the partial
 * indexes name, so neither update can be HOT: each writes a whole new version of the row. With the
 * default fillfactor (100) an enqueue fills its page, so that version has to go to another page,
 * found through the free space map or by extending the table: a second page written (and logged)
 * per update, and the next statement that reads the job reads both. With 50 the claim's version
 * lands on the page the job was inserted on, and by the time of the finish the page has usually
 * been pruned of the versions the claims left dead, so the finish's version lands there too
 * (`test/postgres-fillfactor.test.ts` checks the claim's side). The price is space: a page holds half as many newly
 * enqueued jobs; the room is used by their later versions, and `VACUUM` (or pruning) gives it back.
 * Updates that touch no indexed column (progress) can now also be HOT.
 *
 * Measured in alternated drains of 40,000 jobs (log on, 6 rounds each): with only the fillfactor
 * changed, server CPU per job 41.5 → 38.5 µs (median) and 28.1k → 31.7k jobs/s; the builds with
 * and without this migration, 31.0k → 33.5k jobs/s with the server's CPU per job unchanged; bulk
 * enqueue unchanged (`bench/results/2026-12-03-s31-fillfactor.md`).
 *
 * It applies to pages written from now on (no rewrite, a brief lock); `VACUUM FULL` would apply
 * it to existing pages.
 */
export const migration0016JobsFillfactor = (s: string): string => `
ALTER TABLE ${s}.jobs SET (fillfactor = 50);
`;
