/**
 * The compact stored form of the hot events (src/driver/event-pack.ts): every payload the event
 * builders make expands back to exactly itself (same keys, same order, same values), payloads the
 * form cannot hold exactly stay objects, rows written before the form existed still read, and on
 * both drivers the hot path really stores the compact form.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { claimedEvent, queuedEvent } from '../src/core/job-events.js';
import { outcomeEntries } from '../src/core/pool/outcome-events.js';
import { defineTask } from '../src/core/task.js';
import type { JobRecord } from '../src/core/types.js';
import { startedBatchJson } from '../src/driver/claim-columns.js';
import { testPool, until, withClient } from '../src/driver/conformance/client/harness.js';
import type { ClaimedJob, FinalizeItem } from '../src/driver/driver.js';
import { expandRows, type LogEntry, RUN_AT_PLACEHOLDER } from '../src/driver/event-log.js';
import { packEntries, packedQueued, packedStarted } from '../src/driver/event-pack.js';
import { unpackEntries } from '../src/driver/event-unpack.js';
import type { TestDatabaseFactory } from './support/database.js';
import { postgresDatabases } from './support/postgres.js';
import { sqliteDatabases } from './support/sqlite.js';

const job: ClaimedJob = {
  id: '4711',
  task: 'video.encode',
  queue: 'media',
  payloadJson: '{"i":1}',
  priority: 0,
  attempt: 2,
  maxAttempts: 5,
  interruptions: 0,
  leaseToken: 3,
  runAt: 1_764_606_000_000,
  createdAt: 1_764_605_999_000,
  startedAt: 1_764_606_000_125,
  correlationId: '0b6f1f3e-8a57-4d57-9d0a-0e8b1b2f6a11',
  metadataJson: '{"videoId":"v42"}',
  timeoutMs: null,
  backoff: null,
};
const poolId = 'pool-7f3a';
const base = {
  jobId: job.id,
  task: job.task,
  queue: job.queue,
  correlationId: job.correlationId,
  attempt: job.attempt,
  maxAttempts: job.maxAttempts,
  poolId,
  workerId: `${poolId}/3`,
  runAt: job.runAt,
  startedAt: 1_764_606_000_130,
  waitMs: 130,
  metadata: { videoId: 'v42' },
};
const error = {
  name: 'Error',
  message: 'boom',
  stack: 'Error: boom\n    at x',
  attempt: 2,
  at: 1_764_606_000_170,
};

/** A stored job as an enqueue returns it (the fields `queuedEvent` reads). */
const record = {
  id: '4712',
  task: 'video.encode',
  queue: 'media',
  correlationId: job.correlationId,
  attempt: 0,
  maxAttempts: 5,
  state: 'scheduled',
  priority: 2,
  runAt: new Date(1_764_606_060_000),
  uniqueKey: 'video:v42',
  metadata: { videoId: 'v42' },
} as unknown as JobRecord;
const queuedAt = 1_764_606_000_007;

/** The log's entries of an outcome, as the pool builds them. */
function logged(written: FinalizeItem, result: unknown = null): LogEntry[] {
  const outcome = { ok: true, result } as never;
  const decision = { kind: 'abandon', reason: 'unrecoverable' } as never;
  const parts = {
    job,
    base,
    decision,
    written,
    outcome,
    slot: 3,
    finishedAt: 1_764_606_000_170,
    durationMs: 40.25,
  };
  return outcomeEntries(parts, undefined, true);
}

/** A compact `job:queued` of `record` under another id. */
const queued0 = (id: string): LogEntry => packedQueued({ ...record, id } as JobRecord, queuedAt)!;

/** Write then read back, as a driver does. */
const roundTrip = (entries: readonly LogEntry[]): LogEntry[] =>
  unpackEntries(JSON.parse(packEntries(entries)));

/** Entries as plain JSON (key order included), without the compact form a builder attached. */
const plain = (entries: readonly LogEntry[]): string =>
  JSON.stringify(entries.map(({ type, data }) => ({ type, data })));

