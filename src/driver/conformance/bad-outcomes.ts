/**
 * Conformance: outcomes whose text a database could refuse. PostgreSQL's `jsonb` (the errors
 * column) refuses the escapes of NUL and of unpaired UTF-16 surrogates; `json` and SQLite accept
 * them. The contract every driver keeps: a stored error's text is made storable the same way
 * (`toStorableText`: NUL → U+2400, lone surrogate → U+FFFD) and every item of the batch is
 * written; JSON results and progress keep such characters as JSON escapes and read back exactly.
 */
import assert from 'node:assert/strict';
import type { StoredError } from '../../core/types.js';
import { claim, type DefineTest, getJob, insertJobs, T0 } from './harness.js';

const NUL = '\u0000';
/** What the handler threw: a lone high and a lone low surrogate, and an emoji cut in half. */
const LONE = `high \ud800 low \udc00 half ${'😀'.slice(0, 1)}`;

function error(message: string, extra: Partial<StoredError> = {}): StoredError {
  return { name: 'Error', message, attempt: 1, at: T0 + 5, ...extra };
}

export function badOutcomeTests(test: DefineTest): void {
  test('error text with NUL or lone surrogates is stored made storable, and the batch is written', async (driver) => {
    const jobs = await insertJobs(driver, [{}, {}, {}, {}]);
    const leases = await claim(driver, { limit: 4 });
    assert.equal(leases.length, 4);
    const byId = new Map(leases.map((l) => [l.id, l]));
    const lease = (i: number) => ({ id: jobs[i]!.id, leaseToken: byId.get(jobs[i]!.id)!.leaseToken });
    const results = await driver.jobFinalizeMany({
      items: [
        { ...lease(0), outcome: 'completed', resultJson: '{"ok":true}' },
        {
          ...lease(1),
          outcome: 'retry',
          error: error(`nul${NUL}here`, { name: `Bad${NUL}Name`, stack: `at ${NUL} x` }),
          delayMs: 10,
        },
        { ...lease(2), outcome: 'abandoned', error: error(LONE, { stack: LONE }) },
        { ...lease(3), outcome: 'completed', resultJson: null },
      ],
      now: T0 + 5,
    });
    assert.deepEqual(
      results.map((r) => r.applied),
      [true, true, true, true],
    );
    assert.equal((await getJob(driver, jobs[0]!.id)).state, 'completed');
    assert.equal((await getJob(driver, jobs[3]!.id)).state, 'completed');
    const retried = await getJob(driver, jobs[1]!.id);
    assert.equal(retried.state, 'scheduled');
    assert.deepEqual(retried.errors, [
      { name: 'Bad\u2400Name', message: 'nul\u2400here', stack: 'at \u2400 x', attempt: 1, at: T0 + 5 },
    ]);
    const abandoned = await getJob(driver, jobs[2]!.id);
    assert.equal(abandoned.state, 'abandoned');
    const storable = 'high \ufffd low \ufffd half \ufffd';
    assert.deepEqual(abandoned.errors, [
      { name: 'Error', message: storable, stack: storable, attempt: 1, at: T0 + 5 },
    ]);
  });

  test('a long error message is cut on a character boundary, never inside a surrogate pair', async (driver) => {
    const [job] = await insertJobs(driver, [{}]);
    const [lease] = await claim(driver);
    // 'a' then emoji: a cut at an even length would fall between the halves of a pair.
    const message = `a${'😀'.repeat(3000)}`;
    const [result] = await driver.jobFinalizeMany({
      items: [{ id: job!.id, leaseToken: lease!.leaseToken, outcome: 'abandoned', error: error(message) }],
      now: T0 + 5,
    });
    assert.equal(result!.applied, true);
    const [stored] = (await getJob(driver, job!.id)).errors;
    assert.ok(stored);
    // Bounded: about 4,096 characters (drivers leave room for a note a caller already added).
    assert.ok(stored.message.length < 4300, `stored ${stored.message.length} characters`);
    assert.match(stored.message, /^a(😀)+… \[\d+ more characters cut\]$/u);
  });

  test('results and progress with NUL and lone surrogates read back exactly', async (driver) => {
    const [job] = await insertJobs(driver, [{}]);
    const [lease] = await claim(driver);
    const value = { text: `nul${NUL} ${LONE}`, list: [NUL, '\udfff'] };
    const progressJson = JSON.stringify({ step: LONE });
    assert.deepEqual(
      await driver.jobHeartbeatMany({
        leases: [{ id: job!.id, leaseToken: lease!.leaseToken, progressJson }],
        leaseMs: 30_000,
        now: T0 + 1,
      }),
      [],
    );
    assert.deepEqual((await getJob(driver, job!.id)).progress, { step: LONE });
    const [result] = await driver.jobFinalizeMany({
      items: [
        {
          id: job!.id,
          leaseToken: lease!.leaseToken,
          outcome: 'completed',
          resultJson: JSON.stringify(value),
        },
      ],
      now: T0 + 5,
    });
    assert.equal(result!.applied, true);
    const stored = await getJob(driver, job!.id);
    assert.equal(stored.state, 'completed');
    assert.deepEqual(stored.result, value);
  });
}
