/**
 * The package as a new user gets it: `npm pack` of a fresh copy of the sources (its `prepack`
 * builds), the tarball installed into temporary consumer projects, compiled with
 * `skipLibCheck: false` and run end to end on SQLite:
 *
 * - ESM TypeScript with `node16` resolution, compiled by tsc and run by Node;
 * - ESM TypeScript with `bundler` resolution, type-checked, then bundled by esbuild (which
 *   honours `sideEffects`: the driver registrations must survive) and run;
 * - CommonJS: TypeScript compiled to `require()` calls (node16), checked with `node10` too, run;
 * - a PostgreSQL-only app installed with `--omit=optional`: no better-sqlite3 (no native build).
 *
 * Fast and offline: the three projects share one install (each has its own package.json and
 * tsconfig; Node and tsc find the packages in the parent's node_modules, as in a monorepo), and
 * everything besides the tarball is installed as a link to this repository's node_modules —
 * better-sqlite3 above all, already compiled — with `--offline --ignore-scripts`. Of the optional
 * peers, prom-client and @opentelemetry/api are installed (as the application's own copies, for
 * jobwire/metrics and jobwire/tracing) and pg is not; nor are @types/better-sqlite3 and
 * @types/pg, which the published types must not need.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { ROOT } from './support/cli.js';

const run = promisify(execFile);
const FIXTURES = join(ROOT, 'test/fixtures/package-consumers');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
/**
 * The package's own dependencies, read from package.json: every install links them all, since an
 * offline install can only resolve a version range it has metadata for (a fresh machine's npm
 * cache has the tarballs `npm ci` fetched, not that metadata).
 */
const DEPENDENCIES = Object.keys(
  (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> })
    .dependencies,
);
/** Installed as links to this repository's node_modules (see the module comment). */
const LINKED = [...DEPENDENCIES, 'better-sqlite3', '@types/node', 'prom-client', '@opentelemetry/api'];

let work: string;
let tarball: string;
let consumers: string;
let installed: string;
let postgresOnly: string;