const lease = { id: job.id, leaseToken: 3 };
const outcomes: [string, LogEntry[]][] = [
  ['completed, no result', logged({ ...lease, outcome: 'completed', resultJson: null })],
  [
    'completed with a result',
    logged({ ...lease, outcome: 'completed', resultJson: '{"url":"s3://x","n":[1,2]}' }),
  ],
  [
    'completed, result too large to log',
    logged({ ...lease, outcome: 'completed', resultJson: `"${'x'.repeat(20_000)}"` }),
  ],
  ['retry (due time not yet known)', logged({ ...lease, outcome: 'retry', error, delayMs: 1000 })],
  ['snoozed', logged({ ...lease, outcome: 'snoozed', delayMs: 250 })],
  ['abandoned', logged({ ...lease, outcome: 'abandoned', error })],
  ['started (claim)', [{ type: 'job:started', data: claimedEvent(job, poolId) }]],
  ['started (claim, built compact)', [packedStarted(job, poolId)!]],
  ['queued', [{ type: 'job:queued', data: queuedEvent(record, queuedAt) }]],
  ['queued (built compact)', [packedQueued(record, queuedAt)!]],
  [
    'queued, no metadata, no unique key, due now',
    [
      {
        type: 'job:queued',
        data: queuedEvent({ ...record, metadata: {}, uniqueKey: null, runAt: new Date(queuedAt) }, queuedAt),
      },
    ],
  ],
];

