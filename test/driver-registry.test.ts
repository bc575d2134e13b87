/**
 * The driver registry: a location's URL scheme picks the driver (a bare path is SQLite), an
 * unknown scheme is a typed error naming the known ones, and a driver registered with one call
 * is opened like the built-ins. The CLI's `--db` / DATABASE_URL resolution goes through it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { CliError, UsageError } from '../src/cli/args.js';
import { describeDatabase, openDriver as openCliDriver, resolveDatabase } from '../src/cli/open-client.js';
import { InvalidOptionError } from '../src/core/errors.js';
import { jobParams } from '../src/driver/conformance/harness.js';
import type { Driver } from '../src/driver/driver.js';
import {
  DatabaseNotFoundError,
  DriverUnavailableError,
  describeLocation,
  openDriver,
  registerDriver,
  registeredSchemes,
  schemeOf,
  UnknownDriverSchemeError,
} from '../src/driver/registry.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { sqlitePathOf } from '../src/drivers/sqlite/register.js';
// The public entry point registers the built-in drivers.
import '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'jobwire-registry-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = (label: string) => join(dir, `${label}-${++files}.db`);

/** Insert one job through `driver` and return its id; closes nothing. */
async function insertOne(driver: Driver): Promise<string> {
  await driver.migrate();
  const result = await driver.jobInsertMany({ jobs: [jobParams({ task: 'registry' })] });
  assert.ok('inserted' in result);
  return result.inserted[0]!.job.id;
}

describe('driver registry', () => {
  it('knows the built-in schemes', () => {
    for (const scheme of ['file', 'postgres', 'postgresql', 'sqlite']) {
      assert.ok(registeredSchemes().includes(scheme), scheme);
    }
  });

  it('an unknown scheme is a typed error that lists the known schemes', async () => {
    await assert.rejects(openDriver('mysql://root@localhost/app'), (error: unknown) => {
      assert.ok(error instanceof UnknownDriverSchemeError);
      assert.equal(error.code, 'JOBWIRE_UNKNOWN_DRIVER_SCHEME');
      assert.equal(error.scheme, 'mysql');
      assert.deepEqual(error.known, registeredSchemes());
      assert.match(error.message, /"mysql:".*postgres:, postgresql:, sqlite:/);
      return true;
    });
  });

  it('a bare path, sqlite: and file: locations all open the SQLite driver on the same file', async () => {
    const path = freshPath('forms');
    const first = await openDriver(path);
    assert.equal(first.name, 'sqlite');
    const id = await insertOne(first);
    await first.close();
    for (const location of [`sqlite:${path}`, `sqlite://${path}`, pathToFileURL(path).href, `FILE:${path}`]) {
      const driver = await openDriver(location);
      try {
        assert.equal(driver.name, 'sqlite', location);
        assert.equal((await driver.jobGet({ id }))?.task, 'registry', location);
      } finally {
        await driver.close();
      }
    }
  });

  it('parses SQLite locations as paths', () => {
    assert.equal(sqlitePathOf('./jobs.db'), './jobs.db');
    assert.equal(sqlitePathOf('sqlite:./jobs.db'), './jobs.db');
    assert.equal(sqlitePathOf('sqlite://jobs.db'), 'jobs.db');
    assert.equal(sqlitePathOf('sqlite:///var/jobs.db'), '/var/jobs.db');
    assert.equal(sqlitePathOf('sqlite::memory:'), ':memory:');
    assert.equal(sqlitePathOf(':memory:'), ':memory:');
    assert.equal(sqlitePathOf('file:///tmp/a%20b.db'), '/tmp/a b.db');
    assert.equal(sqlitePathOf('file:jobs.db'), 'jobs.db');
    assert.throws(() => sqlitePathOf('sqlite:'), InvalidOptionError);
    // A drive letter is not a scheme.
    assert.equal(schemeOf('C:\\jobs\\jobs.db'), null);
    assert.equal(schemeOf('PostgreSQL://x'), 'postgresql');
  });

  it('mustExist refuses a missing SQLite file without creating it', async () => {
    const path = freshPath('missing');
    await assert.rejects(openDriver(path, { mustExist: true }), DatabaseNotFoundError);
    assert.equal(existsSync(path), false);
  });

  it('postgres: and postgresql: URLs open the PostgreSQL driver (nothing connects until a call)', async () => {
    for (const location of ['postgres://nobody@127.0.0.1:1/none', 'postgresql://nobody@127.0.0.1:1/none']) {
      const driver = await openDriver(location);
      assert.equal(driver.name, 'postgres');
      assert.equal(driver.capabilities.callerTransactions, true);
      await driver.close();
    }
    assert.equal(
      describeLocation('postgres://ada:secret@db.example:5432/app'),
      'postgres postgres://ada:***@db.example:5432/app',
    );
  });

  it('a third driver is one registration: its scheme opens it, and it can be removed again', async () => {
    const path = freshPath('third');
    const unregister = registerDriver({
      name: 'sqlite-by-another-name',
      schemes: ['jobfile'],
      open: (location) => sqliteDriver({ path: location.slice('jobfile:'.length) }),
    });
    try {
      assert.ok(registeredSchemes().includes('jobfile'));
      const driver = await openDriver(`jobfile:${path}`);
      try {
        await insertOne(driver);
        assert.deepEqual(
          (await driver.queueList()).map((q) => q.name),
          ['default'],
        );
      } finally {
        await driver.close();
      }
      assert.equal(describeLocation(`jobfile:${path}`), `sqlite-by-another-name jobfile:${path}`);
      // A scheme (or the bare-path role) belongs to one driver.
      assert.throws(
        () => registerDriver({ name: 'other', schemes: ['JobFile'], open: () => sqliteDriver({ path }) }),
        InvalidOptionError,
      );
      assert.throws(
        () =>
          registerDriver({
            name: 'other',
            schemes: ['paths'],
            opensPaths: true,
            open: () => sqliteDriver({ path }),
          }),
        InvalidOptionError,
      );
    } finally {
      unregister();
    }
    await assert.rejects(openDriver(`jobfile:${path}`), UnknownDriverSchemeError);
  });

  it('a driver whose library is not installed is DriverUnavailableError naming the package (ESM and CJS)', async () => {
    const require = createRequire(import.meta.url);
    const missing = 'jobwire-test-no-such-package';
    const unregister = [
      // The ES build loads a driver with import(), the CommonJS build with require().
      registerDriver({
        name: 'by-import',
        schemes: ['byimport'],
        requires: missing,
        open: () => import(missing),
      }),
      registerDriver({
        name: 'by-require',
        schemes: ['byrequire'],
        requires: missing,
        open: () => require(missing),
      }),
    ];
    try {
      for (const location of ['byimport:x', 'byrequire:x']) {
        await assert.rejects(openDriver(location), (error: unknown) => {
          assert.ok(error instanceof DriverUnavailableError, String(error));
          assert.match(error.message, new RegExp(`npm install ${missing}`));
          return true;
        });
      }
    } finally {
      for (const remove of unregister) remove();
    }
  });
});

