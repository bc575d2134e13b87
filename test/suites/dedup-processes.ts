/**
 * Dedup rules under contention from real OS processes on one database: several processes
 * enqueue the same keys of every rule (unique, unique with finished states, throttle, debounce)
 * at once, round after round; where the driver joins caller transactions, each also enqueues
 * inside transactions it rolls back. Without workers, afterwards exactly one job exists per key,
 * every caller got back that job, exactly one caller made it, and the durable log holds one
 * `job:queued` per key and one `job:deduplicated` / `job:debounced` per other caller — nothing
 * for rolled-back work. With workers running in every process (jobs start and finish meanwhile,
 * debounce windows of 20 ms), a plain unique key or a debounce key may get several jobs in turn:
 * then every caller got a job of its key, each job was made by exactly one caller, a debounce
 * caller always got its own payload in the job, and throttle and unique-for-1h keys still have one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createJobwire, type JobRecord } from '../../src/index.js';
import type { TestDatabaseFactory } from '../support/database.js';
import { killWorkers, startWorker } from '../support/processes.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/dedup-enqueuer.ts', import.meta.url));

interface Line {
  rule: string;
  key: string;
  id: string;
  duplicate: boolean;
  matchedBy?: string | null;
  payload?: { proc: number; round: number; key: number };
  got?: unknown;
}

export function runDedupProcessSuite(
  factory: TestDatabaseFactory,
  options: { processes: number; keys: number; rounds: number; rollbacks: boolean; workers?: boolean },
) {
  describe(`dedup rules from several OS processes (${factory.name})`, () => {
    const title = options.workers
      ? `${options.processes} processes enqueue the same keys while running them: every caller got a job of its key`
      : `${options.processes} processes enqueue the same keys: one job per key, every caller got it`;
    it(title, async (t) => {
      const db = await factory.create();
      const dir = mkdtempSync(join(tmpdir(), 'jobwire-dedup-'));
      const client = await createJobwire({ driver: await db.open() });
      t.after(async () => {
        await client.close();
        await db.cleanup();
        rmSync(dir, { recursive: true, force: true });
      });
      const go = join(dir, 'go');
      const logs = Array.from({ length: options.processes }, (_, i) => join(dir, `enqueues-${i}.log`));
      const workers = logs.map((log, i) =>
        startWorker(
          db.location,
          log,
          {
            GO_FILE: go,
            PROC: String(i),
            KEYS: String(options.keys),
            ROUNDS: String(options.rounds),
            ROLLBACKS: options.rollbacks ? '1' : '0',
            WORKERS: options.workers ? '1' : '0',
          },
          FIXTURE,
        ),
      );
      t.after(() => killWorkers(workers));
      await Promise.all(workers.map((w) => w.ready));
      writeFileSync(go, '');
      const exits = await Promise.all(workers.map((w) => w.exited));
      for (const [i, exit] of exits.entries()) {
        assert.equal(exit.code, 0, `process ${i} exit ${JSON.stringify(exit)}\n${workers[i]!.output()}`);
      }
      const lines: Line[] = (await Promise.all(logs.map((log) => readFile(log, 'utf8'))))
        .flatMap((text) => text.split('\n').filter(Boolean))
        .map((line) => JSON.parse(line) as Line);

      const jobs: JobRecord[] = [];
      for (let cursor: string | null = null; ; ) {
        const page = await client.listJobs({ limit: 1000, cursor });
        jobs.push(...page.jobs);
        cursor = page.nextCursor;
        if (!cursor) break;
      }
      const keyOf = (job: JobRecord) => job.dedup?.key ?? job.uniqueKey;
      const byKey = new Map<string, JobRecord[]>();
      for (const job of jobs) byKey.set(keyOf(job)!, [...(byKey.get(keyOf(job)!) ?? []), job]);

      const perCaller = options.processes * options.rounds;
      const committed = lines.filter((l) => !l.rule.startsWith('rolled-back'));
      assert.equal(committed.length, options.processes * options.rounds * options.keys * 4);
      const callersByKey = new Map<string, Line[]>();
      for (const l of committed) callersByKey.set(l.key, [...(callersByKey.get(l.key) ?? []), l]);
      assert.equal(callersByKey.size, options.keys * 4);
      if (!options.workers)
        assert.equal(jobs.length, options.keys * 4, 'exactly one job per key, nothing else');
      const expectedMatches = new Map<string, number>();

      for (const [key, callers] of callersByKey) {
        const stored = byKey.get(key) ?? [];
        const rule = callers[0]!.rule;
        const single = !options.workers || rule === 'throttle' || rule === 'unique-finished';
        if (single) assert.equal(stored.length, 1, `key ${key}: ${stored.length} jobs`);
        assert.ok(stored.length >= 1, `key ${key}: no job`);
        const ids = new Set(stored.map((j) => j.id));
        assert.equal(callers.length, perCaller);
        assert.deepEqual(
          callers.filter((c) => !ids.has(c.id)),
          [],
          `key ${key}: every caller got a job of the key (${[...ids].join(', ')})`,
        );
        const makers = callers.filter((c) => !c.duplicate).map((c) => c.id);
        assert.deepEqual(
          makers.sort(),
          [...ids].sort(),
          `key ${key}: each job was made by exactly one caller`,
        );
        const expected = rule === 'debounce' ? 'debounce' : rule === 'throttle' ? 'throttle' : 'unique';
        for (const c of callers.filter((c) => c.duplicate)) assert.equal(c.matchedBy, expected, key);
        const type = rule === 'debounce' ? 'job:debounced' : 'job:deduplicated';
        expectedMatches.set(type, (expectedMatches.get(type) ?? 0) + callers.length - stored.length);
        if (rule === 'debounce') {
          // Each debounce caller got the job with its own payload in it; each job keeps one of them.
          for (const c of callers) assert.deepEqual(c.got, c.payload, `key ${key}`);
          for (const job of stored) {
            assert.ok(
              callers.some(
                (c) => c.id === job.id && JSON.stringify(c.payload) === JSON.stringify(job.payload),
              ),
              `key ${key}: job ${job.id}'s payload ${JSON.stringify(job.payload)} is one its callers gave`,
            );
          }
        }
      }

      const perRule = new Map<string, number>();
      for (const [key, stored] of byKey)
        perRule.set(key.split(':')[0]!, (perRule.get(key.split(':')[0]!) ?? 0) + stored.length);
      t.diagnostic(`jobs per rule over ${options.keys} keys: ${JSON.stringify(Object.fromEntries(perRule))}`);

      // Rolled back: none of those jobs exists, and no rolled-back payload survived.
      const rolledBack = lines.filter((l) => l.rule.startsWith('rolled-back'));
      assert.equal(rolledBack.length, options.rollbacks ? options.processes * options.rounds * 2 : 0);
      for (const l of rolledBack.filter((l) => !l.duplicate)) {
        assert.equal(await client.getJob(l.id), undefined, `rolled-back job ${l.id} exists`);
      }
      assert.ok(![...byKey.keys()].some((k) => k.startsWith('rollback:')));
      for (const job of jobs)
        assert.ok((job.payload as { round: number }).round < 1000, 'a rolled-back payload survived');

      // The durable log: one queued per key; one deduplicated/debounced per other committed caller.
      const counts = new Map<string, number>();
      const ids = new Set(jobs.map((j) => j.id));
      for (let after: string | undefined; ; ) {
        const page = await client.events.read({ after: after ?? 'start', limit: 1000 });
        for (const e of page.events) {
          const data = e.data as { jobId?: string };
          if (!data.jobId || !ids.has(data.jobId)) continue;
          counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
        }
        after = page.cursor;
        if (!page.more) break;
      }
      assert.equal(counts.get('job:queued'), jobs.length);
      assert.equal(counts.get('job:deduplicated'), expectedMatches.get('job:deduplicated'));
      assert.equal(counts.get('job:debounced'), expectedMatches.get('job:debounced') || undefined);
      if (!options.workers) {
        assert.equal(counts.get('job:deduplicated'), options.keys * 3 * (perCaller - 1));
        assert.equal(counts.get('job:debounced'), options.keys * (perCaller - 1));
      }
    });
  });
}