describe('compact stored form of the hot events', () => {
  for (const [name, entries] of outcomes) {
    it(`${name}: reads back exactly as built`, () => {
      assert.equal(plain(roundTrip(entries)), plain(entries));
    });
  }

  it('the hot events are stored as arrays, at most half the size of the object form', () => {
    for (const [name, entries] of outcomes) {
      const stored = JSON.parse(packEntries(entries)) as unknown[];
      const hot = entries.filter((e) => e.type !== 'job:abandoned').length;
      assert.equal(stored.filter(Array.isArray).length, hot, name);
      assert.ok(packEntries(entries).length < plain(entries).length, name);
      // Errors (with their stacks) are stored as they are; the rest of an entry shrinks by half.
      if (name.includes('too large') || /abandoned|retry/.test(name)) continue;
      assert.ok(packEntries(entries).length * 2 <= plain(entries).length, name);
    }
  });

  it('a compact entry built directly expands to the payload of the object builder', () => {
    const [direct] = outcomes.find(([n]) => n === 'started (claim, built compact)')![1];
    assert.deepEqual(direct!.data, claimedEvent(job, poolId));
    // The builder's `job:completed` is compact, its `data` the payload the bus emits.
    const [completed] = logged({ ...lease, outcome: 'completed', resultJson: '{"a":1}' }, { a: 1 });
    assert.ok(completed!.packed);
    const bus = outcomeEntries(
      {
        job,
        base,
        decision: { kind: 'complete' } as never,
        written: { ...lease, outcome: 'completed', resultJson: '{"a":1}' },
        outcome: { ok: true, result: { a: 1 } } as never,
        slot: 3,
        finishedAt: 1_764_606_000_170,
        durationMs: 40.25,
      },
      undefined,
    );
    assert.equal(plain([completed!]), plain(bus));
  });

  it("a claim's batch of job:started expands to the entries one per job would, in order", () => {
    const other = { ...job, id: '4713', task: 'mail "quoted"', attempt: 1, metadataJson: '{}' };
    const perJob = [packedStarted(job, poolId)!, packedStarted(other, poolId)!];
    const column = (i: number) => perJob.map((e) => e.packed![i]);
    // As the PostgreSQL claim builds it (claim-log.ts): one element per job in each column, an
    // empty metadata as {}.
    const batch = [
      7,
      poolId,
      ...[1, 2, 3, 4, 5, 6, 8, 9].map(column),
      perJob.map((e) => e.packed![10] ?? {}),
    ];
    // As the SQLite claim builds it: a column batch (code 8), the metadata's JSON unparsed.
    const columns = JSON.parse(startedBatchJson([job, other], poolId)!) as unknown[];
    assert.deepEqual(columns.slice(0, 3), [8, 1, 2]);
    assert.equal(plain(unpackEntries([columns])), plain(perJob));
    assert.equal(startedBatchJson([job, { ...other, startedAt: other.startedAt + 0.5 }], poolId), undefined);
    const stored = JSON.parse(JSON.stringify([batch, perJob[0]!.packed])) as unknown[];
    assert.equal(plain(unpackEntries(stored)), plain([...perJob, perJob[0]!]));
    assert.deepEqual(
      unpackEntries(stored).map((e) => e.data),
      [claimedEvent(job, poolId), claimedEvent(other, poolId), claimedEvent(job, poolId)],
    );
    const torn = [
      7,
      poolId,
      ['1', '2'],
      ['t'],
      ['q', 'q'],
      ['c', 'c'],
      [1, 1],
      [3, 3],
      [0, 0],
      [0, 0],
      [{}, {}],
    ];
    assert.throws(() => unpackEntries([torn]), /malformed job:started batch/);
  });

  it('a run of entries of one code is stored column by column and reads back exactly, in order', () => {
    const completed = (id: string, resultJson: string | null, metadata: Record<string, unknown>) =>
      outcomeEntries(
        {
          job: { ...job, id, metadataJson: JSON.stringify(metadata) },
          base: { ...base, jobId: id, metadata },
          decision: { kind: 'complete' } as never,
          written: { id, leaseToken: 3, outcome: 'completed', resultJson },
          outcome: { ok: true, result: null } as never,
          slot: 3,
          finishedAt: 1_764_606_000_170 + Number(id),
          durationMs: 40,
        },
        undefined,
        true,
      )[0]!;
    const queued = (id: string, metadata: Record<string, unknown> | null) =>
      packedQueued({ ...record, id, metadata } as never, queuedAt)!;
    const started = packedStarted(job, poolId)!;
    const entries = [
      started,
      // Results of every kind (an array among them), metadata on some jobs only.
      completed('1', null, {}),
      completed('2', '[1,"a"]', { videoId: 'v2' }),
      completed('3', '{"ok":true}', {}),
      completed('4', null, {}),
      queued('5', {}),
      queued('6', null),
      queued('7', { a: [1] }),
      // A run too short for columns: stored entry by entry.
      completed('8', null, {}),
      completed('9', null, {}),
    ];
    const text = packEntries(entries);
    const stored = JSON.parse(text) as unknown[][];
    // The run of four has an encoded column (10): its ids, one run of consecutive numbers.
    assert.deepEqual(
      stored.map((e) => e.slice(0, e[0] === 8 || e[0] === 10 ? 3 : 1)),
      [[1], [10, 2, 4], [8, 6, 3], [2], [2]],
    );
    // What every entry of the run shares is written once: task, queue, pool, attempt.
    const [, , , ids, task, queue, , attempt, , pool] = stored[1]!;
    assert.deepEqual([ids, task, queue, attempt, pool], [{ R: [1, 1, 4] }, job.task, job.queue, 2, poolId]);
    assert.equal(plain(unpackEntries(stored)), plain(entries));
    assert.ok(text.length < JSON.stringify(entries.map((e) => e.packed)).length * 0.8);
    // Entries with no metadata at all: one {} for the column.
    const bare = packEntries(['1', '2', '3'].map((id) => completed(id, null, {})));
    assert.deepEqual((JSON.parse(bare) as unknown[][])[0]!.at(-1), {});
    assert.equal(
      plain(unpackEntries(JSON.parse(bare))),
      plain(['1', '2', '3'].map((id) => completed(id, null, {}))),
    );
  });

  it('a torn column batch, or one of an unknown code, is refused with a clear error', () => {
    const good = JSON.parse(packEntries([queued0('1'), queued0('2'), queued0('3')])) as unknown[][];
    assert.equal(unpackEntries(good).length, 3);
    const torn = structuredClone(good);
    (torn[0]![3] as unknown[]).pop();
    assert.throws(() => unpackEntries(torn), /malformed column batch/);
    const wrongCount = structuredClone(good);
    wrongCount[0]![2] = 4;
    assert.throws(() => unpackEntries(wrongCount), /malformed column batch/);
    assert.throws(() => unpackEntries([[8, 99, 1, 'x']]), /newer jobwire; upgrade/);
  });

  it('distinct UUIDs are stored as one encoded column (code 10) and read back exactly', () => {
    const uuids = [
      '0b6f1f3e-8a57-4d57-9d0a-0e8b1b2f6a11',
      '91c2d0aa-0000-4fff-8123-456789abcdef',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      '00000000-0000-0000-0000-000000000000',
    ];
    const queuedWith = (ids: readonly string[]) =>
      ids.map((correlationId, i) => packedQueued({ ...record, id: String(i + 1), correlationId }, queuedAt)!);
    const entries = queuedWith(uuids);
    const text = packEntries(entries);
    const [batch] = JSON.parse(text) as unknown[][];
    assert.deepEqual(batch!.slice(0, 3), [10, 6, 4]);
    assert.deepEqual(Object.keys(batch![6] as object), ['u']);
    assert.equal(plain(unpackEntries([batch])), plain(entries));
    const asArrays = JSON.stringify(uuids);
    assert.ok(JSON.stringify(batch![6]).length < asArrays.length * 0.65, 'two thirds of the bytes or less');
    // The claim's batch of job:started encodes them the same way.
    const claimed = uuids.map((correlationId, i) => ({ ...job, id: String(i + 1), correlationId }));
    const started = JSON.parse(startedBatchJson(claimed, poolId)!) as unknown[];
    assert.deepEqual(started.slice(0, 3), [10, 1, 4]);
    assert.equal(plain(unpackEntries([started])), plain(claimed.map((c) => packedStarted(c, poolId)!)));

    // Only canonical lower-case UUIDs decode back to themselves: anything else stays an array.
    for (const odd of [
      uuids[0]!.toUpperCase(),
      '0b6f1f3e-8a57-4d57-9d0a-0e8b1b2f6a1g',
      '0b6f1f3e-8a57-4d57-9d0a-0e8b1b-f6a11',
      '0b6f1f3e8a57-4d57-9d0a-0e8b1b2f6a11x',
      'not a uuid',
    ]) {
      const mixed = queuedWith([...uuids.slice(0, 3), odd]);
      const [stored] = JSON.parse(packEntries(mixed)) as unknown[][];
      assert.ok(Array.isArray(stored![6]), odd);
      assert.equal((stored![6] as string[])[3], odd);
      assert.equal(plain(unpackEntries([stored])), plain(mixed), odd);
    }

    // A reader refuses an encoding it does not know, and a column of the wrong length.
    const unknown = structuredClone(batch!);
    unknown[6] = { z: 'AAAA' };
    assert.throws(() => unpackEntries([unknown]), /unknown column encoding .* newer jobwire/);
    const short = structuredClone(batch!);
    (short as unknown[])[2] = 5;
    // The ids come first: their runs column is the first to disagree.
    assert.throws(
      () => unpackEntries([short]),
      /malformed runs column in the event log: \{"R":\[1,1,4\]\} for 5 values/,
    );
    (short as unknown[])[3] = ['1', '2', '3', '4', '5'];
    assert.throws(
      () => unpackEntries([short]),
      /malformed UUID column in the event log: 64 bytes for 5 values/,
    );
  });

  it('a masked entry reads as the entries it encloses without the positions it names', () => {
    const entries = [queued0('1'), queued0('2'), queued0('3'), queued0('4')];
    const inner = JSON.parse(packEntries(entries)) as unknown[];
    // A column batch and a plain entry inside; positions count the expanded entries.
    const masked = [[9, [0, 2], ...inner, { type: 'test:note', data: { n: 5 } }]];
    assert.deepEqual(
      unpackEntries(masked).map((e) => (e.data as { jobId?: string; n?: number }).jobId ?? e.type),
      ['2', '4', 'test:note'],
    );
    assert.equal(unpackEntries([[9, [], ...inner]]).length, 4);
    assert.throws(() => unpackEntries([[9, 'x', ...inner]]), /malformed masked entry/);
    assert.throws(() => unpackEntries([[9, [-1], ...inner]]), /malformed masked entry/);
  });

  it('a payload the compact form cannot hold exactly is stored as an object, unchanged', () => {
    const variants: Record<string, unknown>[] = [
      {
        ...base,
        startedAt: base.startedAt + 0.5,
        waitMs: 130.5,
        completedAt: 1,
        durationMs: 1,
        result: null,
      },
      { ...base, waitMs: 7, completedAt: 1, durationMs: 1, result: null },
      { ...base, extra: true, completedAt: 1, durationMs: 1, result: null },
      { ...base, completedAt: 1, durationMs: undefined, result: null },
      { ...base, metadata: [1], completedAt: 1, durationMs: 1, result: null },
      { ...base, completedAt: 1, durationMs: 1, result: null, resultOmitted: false },
    ];
    for (const data of variants) {
      const entries = [{ type: 'job:completed', data }];
      assert.ok(!Array.isArray((JSON.parse(packEntries(entries)) as unknown[])[0]), JSON.stringify(data));
      assert.deepEqual(roundTrip(entries), JSON.parse(JSON.stringify(entries)));
    }
  });

  it('a job:queued the compact form cannot hold exactly is stored as an object, unchanged', () => {
    const data = queuedEvent(record, queuedAt) as unknown as Record<string, unknown>;
    const variants: Record<string, unknown>[] = [
      { ...data, queuedAt: queuedAt + 0.5 },
      { ...data, attempt: 1 },
      { ...data, extra: true },
      { ...data, metadata: [1] },
      { ...data, uniqueKey: undefined },
    ];
    for (const variant of variants) {
      const entries = [{ type: 'job:queued', data: variant }];
      assert.ok(!Array.isArray((JSON.parse(packEntries(entries)) as unknown[])[0]), JSON.stringify(variant));
      assert.deepEqual(roundTrip(entries), JSON.parse(JSON.stringify(entries)));
    }
    const direct = packedQueued(record, queuedAt)!;
    assert.equal(JSON.stringify(direct.data), JSON.stringify(data));
  });

  it('a worker id not of the form <poolId>/<slot> is stored whole', () => {
    for (const workerId of ['elsewhere/3', `${poolId}/x`, `${poolId}/007`]) {
      const data = { ...base, workerId, completedAt: 1, durationMs: 1, result: null };
      const entries = [{ type: 'job:completed', data }];
      assert.ok(Array.isArray((JSON.parse(packEntries(entries)) as unknown[])[0]));
      assert.equal(plain(roundTrip(entries)), plain(entries));
    }
  });

  it('a due-time placeholder stays in place for the driver to replace', () => {
    const entries = logged({ ...lease, outcome: 'retry', error, delayMs: 1000 });
    const text = packEntries(entries).replace(JSON.stringify(RUN_AT_PLACEHOLDER), '1764606001170');
    const [, retrying] = unpackEntries(JSON.parse(text));
    assert.equal((retrying!.data as { nextRunAt: number }).nextRunAt, 1_764_606_001_170);
  });

  it('rows in the original form (before the compact form) read unchanged, also mixed with it', () => {
    const entries = outcomes.flatMap(([, e]) => e);
    const old = { id: '1', at: 5, entriesJson: plain(entries) };
    const now = { id: '2', at: 6, entriesJson: packEntries(entries) };
    const page = expandRows(
      [old, now],
      null,
      1000,
      undefined,
      (r, i) => `${r.id}.${i}`,
      (r) => r.id,
    );
    const expected = JSON.parse(plain(entries)) as LogEntry[];
    assert.deepEqual(
      page.events.map(({ type, data }) => ({ type, data })),
      [...expected, ...expected],
    );
    // Cursors count events, whatever the stored form.
    assert.deepEqual(
      page.events.map((e) => e.cursor),
      [...expected.map((_, i) => `1.${i}`), ...expected.map((_, i) => `2.${i}`)],
    );
  });
});

