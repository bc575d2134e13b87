// The two builders that make a column batch in one pass over their jobs — the SQLite claim's
// job:started (`startedBatchJson`) and a finalize's job:completed (completed-entry.ts) — compare
// most columns with the first job's as they go and build an array only for a column that differs.
// Whatever the mix (a differing value first, last or in the middle; shared or foreign correlation
// ids; metadata from any position on; results and omitted results mixed), their text must be
// byte for byte what the per-entry packing (`columnsJson`) makes of the same entries.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startedBatchJson } from '../src/driver/claim-columns.js';
import { completedEntry, MAX_LOGGED_RESULT_BYTES } from '../src/driver/completed-entry.js';
import type { ClaimedJob } from '../src/driver/driver.js';
import type { LogEntry } from '../src/driver/event-log.js';
import { packEntries, packedStarted } from '../src/driver/event-pack.js';
import { unpackEntries } from '../src/driver/event-unpack.js';

const T = 1_764_606_000_000;
const POOL = 'vm:17027:xz36q1';

/** A small deterministic generator (mulberry32), so a failure names a seed that reproduces it. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (r: () => number, n: number) =>
  Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');
const uuid = (r: () => number) => `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-a${hex(r, 3)}-${hex(r, 12)}`;

/** A claim of `n` jobs where each column differs from the first job's at one random position, or never. */
function claim(r: () => number, n: number): ClaimedJob[] {
  const at = () => (r() < 0.5 ? -1 : Math.floor(r() * n));
  const [task, queue, attempt, max, meta] = [at(), at(), at(), at(), at()];
  const correlation = r();
  const shared = uuid(r);
  const foreign = Math.floor(r() * n);
  const startedAt = T + 5000 + Math.floor(r() * 100);
  return Array.from({ length: n }, (_, i) => {
    const runAt = r() < 0.5 ? T : T + i * Math.floor(r() * 3);
    return {
      id: String(1000 + i * (1 + Math.floor(r() * 2))),
      task: i === task ? 'mail "quoted"' : 'video.encode',
      queue: i === queue ? 'other' : 'media',
      payloadJson: '{}',
      priority: 0,
      attempt: i === attempt ? 2 : 1,
      maxAttempts: i === max ? 9 : 5,
      interruptions: 0,
      leaseToken: 7,
      runAt,
      createdAt: T - 1000,
      startedAt,
      correlationId: correlation < 0.3 ? shared : correlation < 0.5 && i === foreign ? `order-${i}` : uuid(r),
      metadataJson: meta >= 0 && i >= meta && r() < 0.7 ? JSON.stringify({ videoId: i, tags: ['a'] }) : '{}',
      timeoutMs: null,
      backoff: null,
    };
  });
}

const RESULTS = ['null', '{"url":"s3://x"}', '[1,2]', '"done"', '42', 'true'];
const BIG = JSON.stringify('x'.repeat(MAX_LOGGED_RESULT_BYTES + 1));

function completions(r: () => number, jobs: readonly ClaimedJob[]): LogEntry[] {
  const kind = r();
  const odd = Math.floor(r() * jobs.length);
  return jobs.map((job, i) => {
    const result =
      kind < 0.15
        ? i === odd
          ? '42'
          : '"done"'
        : kind < 0.4
          ? 'null'
          : kind < 0.6
            ? RESULTS[Math.floor(r() * RESULTS.length)]!
            : r() < 0.1
              ? BIG
              : '{"n":1}';
    const startedAt = job.startedAt + (i % 3);
    const entry = completedEntry(
      job,
      POOL,
      i % 10,
      startedAt,
      startedAt + Math.floor(r() * 4),
      r() * 3,
      result,
    );
    assert.ok(entry);
    return entry;
  });
}

/** The same entries with only their compact arrays: packed the per-entry way (`columnsJson`). */
const asArrays = (entries: readonly LogEntry[]): LogEntry[] =>
  entries.map((e) => ({ type: e.type, data: e.data, packed: e.packed! }));

const plain = (entries: readonly LogEntry[]): string =>
  JSON.stringify(entries.map(({ type, data }) => ({ type, data })));

describe('column batches built in one pass', () => {
  it("a claim's job:started: the same text as its jobs' compact entries packed column by column", () => {
    for (let seed = 1; seed <= 400; seed++) {
      const r = random(seed);
      const jobs = claim(r, 1 + Math.floor(r() * 40));
      const text = startedBatchJson(jobs, POOL);
      assert.ok(text !== undefined, `seed ${seed}`);
      const perJob = jobs.map((job) => packedStarted(job, POOL)!);
      if (jobs.length >= 3) assert.equal(`[${text}]`, packEntries(perJob), `seed ${seed}`);
      assert.equal(plain(unpackEntries(JSON.parse(`[${text}]`))), plain(perJob), `seed ${seed}`);
    }
  });

  it("a finalize's job:completed: the same text as their compact entries packed column by column", () => {
    for (let seed = 1; seed <= 400; seed++) {
      const r = random(seed);
      const entries = completions(r, claim(r, 3 + Math.floor(r() * 40)));
      assert.equal(packEntries(entries), packEntries(asArrays(entries)), `seed ${seed}`);
      assert.equal(plain(unpackEntries(JSON.parse(packEntries(entries)))), plain(entries), `seed ${seed}`);
    }
  });
});
