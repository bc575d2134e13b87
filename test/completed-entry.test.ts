// The log's job:completed built from the attempt's facts (src/driver/completed-entry.ts): a run of
// them is packed in one pass into exactly the column batch the per-job compact arrays make, and
// reads back as the payload the in-process bus emits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attemptEventBase } from '../src/core/job-events.js';
import { outcomeEntries } from '../src/core/pool/outcome-events.js';
import { completedEntry, MAX_LOGGED_RESULT_BYTES } from '../src/driver/completed-entry.js';
import type { ClaimedJob } from '../src/driver/driver.js';
import type { LogEntry } from '../src/driver/event-log.js';
import { packEntries } from '../src/driver/event-pack.js';
import { unpackEntries } from '../src/driver/event-unpack.js';

const T = 1_764_606_000_000;
const claimed = (id: number, over: Partial<ClaimedJob> = {}): ClaimedJob => ({
  id: String(id),
  task: 'video.encode',
  queue: 'media',
  payloadJson: '{}',
  priority: 0,
  attempt: 1,
  maxAttempts: 5,
  interruptions: 0,
  leaseToken: 7,
  runAt: T + (id % 2),
  createdAt: T - 1000,
  startedAt: T + 100,
  correlationId: `0b6f1f3e-8a57-4d57-9d0a-0e8b1b2f6a${String(id).padStart(2, '0')}`,
  metadataJson: '{}',
  timeoutMs: null,
  backoff: null,
  ...over,
});

interface Run {
  job: ClaimedJob;
  slot: number;
  resultJson: string | null;
  poolId?: string;
}

/** The facts entry of a run, and the payload the bus emits for it (the reference). */
function both({ job, slot, resultJson, poolId = 'pool-a' }: Run): { entry: LogEntry; bus: LogEntry } {
  const startedAt = T + 110 + slot;
  const finishedAt = startedAt + 5 + slot;
  const entry = completedEntry(job, poolId, slot, startedAt, finishedAt, 5 + slot, resultJson);
  assert.ok(entry, 'built from facts');
  const base = attemptEventBase(job, poolId, `${poolId}/${slot}`, startedAt);
  const parsed = resultJson === null ? null : (JSON.parse(resultJson) as unknown);
  const [bus] = outcomeEntries(
    {
      job,
      base,
      decision: { kind: 'complete' } as never,
      written: { id: job.id, leaseToken: job.leaseToken, outcome: 'completed', resultJson },
      outcome: { ok: true, result: parsed } as never,
      slot,
      finishedAt,
      durationMs: 5 + slot,
    },
    undefined,
  );
  if (resultJson !== null && resultJson.length > MAX_LOGGED_RESULT_BYTES)
    Object.assign(bus!.data as object, { result: null, resultOmitted: true });
  return { entry, bus: bus! };
}

const plain = (entries: readonly LogEntry[]): string =>
  JSON.stringify(entries.map(({ type, data }) => ({ type, data })));

/** The same entries with only their compact arrays: packed the per-entry way (`columnsJson`). */
const asArrays = (entries: readonly LogEntry[]): LogEntry[] =>
  entries.map((e) => ({ type: e.type, data: e.data, packed: e.packed! }));

describe('job:completed from the attempt facts', () => {
  const runs: [string, Run[]][] = [
    ['no results, no metadata', [1, 2, 3].map((id) => ({ job: claimed(id), slot: id, resultJson: null }))],
    [
      'results of every kind, metadata on some, a correlation id that is not a UUID',
      [
        { job: claimed(1), slot: 0, resultJson: '{"url":"s3://x","n":[1,2]}' },
        { job: claimed(2, { metadataJson: '{"videoId":"v2"}' }), slot: 1, resultJson: '[1,"a"]' },
        { job: claimed(3, { correlationId: 'order 7 "quoted"' }), slot: 2, resultJson: '"done"' },
        { job: claimed(4), slot: 0, resultJson: null },
        { job: claimed(5, { attempt: 3 }), slot: 9, resultJson: `"${'x'.repeat(MAX_LOGGED_RESULT_BYTES)}"` },
      ],
    ],
    // The same array or object for every job stays a column of arrays: a reader takes an array
    // for one value per entry.
    ['the same array result', [1, 2, 3].map((id) => ({ job: claimed(id), slot: 0, resultJson: '[1]' }))],
    ['the same object result', [1, 2, 3].map((id) => ({ job: claimed(id), slot: 0, resultJson: '{"a":1}' }))],
    ['the same number result', [1, 2, 3].map((id) => ({ job: claimed(id), slot: 0, resultJson: '42' }))],
  ];

  for (const [name, run] of runs) {
    it(`${name}: one column batch, the per-entry packing's text, read back as the bus payloads`, () => {
      const built = run.map(both);
      const entries = built.map((b) => b.entry);
      const text = packEntries(entries);
      const stored = JSON.parse(text) as unknown[][];
      assert.equal(stored.length, 1, 'one stored entry');
      assert.equal(stored[0]![1], 2, 'a batch of job:completed');
      assert.equal(text, packEntries(asArrays(entries)));
      assert.equal(plain(unpackEntries(stored)), plain(built.map((b) => b.bus)));
      // Each entry alone (its compact array, its payload) says the same.
      assert.equal(plain(entries), plain(built.map((b) => b.bus)));
    });
  }

  it('a run broken by other entries, or spanning pools, is stored in the right pieces and order', () => {
    const a = [1, 2, 3, 4].map((id) => both({ job: claimed(id), slot: id, resultJson: null }));
    const other = { type: 'job:progress-noted', data: { jobId: '9', note: 'not a hot event' } };
    const b = [5, 6].map((id) => both({ job: claimed(id), slot: id, resultJson: '1' }));
    const pools = [7, 8, 9].map((id, i) =>
      both({ job: claimed(id), slot: 0, resultJson: null, poolId: i === 1 ? 'pool-b' : 'pool-a' }),
    );
    const entries = [...a.map((x) => x.entry), other, ...b.map((x) => x.entry), ...pools.map((x) => x.entry)];
    const expected = [...a.map((x) => x.bus), other, ...b.map((x) => x.bus), ...pools.map((x) => x.bus)];
    const stored = JSON.parse(packEntries(entries)) as unknown[];
    // The run of four as one batch, then the object entry, then five of two pools: the facts
    // batcher declines those, so they are packed from their compact arrays, the pool a column.
    assert.deepEqual(
      stored.map((e) => (Array.isArray(e) ? e.slice(0, 3) : 'object')),
      [[10, 2, 4], 'object', [10, 2, 5]],
    );
    assert.deepEqual((stored[2] as unknown[])[9], ['pool-a', 'pool-a', 'pool-a', 'pool-b', 'pool-a']);
    assert.equal(plain(unpackEntries(stored)), plain(expected));
  });

  it('needs the object form for values the compact form cannot hold', () => {
    const job = claimed(1);
    assert.equal(completedEntry(job, 'p', 0, T + 0.5, T + 9, 1, null), undefined, 'a fractional start');
    assert.equal(
      completedEntry(job, 'p', 0, T, T + 9, Number.NaN, null),
      undefined,
      'a duration JSON cannot hold',
    );
    assert.equal(completedEntry(job, 'p', -1, T, T + 9, 1, null), undefined, 'no slot');
    assert.equal(completedEntry({ ...job, metadataJson: '[]' }, 'p', 0, T, T + 9, 1, null), undefined);
    assert.equal(completedEntry({ ...job, runAt: T + 0.25 }, 'p', 0, T, T + 9, 1, null), undefined);
  });
});