/** Raw access to a test database's event rows, per driver. */
interface RawLog {
  rows(): Promise<unknown[][]>;
  insertLegacy(jobId: string, json: string): Promise<void>;
}

async function rawLog(t: TestContext, name: string, location: string): Promise<RawLog> {
  if (name === 'sqlite') {
    const db = new Database(location);
    t.after(() => db.close());
    return {
      rows: async () =>
        (db.prepare('SELECT entries FROM jobwire_events ORDER BY id').all() as { entries: string }[]).map(
          (r) => JSON.parse(r.entries) as unknown[],
        ),
      async insertLegacy(jobId, json) {
        const { id } = db
          .prepare('INSERT INTO jobwire_events (at, entries) VALUES (?, ?) RETURNING id')
          .get(Date.now(), json) as { id: number };
        db.prepare('INSERT INTO jobwire_event_jobs (id, lo, hi) VALUES (?, ?, ?)').run(
          id,
          Number(jobId),
          Number(jobId),
        );
      },
    };
  }
  const url = new URL(location);
  const schema = url.hash.slice(1);
  url.hash = '';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  t.after(() => client.end());
  return {
    rows: async () =>
      (
        await client.query<{ entries: string }>(`SELECT entries::text FROM "${schema}".events ORDER BY id`)
      ).rows.map((r) => JSON.parse(r.entries) as unknown[]),
    async insertLegacy(jobId, json) {
      await client.query(
        `INSERT INTO "${schema}".events (job_lo, job_hi, entries) VALUES ($1, $1, $2::text)`,
        [jobId, json],
      );
    },
  };
}