/** `node <args>` in `cwd`; resolves with stdout, rejects with stdout and stderr in the message. */
async function node(cwd: string, args: string[]): Promise<string> {
  try {
    return (await run(process.execPath, args, { cwd, maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`node ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

const npm = (cwd: string, args: string[]) =>
  node(cwd, [join(dirname(process.execPath), '../lib/node_modules/npm/bin/npm-cli.js'), ...args]);

/**
 * A new project in `dir`: the tarball installed offline, with `linked` (names in this
 * repository's node_modules) installed as links.
 */
async function install(dir: string, linked: readonly string[], flags: readonly string[] = []): Promise<void> {
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'package.json'),
    `{ "name": "${basename(dir)}", "private": true, "type": "module" }\n`,
  );
  const links = linked.map((name) => realpathSync(join(ROOT, 'node_modules', name)));
  const quiet = ['--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=warn'];
  await npm(dir, ['install', ...quiet, ...flags, tarball, ...links]);
}

/** A consumer project: `files` written into `consumers/<name>`, plus the fixture sources. */
function project(name: string, fixture: 'esm' | 'cjs', files: Record<string, unknown>): string {
  const dir = join(consumers, name);
  mkdirSync(dir, { recursive: true });
  cpSync(join(FIXTURES, fixture, 'main.ts'), join(dir, 'main.ts'));
  for (const [file, content] of Object.entries(files)) {
    writeFileSync(join(dir, file), `${JSON.stringify(content, null, 2)}\n`);
  }
  return dir;
}

/** The compiler options every consumer shares: strict, and library declarations checked. */
const STRICT = { strict: true, skipLibCheck: false, target: 'ES2022', types: ['node'] };

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'jobwire-package-'));
  // A fresh copy of the sources: no dist/, so only `prepack` can put code in the tarball.
  const source = join(work, 'source');
  for (const entry of [
    'package.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'LICENSE',
    'README.md',
    'docs',
    'src',
    'scripts',
  ]) {
    cpSync(join(ROOT, entry), join(source, entry), { recursive: true });
  }
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(source, 'node_modules'), 'dir');
  const packed = await npm(source, ['pack', '--json', '--pack-destination', work, '--loglevel=warn']);
  // npm prints prepack's output before the JSON.
  const report = JSON.parse(packed.slice(packed.indexOf('\n[') + 1)) as [{ filename: string }];
  tarball = join(work, report[0].filename);

  consumers = join(work, 'consumers');
  postgresOnly = join(work, 'postgres-only');
  await Promise.all([
    install(consumers, LINKED),
    // A PostgreSQL-only app skips the optional better-sqlite3 (and its native build).
    install(postgresOnly, ['pg', ...DEPENDENCIES], ['--omit=optional']),
  ]);
  installed = join(consumers, 'node_modules/jobwire');
});

after(() => rmSync(work, { recursive: true, force: true }));

describe('the packed package', () => {
  it('ships the built code, both builds, the CLI, sources for its maps and a LICENSE; no conformance suite', async () => {
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    for (const [subpath, conditions] of Object.entries(manifest.exports as Record<string, unknown>)) {
      if (typeof conditions === 'string') continue;
      const { import: esm, require: cjs } = conditions as Record<string, { types: string; default: string }>;
      for (const file of [esm!.types, esm!.default, cjs!.types, cjs!.default]) {
        assert.ok(existsSync(join(installed, file)), `${subpath}: ${file} is in the tarball`);
      }
    }
    assert.match(readFileSync(join(installed, 'LICENSE'), 'utf8'), /MIT License[\s\S]*jobwire contributors/);
    // The CLI is installed as a command and runs from the tarball.
    const version = await run(join(consumers, 'node_modules/.bin/jobwire'), ['--version']);
    assert.equal(version.stdout.trim(), manifest.version);
    // Help texts and errors name docs/<topic>.md: each is in the package, next to the CLI.
    const cliText = readdirSync(join(installed, 'dist/cli'), { recursive: true })
      .filter((file) => String(file).endsWith('.js'))
      .map((file) => readFileSync(join(installed, 'dist/cli', String(file)), 'utf8'))
      .join('\n');
    const named = [...new Set([...cliText.matchAll(/docs\/([a-z-]+\.md)/g)].map((m) => m[1]!))];
    assert.ok(named.length > 5, `the CLI names its docs (${named.join(', ')})`);
    for (const doc of named)
      assert.ok(existsSync(join(installed, 'docs', doc)), `docs/${doc} is in the package`);
    assert.ok(!existsSync(join(installed, 'src/driver/conformance')));
    assert.ok(!existsSync(join(installed, 'dist/driver/conformance')));
    assert.equal(manifest.optionalDependencies['better-sqlite3'] !== undefined, true);
    assert.deepEqual(Object.keys(manifest.peerDependenciesMeta).sort(), [
      '@opentelemetry/api',
      'pg',
      'prom-client',
    ]);
    // Every source map names files that are in the package.
    const maps: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.map')) maps.push(path);
      }
    };
    walk(join(installed, 'dist'));
    assert.ok(maps.length > 100, `${maps.length} maps`);
    for (const map of maps) {
      for (const source of JSON.parse(readFileSync(map, 'utf8')).sources as string[]) {
        assert.ok(existsSync(join(dirname(map), source)), `${map} names ${source}`);
      }
    }
  });

  it('compiles with skipLibCheck: false: ESM and CommonJS (node16), ESM (bundler), CommonJS (node10)', async () => {
    const esm = project('esm-node16', 'esm', { 'package.json': { type: 'module' } });
    const bundler = project('esm-bundler', 'esm', {
      'package.json': { type: 'module' },
      'tsconfig.json': {
        compilerOptions: { ...STRICT, module: 'esnext', moduleResolution: 'bundler', noEmit: true },
        files: ['main.ts'],
      },
    });
    const cjs = project('cjs', 'cjs', {
      'package.json': { type: 'commonjs' },
      'tsconfig.json': {
        compilerOptions: { ...STRICT, module: 'commonjs', moduleResolution: 'node10', noEmit: true },
        files: ['main.ts'],
      },
    });
    // One program for both node16 projects (each file's format comes from its package.json):
    // type-checking @types/node is most of a compile, and it is the same for both.
    writeFileSync(
      join(consumers, 'tsconfig.node16.json'),
      JSON.stringify({
        compilerOptions: { ...STRICT, module: 'node16', moduleResolution: 'node16' },
        files: ['esm-node16/main.ts', 'cjs/main.ts'],
      }),
    );
    await Promise.all([
      node(consumers, [TSC, '-p', 'tsconfig.node16.json']),
      node(bundler, [TSC, '-p', '.']),
      node(cjs, [TSC, '-p', '.']),
    ]);
    assert.match(readFileSync(join(esm, 'main.js'), 'utf8'), /from 'jobwire'/);
    assert.match(readFileSync(join(cjs, 'main.js'), 'utf8'), /require\("jobwire"\)/);
    // A bundler honours `sideEffects`: the driver registrations must survive tree-shaking. As
    // docs/packaging.md says, the database libraries stay external (better-sqlite3 is native),
    // and code splitting keeps each driver a lazy chunk, so pg (not installed) is never loaded.
    await build({
      entryPoints: [join(bundler, 'main.ts')],
      absWorkingDir: bundler,
      bundle: true,
      platform: 'node',
      format: 'esm',
      splitting: true,
      // prom-client is CommonJS that requires Node's built-ins, which esbuild's ESM output cannot.
      external: ['better-sqlite3', 'pg', 'prom-client'],
      outdir: bundler,
      logLevel: 'warning',
    });
    // As docs/packaging.md says: the SQLite checkpoint thread's entry goes next to the bundle
    // (the ES one: the bundle's package.json says "type": "module").
    cpSync(
      join(installed, 'dist/drivers/sqlite/checkpoint-worker.js'),
      join(bundler, 'checkpoint-worker.js'),
    );
  });

  for (const name of ['esm-node16', 'esm-bundler']) {
    it(`the ESM consumer (${name}) runs a typed job on SQLite; the CommonJS copy's errors steer jobs`, async () => {
      const result = JSON.parse(await node(join(consumers, name), ['main.js']));
      assert.equal(result.bytes, 42);
      // The CommonJS copy's UnrecoverableError abandoned its job at the first attempt.
      assert.equal(result.failed, 'abandoned');
      assert.equal(result.attempts, 1);
      // pg is an optional peer, not installed: opening PostgreSQL says what to install.
      assert.match(result.missingDriver, /npm install pg/);
      // jobwire/metrics with the application's prom-client counted the job.
      assert.equal(result.completed, true);
      // jobwire/http answered a request through its fetch handler.
      assert.equal(result.httpJobs, 1);
      // The SQLite driver found its checkpoint thread's entry (in the package, or next to the bundle).
      assert.equal(result.checkpointThread, true);
    });
  }

  it('a PostgreSQL-only install (--omit=optional) gets no better-sqlite3 and says what opening SQLite needs', async () => {
    const app = postgresOnly;
    assert.ok(!existsSync(join(app, 'node_modules/better-sqlite3')));
    writeFileSync(
      join(app, 'main.js'),
      "import { openDriver } from 'jobwire';\n" +
        "import { postgresDriver } from 'jobwire/postgres';\n" +
        "const error = await openDriver('./jobs.db').catch((e) => e);\n" +
        'console.log(JSON.stringify({ postgres: typeof postgresDriver, error: error.name, message: error.message }));\n',
    );
    const result = JSON.parse(await node(app, ['main.js']));
    assert.equal(result.postgres, 'function');
    assert.equal(result.error, 'DriverUnavailableError');
    assert.match(result.message, /npm install better-sqlite3/);
  });

  it('the CommonJS consumer runs a typed job on SQLite; the ES copy’s SnoozeError steers it', async () => {
    const result = JSON.parse(await node(join(consumers, 'cjs'), ['main.js']));
    // Snoozed once, then completed: no failure stored, no attempt used by the snooze.
    // And the SQLite driver started its checkpoint thread from the CommonJS build.
    assert.deepEqual(result, {
      greeting: 'hello cjs',
      runs: 2,
      errors: 0,
      attempts: 1,
      checkpointThread: true,
    });
  });
});
