/**
 * Errors from a second copy of jobwire are recognised. The copy is real: src/core/errors.ts and
 * its one import, copied into a temp directory and loaded from there, so its classes are other
 * objects than ours — as when a tasks module resolves a second install of jobwire, or CommonJS
 * and ESM builds meet in one process (test/package-consumers.test.ts covers that one).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as ours from '../src/core/errors.js';
import { decideOutcome } from '../src/core/pool/outcome-policy.js';
import { createJobwire, defineTask } from '../src/index.js';
import { sqliteDatabases } from './support/sqlite.js';

type ErrorsModule = typeof ours;
let copy: ErrorsModule;
let copyDir: string;

before(async () => {
  copyDir = mkdtempSync(join(tmpdir(), 'jobwire-errors-copy-'));
  for (const file of ['errors.ts', 'preview.ts']) {
    copyFileSync(new URL(`../src/core/${file}`, import.meta.url), join(copyDir, file));
  }
  copy = (await import(pathToFileURL(join(copyDir, 'errors.ts')).href)) as ErrorsModule;
  assert.notEqual(copy.UnrecoverableError, ours.UnrecoverableError, 'the copy must be a second module');
});
after(() => rmSync(copyDir, { recursive: true, force: true }));

describe('errors of another copy of jobwire', () => {
  it('instanceof recognises them by brand and code, and only for their own class', () => {
    const unrecoverable = new copy.UnrecoverableError('bad input');
    assert.ok(unrecoverable instanceof ours.UnrecoverableError);
    assert.ok(unrecoverable instanceof ours.JobwireError);
    assert.ok(!(unrecoverable instanceof ours.SnoozeError));
    assert.ok(!(unrecoverable instanceof ours.InvalidOptionError));
    const snooze = new copy.SnoozeError(250);
    assert.ok(snooze instanceof ours.SnoozeError);
    assert.equal((snooze as ours.SnoozeError).delayMs, 250);
    assert.ok(new copy.StorageError('gone', { kind: 'unavailable' }) instanceof ours.StorageError);
    // And the other way round: the copy recognises ours.
    assert.ok(new ours.UnrecoverableError('x') instanceof copy.UnrecoverableError);
    assert.ok(ours.isJobwireError(unrecoverable, 'JOBWIRE_UNRECOVERABLE'));
    assert.ok(!ours.isJobwireError(unrecoverable, 'JOBWIRE_SNOOZE'));
  });

  it('a look-alike without the brand is not taken for a jobwire error', () => {
    const lookalike = Object.assign(new Error('x'), { code: 'JOBWIRE_UNRECOVERABLE' });
    assert.ok(!(lookalike instanceof ours.UnrecoverableError));
    assert.ok(!(lookalike instanceof ours.JobwireError));
    assert.ok(!ours.isJobwireError(lookalike));
    assert.ok(!ours.isJobwireError(null));
    assert.ok(!(Object.create(null) instanceof ours.JobwireError));
    // A subclass of ours with its own code is not mistaken for its parent across copies…
    class AppError extends ours.JobwireError {}
    assert.ok(!(new copy.UnrecoverableError('x') instanceof AppError));
    // …but stays an ordinary class within its own copy.
    assert.ok(new AppError('APP_X', 'x') instanceof AppError);
    assert.ok(new AppError('APP_X', 'x') instanceof ours.JobwireError);
  });

  it('the outcome policy abandons on the copy’s UnrecoverableError and snoozes on its SnoozeError', () => {
    const base = {
      job: { id: '1', attempt: 1, maxAttempts: 5, backoff: null } as never,
      abortReason: undefined,
      backoffFn: undefined,
      maxResultBytes: 1024,
      poolId: 'p',
      now: 0,
    };
    const abandoned = decideOutcome({
      ...base,
      outcome: { ok: false, error: new copy.UnrecoverableError('no') },
    });
    assert.equal(abandoned.kind, 'abandon');
    assert.deepEqual(decideOutcome({ ...base, outcome: { ok: false, error: new copy.SnoozeError(30) } }), {
      kind: 'snooze',
      delayMs: 30,
    });
  });

  it('a job whose handler throws the copy’s UnrecoverableError is abandoned after one attempt', async () => {
    const database = await sqliteDatabases.create();
    const jobwire = await createJobwire({
      driver: await database.open(),
      tasks: [
        defineTask({
          name: 'refuse',
          maxAttempts: 5,
          handler: () => {
            throw new copy.UnrecoverableError('account deleted');
          },
        }),
      ],
    });
    try {
      const pool = jobwire.createPool({ concurrency: 1 });
      await pool.start();
      const job = await jobwire.enqueue('refuse', {});
      await assert.rejects(job.wait({ timeoutMs: 10_000 }), ours.JobFailedError);
      const stored = await jobwire.getJob(job.id);
      assert.equal(stored?.state, 'abandoned');
      assert.equal(stored?.attempt, 1);
      assert.equal(stored?.errors[0]?.name, 'UnrecoverableError');
    } finally {
      await jobwire.close();
      await database.cleanup();
    }
  });
});