/** The codes of a row's compact entries, a batch counted once per entry it holds. */
const codes = (e: unknown[]): unknown[] =>
  e[0] === 7
    ? (e[2] as unknown[]).map(() => 1)
    : e[0] === 8 || e[0] === 10
      ? Array.from({ length: e[2] as number }, () => e[1])
      : [e[0]];

const encode = defineTask({
  name: 'pack.encode',
  handler: async (payload: { n: number }) => ({ url: `s3://v/${payload.n}` }),
});

for (const factory of [sqliteDatabases, postgresDatabases] as TestDatabaseFactory[]) {
  describe(`compact event rows (${factory.name})`, () => {
    it('a run stores job:started and job:completed compact; both read back as emitted', async (t) => {
      const { client, db } = await withClient(t, factory, { tasks: [encode] });
      const raw = await rawLog(t, factory.name, db.location);
      const start = await client.events.head();
      const emitted: { type: string; data: unknown }[] = [];
      client.events.on('job:completed', (data) => emitted.push({ type: 'job:completed', data }));
      client.events.on('job:queued', (data) => emitted.push({ type: 'job:queued', data }));
      const queued = await client.enqueue(encode, { n: 1 }, { metadata: { videoId: 'v1' } });
      const plainJob = await client.enqueue(encode, { n: 2 });
      const pool = client.createPool({ ...testPool, concurrency: 2 });
      await pool.start();
      await until(async () => (await client.countJobs()).completed === 2);
      await pool.stop();

      const hot = (await raw.rows()).flat().filter(Array.isArray) as unknown[][];
      assert.deepEqual(
        hot.flatMap(codes).sort(),
        [1, 1, 2, 2, 6, 6],
        'two enqueues, two starts and two completions, compact',
      );
      // PostgreSQL's claim builds code 7 in SQL, SQLite's a column batch of job:started.
      assert.ok(
        hot.some((e) => e[0] === 7 || ((e[0] === 8 || e[0] === 10) && e[1] === 1)),
        'the claim stored its starts as a batch',
      );
      const { events } = await client.events.read({ after: start, limit: 100 });
      for (const type of ['job:queued', 'job:completed'])
        for (const id of [queued.id, plainJob.id]) {
          const mine = (e: { type: string; data: unknown }) =>
            e.type === type && (e.data as { jobId: string }).jobId === id;
          const fromLog = events.find(mine);
          const fromBus = emitted.find(mine);
          assert.ok(fromLog && fromBus, `${type} of ${id} in the log and on the bus`);
          assert.equal(JSON.stringify(fromLog.data), JSON.stringify(fromBus.data));
        }
      const started = events.find(
        (e) => e.type === 'job:started' && (e.data as { jobId: string }).jobId === queued.id,
      );
      assert.deepEqual((started?.data as { metadata?: unknown } | undefined)?.metadata, { videoId: 'v1' });
    });

    it('a batch of jobs: every event read back equals what the bus emitted', async (t) => {
      const { client, db } = await withClient(t, factory, { tasks: [encode] });
      const raw = await rawLog(t, factory.name, db.location);
      const start = await client.events.head();
      const emitted: { type: string; data: unknown }[] = [];
      for (const type of ['job:queued', 'job:completed'] as const)
        client.events.on(type, (data) => emitted.push({ type, data }));
      const jobs = await client.enqueueMany(
        Array.from({ length: 24 }, (_, n) => ({
          task: encode,
          payload: { n },
          ...(n % 3 === 0 ? { options: { metadata: { videoId: `v${n}` } } } : {}),
        })),
      );
      const pool = client.createPool({ ...testPool, concurrency: 8 });
      await pool.start();
      await until(async () => (await client.countJobs()).completed === 24);
      await pool.stop();
      const hot = (await raw.rows()).flat().filter(Array.isArray) as unknown[][];
      assert.deepEqual(
        hot.flatMap(codes).filter((c) => c === 6 || c === 2).length,
        48,
        'every enqueue and completion stored compact',
      );
      // SQLite stores the enqueue's 24 job:queued as one column batch; PostgreSQL builds them in SQL.
      // Its correlation ids (UUIDs, the default) as one encoded column: code 10, {"u": base64url}.
      if (factory.name === 'sqlite')
        assert.ok(
          hot.some(
            (e) =>
              e[0] === 10 &&
              e[1] === 6 &&
              e[2] === 24 &&
              typeof (e[6] as { u?: unknown }).u === 'string' &&
              (e[6] as { u: string }).u.length === 512 /* 24 × 16 bytes, 4 characters per 3 */,
          ),
        );
      const { events } = await client.events.read({ after: start, limit: 1000 });
      for (const { type, data } of emitted) {
        const id = (data as { jobId: string }).jobId;
        const fromLog = events.find((e) => e.type === type && (e.data as { jobId: string }).jobId === id);
        assert.equal(JSON.stringify(fromLog?.data), JSON.stringify(data), `${type} of ${id}`);
      }
      assert.equal(emitted.length, 48);
      assert.deepEqual(
        new Set(
          events.filter((e) => e.type === 'job:started').map((e) => (e.data as { jobId: string }).jobId),
        ),
        new Set(jobs.map((j) => j.id)),
      );
    });

    it('a row written in the original form reads unchanged: read, tail position, job timeline', async (t) => {
      const { client, db } = await withClient(t, factory, { tasks: [encode] });
      const raw = await rawLog(t, factory.name, db.location);
      const start = await client.events.head();
      const data = {
        ...base,
        jobId: '99',
        completedAt: 1_764_606_000_170,
        durationMs: 40,
        result: { ok: 1 },
      };
      const legacy = [
        { type: 'job:started', data: { ...claimedEvent({ ...job, id: '99' }, poolId) } },
        { type: 'job:completed', data },
      ];
      await raw.insertLegacy('99', JSON.stringify(legacy));
      await until(async () => (await client.events.read({ after: start, limit: 10 })).events.length === 2);
      const { events } = await client.events.read({ after: start, limit: 10 });
      assert.deepEqual(
        events.map(({ type, data }) => ({ type, data })),
        legacy,
      );
      const timeline = await client.jobEvents('99');
      assert.deepEqual(
        timeline.map((e) => e.type),
        ['job:started', 'job:completed'],
      );
    });
  });
}
