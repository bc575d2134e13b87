/**
 * The width of the worker's readable event lines (probe s41 §2): written to a file or a pipe
 * they are never cut — an error's advice is often at its end — and fitted to a terminal (or to
 * the 80 columns `dev` promises) an error message wraps whole under the event name instead of
 * being cut, while the job columns keep their places.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { painter, stripAnsi, visibleWidth, wrap } from '../src/cli/format.js';
import { formatEvent } from '../src/cli/format-event.js';
import { EventPrinter } from '../src/cli/output.js';
import { runCliInProcess as jobwire, lines, ROOT, useCliTestEnvironment } from './support/cli.js';

useCliTestEnvironment();

/** The probe's error: what to do comes last. */
const UPSTREAM =
  'upstream refused the request: HTTP 503 from https://payments.example.com/v2/charges ' +
  '(request id 7f3a9c2e-1b44-4d8a-9e0f-223344556677); retry after 30s';
const LOST =
  'Lost the connection to PostgreSQL during jobClaim: the server ended it (a restart, a failover, ' +
  'pg_terminate_backend) or the network dropped it; jobwire reconnects by itself, check the server if it persists';

/** A stream that keeps what is written, posing as a terminal of `columns` when given. */
class Captured extends Writable {
  text = '';
  constructor(
    readonly isTTY?: boolean,
    readonly columns?: number,
  ) {
    super();
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += String(chunk);
    done();
  }
}

const failed = {
  jobId: '7',
  task: 'longfail',
  queue: 'default',
  correlationId: 'c',
  attempt: 1,
  maxAttempts: 1,
  poolId: 'p',
  workerId: 'host:1:abc/0',
  failedAt: 0,
  durationMs: 2,
  willRetry: false,
  error: { name: 'Error', message: UPSTREAM, attempt: 1, at: 0 },
};
const poolError = {
  poolId: 'p',
  operation: 'claim',
  retryInMs: 100,
  error: { name: 'StorageError', message: LOST, attempt: 0, at: 0 },
  at: 0,
};
const serviceError = { ...poolError, service: 'leader-elector', operation: 'elect', retryInMs: 1000 };

/** The words of `text`, whitespace-normalised: what a reader gets back from wrapped lines. */
const words = (text: string) => stripAnsi(text).split(/\s+/).filter(Boolean).join(' ');

