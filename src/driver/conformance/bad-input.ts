/**
 * Conformance: hostile input straight through the driver seam. Each case is one row of a table
 * with its expected outcome: refused with an `InvalidOptionError` naming the field (and nothing
 * stored), or stored and read back exactly. Every driver must give the same outcome.
 */
import assert from 'node:assert/strict';
import { InvalidOptionError } from '../../core/errors.js';
import type { Driver, JobInsertParams } from '../driver.js';
import { type DefineTest, getJob, insertJob, insertJobs, jobParams, T0 } from './harness.js';

/** 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the accepted range of due times. */
const EARLIEST = -62_135_596_800_000;
const LATEST = 253_402_300_799_999;

/** Insert parameters every driver must refuse, with the field the error must name. */
const REFUSED_INSERTS: [label: string, job: Partial<JobInsertParams>, field: string][] = [
  ['NUL in a unique key', { uniqueKey: 'order\u0000-1' }, 'uniqueKey'],
  ['unpaired high surrogate in a unique key', { uniqueKey: 'k\ud800' }, 'uniqueKey'],
  ['unpaired low surrogate in a unique key', { uniqueKey: '\udc00k' }, 'uniqueKey'],
  ['NUL in a correlation id', { correlationId: '\u0000' }, 'correlationId'],
  ['unpaired surrogate in a correlation id', { correlationId: 'c\udbff-x' }, 'correlationId'],
  ['NUL in a task name', { task: 'send\u0000' }, 'task'],
  ['unpaired surrogate in a queue name', { queue: 'q\udfff' }, 'queue'],
  ['a due time one past what a Date can hold', { runAt: 8.64e15 + 1 }, 'runAt'],
  ['a due time past year 9999', { runAt: LATEST + 1 }, 'runAt'],
  ['a due time of 1e20 ms', { runAt: 1e20 }, 'runAt'],
  ['a due time before year 1', { runAt: EARLIEST - 1 }, 'runAt'],
  ['a NaN due time', { runAt: Number.NaN }, 'runAt'],
  ['an infinite due time', { runAt: Number.POSITIVE_INFINITY }, 'runAt'],
  ['a NaN delay', { delayMs: Number.NaN }, 'delayMs'],
  ['a negative delay', { delayMs: -1 }, 'delayMs'],
  ['a delay of 1e20 ms', { delayMs: 1e20 }, 'delayMs'],
  ['a priority past 32 bits', { priority: 2 ** 31 }, 'priority'],
  ['a fractional priority', { priority: 1.5 }, 'priority'],
  ['zero attempts', { maxAttempts: 0 }, 'maxAttempts'],
  ['attempts past 32 bits', { maxAttempts: 2 ** 40 }, 'maxAttempts'],
  ['a zero timeout', { timeoutMs: 0 }, 'timeoutMs'],
  ['a megabyte unique key with a NUL at its end', { uniqueKey: `${'k'.repeat(1 << 20)}\u0000` }, 'uniqueKey'],
  ['a megabyte string as a priority', { priority: '1'.repeat(1 << 20) as never }, 'priority'],
];

/** Strings that are valid text but hostile to careless SQL, LIKE patterns or JSON handling. */
const TRICKY_TEXT = ["'; DROP TABLE jobs; --", '%_\\', 'a"b\\"c', '\u2400 ␀ \ufffd', '😀 paired'];

async function total(driver: Driver): Promise<number> {
  return Object.values(await driver.jobCountByState({})).reduce((a, b) => a + b, 0);
}

function isInvalidOption(field: string): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof InvalidOptionError, `expected InvalidOptionError, got ${String(err)}`);
    assert.equal(err.code, 'JOBWIRE_INVALID_OPTION');
    assert.equal(err.field, field);
    assert.ok(err.message.length < 1000, `a ${err.message.length}-character message`);
    return true;
  };
}