/**
 * Open `location` through the public entry point in a child process whose module resolution
 * reports every database library it is asked for, and return the libraries reported.
 */
async function librariesLoadedToOpen(location: string): Promise<string[]> {
  const hook = join(dir, 'report-libraries.mjs');
  const resolver =
    'export async function resolve(specifier, context, next) {' +
    ' if (specifier === "pg" || specifier === "better-sqlite3") process.stderr.write("LOADED " + specifier + "\\n");' +
    ' return next(specifier, context); }';
  writeFileSync(
    hook,
    `import { register } from 'node:module';\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(resolver)}`)});\n`,
  );
  const root = fileURLToPath(new URL('..', import.meta.url));
  const script =
    "const { openDriver } = await import('./src/index.js');" +
    'const driver = await openDriver(process.argv[1]); console.log(driver.name); await driver.close();';
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--import', pathToFileURL(hook).href, '--input-type=module', '-e', script, location],
    { cwd: root },
  );
  assert.ok(stdout.trim().length > 0, `the child opened a driver: ${stderr}`);
  return [...new Set([...stderr.matchAll(/^LOADED (\S+)$/gm)].map((m) => m[1]!))].sort();
}

describe('drivers load lazily', () => {
  it('opening SQLite never loads pg, opening PostgreSQL never loads better-sqlite3', async () => {
    assert.deepEqual(await librariesLoadedToOpen(freshPath('lazy')), ['better-sqlite3']);
    assert.deepEqual(await librariesLoadedToOpen('postgres://nobody@127.0.0.1:1/none'), ['pg']);
  });
});

describe('CLI database resolution through the registry', () => {
  it('--db: paths and sqlite: open SQLite, postgres URLs PostgreSQL, an unknown scheme is a usage error', () => {
    assert.equal(resolveDatabase('./jobs.db').driver, 'sqlite');
    assert.equal(resolveDatabase('sqlite:./jobs.db').driver, 'sqlite');
    assert.equal(resolveDatabase('postgresql://h/db').driver, 'postgres');
    assert.equal(describeDatabase(resolveDatabase('./jobs.db')), 'sqlite ./jobs.db');
    assert.throws(
      () => resolveDatabase('mysql://h/db'),
      (error: unknown) =>
        error instanceof UsageError &&
        /unknown kind of database "mysql:"/.test(error.message) &&
        /postgres:/.test(error.hint ?? ''),
    );
    assert.throws(() => resolveDatabase(' '), UsageError);
    // From the environment it is not the command line's fault: a CliError naming the variable.
    assert.throws(
      () => resolveDatabase(undefined, { env: { JOBWIRE_DATABASE_URL: 'mysql://h/db' } }),
      (error: unknown) => error instanceof CliError && /JOBWIRE_DATABASE_URL/.test(error.message),
    );
  });

  it('without --db: DATABASE_URL when a registered driver opens it, else ./jobwire.db', () => {
    const env = (url: string) => ({ env: { DATABASE_URL: url } });
    assert.deepEqual(resolveDatabase(undefined, env('postgres://h/db')), {
      location: 'postgres://h/db',
      driver: 'postgres',
    });
    assert.equal(resolveDatabase(undefined, env('mysql://h/db')).location, './jobwire.db');
    assert.equal(resolveDatabase(undefined, env('relative/path.db')).location, './jobwire.db');
    assert.equal(
      resolveDatabase(undefined, { ...env('postgres://h/db'), useEnv: false }).location,
      './jobwire.db',
    );
  });

  it('a missing SQLite file for a read command is a CliError with a hint', async () => {
    const path = freshPath('cli-missing');
    await assert.rejects(
      openCliDriver(resolveDatabase(path), { mustExist: true }),
      (error: unknown) =>
        error instanceof CliError && error.message === `the database ${path} does not exist` && !!error.hint,
    );
  });
});