/** Print three failure events through a printer writing to `out`; returns its text. */
function printFailures(out: Captured, options: { alwaysFit?: boolean } = {}): string {
  const printer = new EventPrinter({ json: false, io: { out, err: new Captured() }, ...options });
  printer.print('job:failed', failed);
  printer.print('pool:error', poolError);
  printer.print('service:error', serviceError);
  return out.text;
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobwire-cli-width-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('worker output not on a terminal', () => {
  test('the whole error is on the event line, the job columns in place (the probe’s reproduction)', async () => {
    const tasks = join(dir, 'tasks-long.mjs');
    const index = pathToFileURL(join(ROOT, 'src/index.ts')).href;
    await writeFile(
      tasks,
      `import { defineTask } from ${JSON.stringify(index)};
export const longfail = defineTask({ name: 'longfail', maxAttempts: 1, handler: async () => {
  throw new Error(${JSON.stringify(UPSTREAM)}); } });
`,
    );
    const db = join(dir, 'long.db');
    assert.equal((await jobwire(['enqueue', 'longfail', '{}', '--max-attempts', '1', '--db', db])).code, 0);
    const run = await jobwire(['worker', '--tasks', tasks, '--db', db, '--once']);
    assert.equal(run.code, 0, run.stderr);
    const failedLine = lines(run.stdout).find((line) => / job:failed /.test(line));
    assert.ok(failedLine, run.stdout);
    assert.match(
      failedLine,
      /^\d\d:\d\d:\d\d\.\d{3} job:failed +#\d+ +longfail +default 1\/1 +w\d +\d+ms +upstream refused/,
    );
    assert.ok(failedLine.endsWith(UPSTREAM), failedLine);
    assert.ok(!run.stdout.includes('…'), run.stdout);
    const abandoned = lines(run.stdout).find((line) => / job:abandoned /.test(line));
    assert.ok(abandoned?.endsWith(UPSTREAM), abandoned);
  });

  test('pool:error and service:error keep the whole message and the retry on one line each', () => {
    const [claim, elect, ...rest] = lines(printFailures(new Captured(false))).slice(1);
    assert.deepEqual(rest, []);
    assert.ok(claim!.endsWith(`claim failed: StorageError: ${LOST} (retry in 100ms)`), claim);
    assert.ok(elect!.endsWith(`leader-elector elect failed: StorageError: ${LOST} (retry in 1.00s)`), elect);
  });
});

describe('fitted to a width', () => {
  for (const [label, out, width] of [
    ['a terminal of 80 columns', new Captured(true, 80), 80],
    ['a terminal of 100 columns', new Captured(true, 100), 100],
    ['dev, piped (alwaysFit)', new Captured(false), 80],
  ] as const) {
    test(`${label}: every line fits and each error wraps whole under the event name`, () => {
      const text = printFailures(out, { alwaysFit: label.startsWith('dev') });
      const all = lines(text);
      for (const line of all) assert.ok(visibleWidth(line) <= width, `${visibleWidth(line)}: ${line}`);
      const heads = all.filter((line) => /^\d\d:\d\d:\d\d\.\d{3} /.test(line));
      assert.equal(heads.length, 3, text);
      assert.match(heads[0]!, /job:failed +#7 +longfail +default 1\/1 +w0$/);
      const continuation = all.filter((line) => !heads.includes(line));
      assert.ok(continuation.length >= 4, text);
      for (const line of continuation) assert.match(line, /^ {13}\S/, 'under the event name');
      const flat = words(text);
      assert.ok(flat.includes(words(UPSTREAM)), text);
      assert.ok(flat.includes(`claim failed: StorageError: ${words(LOST)} (retry in 100ms)`), text);
      assert.ok(flat.includes(`elect failed: StorageError: ${words(LOST)} (retry in 1.00s)`), text);
      assert.ok(!text.includes('…'), text);
    });
  }

  test('a job:failed detail starts with the duration; its lines all start under the event name', () => {
    const text = formatEvent('job:failed', failed, painter(false), { now: 0, width: 80 });
    const [, first, ...more] = text.split('\n');
    assert.match(first!, /^ {13}2ms {5}upstream refused/);
    assert.ok(more.length >= 1);
    for (const line of more) assert.match(line, /^ {13}\S/);
  });

  test('an event that fits stays on one line; width Infinity never splits or cuts', () => {
    const text = formatEvent('job:failed', failed, painter(false), { now: 0, width: Infinity });
    assert.ok(!text.includes('\n'));
    assert.ok(text.endsWith(UPSTREAM));
    const short = { ...failed, error: { ...failed.error, message: 'boom' } };
    assert.ok(!formatEvent('job:failed', short, painter(false), { now: 0 }).includes('\n'));
  });

  test('wrapped colour: each line closes what it opened and the next reopens it', () => {
    const paint = painter(true);
    const text = `${paint('gray', '2ms')} ${paint(['bold', 'red'], UPSTREAM)}`;
    const wrapped = wrap(text, 40, 32);
    assert.ok(wrapped.length >= 4);
    wrapped.forEach((line, i) => {
      assert.ok(visibleWidth(line) <= (i === 0 ? 40 : 32), line);
      if (i < wrapped.length - 1) assert.ok(line.endsWith('\u001b[0m'), JSON.stringify(line));
      if (i > 0) assert.ok(line.startsWith('\u001b[1m\u001b[31m'), JSON.stringify(line));
    });
    // Nothing lost: the same characters, only the blanks at the breaks differ.
    const bare = (text: string) => stripAnsi(text).replace(/\s+/g, '');
    assert.equal(bare(wrapped.join('')), bare(`2ms ${UPSTREAM}`));
    // A word longer than a line (a URL) is split, not dropped.
    const url = `https://example.com/${'x'.repeat(60)}`;
    assert.equal(wrap(url, 30).join(''), url);
  });
});