export function badInputTests(test: DefineTest): void {
  test('insert refuses unstorable identifiers and out-of-range numbers, naming the field, storing nothing', async (driver) => {
    for (const [label, overrides, field] of REFUSED_INSERTS) {
      // The bad job is second: the fine one before it must not be stored either.
      await assert.rejects(
        driver.jobInsertMany({ jobs: [jobParams(), jobParams(overrides)], now: T0 }),
        isInvalidOption(`jobs[1].${field}`),
        label,
      );
    }
    assert.equal(await total(driver), 0);
  });

  test('insert stores hostile JSON text and SQL metacharacters exactly', async (driver) => {
    // JSON escapes of a NUL and of unpaired surrogates are valid JSON text on every driver.
    const payload = {
      nul: 'a\u0000b',
      high: 'x\ud800',
      low: '\udc00y',
      'key\u0000': TRICKY_TEXT,
      big: 'x'.repeat(1 << 20),
    };
    const metadata = { '\ud83d': 'half an emoji', sql: TRICKY_TEXT[0] };
    const jobs = await insertJobs(driver, [
      ...TRICKY_TEXT.map((text, i) => ({
        task: `task-${i}`,
        queue: text,
        uniqueKey: text,
        correlationId: text,
        payloadJson: JSON.stringify(payload),
        metadataJson: JSON.stringify(metadata),
      })),
      { runAt: EARLIEST, correlationId: 'earliest' },
      { runAt: LATEST, correlationId: 'latest' },
    ]);
    for (const [i, text] of TRICKY_TEXT.entries()) {
      const stored = await getJob(driver, jobs[i]!.id);
      assert.equal(stored.queue, text);
      assert.equal(stored.uniqueKey, text);
      assert.equal(stored.correlationId, text);
      assert.deepEqual(stored.payload, payload);
      assert.deepEqual(stored.metadata, metadata);
      assert.deepEqual(jobs[i]!.payload, payload, 'the returned record matches what was stored');
    }
    const earliest = await getJob(driver, jobs[TRICKY_TEXT.length]!.id);
    assert.equal(earliest.runAt.getTime(), EARLIEST);
    const latest = await getJob(driver, jobs[TRICKY_TEXT.length + 1]!.id);
    assert.equal(latest.runAt.getTime(), LATEST);
    assert.equal(latest.state, 'scheduled');
    // A unique key full of SQL metacharacters still deduplicates, and only against itself.
    const again = await driver.jobInsertMany({ jobs: [jobParams({ uniqueKey: TRICKY_TEXT[1]! })], now: T0 });
    assert.ok('inserted' in again);
    assert.deepEqual([again.inserted[0]!.duplicate, again.inserted[0]!.job.id], [true, jobs[1]!.id]);
  });

  test('listing and counting refuse unknown states and unstorable filters', async (driver) => {
    await insertJob(driver);
    const refused: [string, () => Promise<unknown>, string][] = [
      ['an unknown state', () => driver.jobList({ states: ['bogus' as never], limit: 10 }), 'states'],
      [
        'an unknown state among known ones',
        () => driver.jobList({ states: ['pending', "pending'; --" as never], limit: 10 }),
        'states',
      ],
      [
        'a megabyte state',
        () => driver.jobList({ states: ['s'.repeat(1 << 20) as never], limit: 10 }),
        'states',
      ],
      ['a NUL in a queue', () => driver.jobList({ queues: ['default\u0000'], limit: 10 }), 'queues'],
      ['a surrogate in a task', () => driver.jobList({ tasks: ['t\ud800'], limit: 10 }), 'tasks'],
      ['a number as a queue', () => driver.jobList({ queues: [5 as never], limit: 10 }), 'queues'],
      ['a NUL in a counted queue', () => driver.jobCountByState({ queues: ['\u0000'] }), 'queues'],
    ];
    for (const [label, call, field] of refused) await assert.rejects(call(), isInvalidOption(field), label);
  });

  test('filters match SQL and LIKE metacharacters literally', async (driver) => {
    const jobs = await insertJobs(driver, [
      { queue: '%', task: '_' },
      { queue: 'a%', task: 'a_' },
      { queue: 'ab', task: 'ab' },
      { queue: "'; DROP TABLE jobs; --", task: '\\' },
    ]);
    const idsOf = async (filter: { queues?: string[]; tasks?: string[] }) =>
      (await driver.jobList({ ...filter, limit: 10 })).jobs.map((job) => job.id);
    assert.deepEqual(await idsOf({ queues: ['%'] }), [jobs[0]!.id]);
    assert.deepEqual(await idsOf({ queues: ['a%'] }), [jobs[1]!.id]);
    assert.deepEqual(await idsOf({ tasks: ['_'] }), [jobs[0]!.id]);
    assert.deepEqual(await idsOf({ tasks: ['\\'] }), [jobs[3]!.id]);
    assert.deepEqual(await idsOf({ queues: ["'; DROP TABLE jobs; --"] }), [jobs[3]!.id]);
    assert.equal((await driver.jobCountByState({ queues: ['a%', '%'] })).pending, 2);
    assert.equal(await total(driver), 4);
  });

  test('a cursor jobList cannot have returned is refused; any positive 64-bit cursor is accepted', async (driver) => {
    const jobs = await insertJobs(driver, [{}, {}]);
    for (const cursor of [
      'abc',
      '1e3',
      '-1',
      '0',
      '',
      ' 1',
      '1.0',
      '01',
      '0x10',
      '9223372036854775808',
      '9'.repeat(1 << 20),
    ]) {
      await assert.rejects(driver.jobList({ limit: 10, before: cursor }), isInvalidOption('before'), cursor);
    }
    for (const cursor of ['9007199254740993', '9223372036854775807']) {
      const page = await driver.jobList({ limit: 10, before: cursor });
      assert.deepEqual(
        page.jobs.map((job) => job.id),
        [jobs[1]!.id, jobs[0]!.id],
        cursor,
      );
    }
  });

  test('ids that cannot exist match nothing and change nothing', async (driver) => {
    const job = await insertJob(driver, { correlationId: 'keep-me' });
    const bogus = [
      'abc',
      '1e3',
      '-1',
      '0',
      '',
      '01',
      `${job.id}.0`,
      ' 1',
      '99999999999999999999',
      'a\u0000',
      '\ud800',
    ];
    for (const id of bogus) {
      assert.equal(await driver.jobGet({ id }), undefined, `get ${JSON.stringify(id)}`);
      assert.deepEqual(await driver.jobCancel({ ids: [id], now: T0 }), [], `cancel ${JSON.stringify(id)}`);
      assert.deepEqual(await driver.jobRetry({ ids: [id], now: T0 }), [], `retry ${JSON.stringify(id)}`);
      assert.deepEqual(await driver.jobDelete({ ids: [id] }), [], `delete ${JSON.stringify(id)}`);
    }
    assert.deepEqual(await getJob(driver, job.id), job);
  });
}
