/**
 * Migrated PostgreSQL schemas for tests without running the migrations per test.
 *
 * The driver's own `migrate()` runs once into a template schema named after a hash of the
 * migration code (`jw_template_<hash>`), shared by every test process on the server: concurrent
 * processes queue on migrate's advisory lock, and a branch with other migrations gets a template
 * of its own. Each test then gets a copy: `CREATE TABLE … (LIKE template INCLUDING ALL)` per
 * table, the indexes renamed to the template's names, the template's rows (the migration
 * history) copied. A copy is one round trip of DDL instead of the driver's migration
 * transaction.
 *
 * The first copy a process makes is compared with the template — columns, defaults, identity,
 * constraints, indexes, relations, functions, triggers and types, with the schema name blanked
 * out. If a migration ever creates something a LIKE copy misses (a function, a foreign key, a
 * default naming the template schema), they differ and every schema of that process is
 * migrated the slow way instead: never a wrong schema, at worst the old speed.
 *
 * Templates stay on the server (one per version of the migration code) so the next run reuses
 * them; they are small and empty but for the migration history. Drop `jw_template_*` schemas
 * by hand if they bother you.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { postgresDriver } from '../../src/drivers/postgres/index.js';
import { MIGRATIONS, migratePostgres } from '../../src/drivers/postgres/migrations/index.js';

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** How to turn a fresh schema name into a migrated schema; decided once per process. */
type Maker = (admin: pg.Pool, schema: string) => Promise<void>;

let makerPromise: Promise<Maker> | undefined;

/**
 * Create `schema` migrated to the latest version: a copy of the template when copies are proven
 * equal to it, else by running the driver's migrations.
 */
export async function createMigratedSchemaOn(url: string, admin: pg.Pool, schema: string): Promise<void> {
  if (!makerPromise) {
    // The first schema is made while the copy is being checked.
    makerPromise = prepareMaker(url, admin, schema);
    await makerPromise;
    return;
  }
  const maker = await makerPromise;
  await maker(admin, schema);
}

/** Run the driver's migrations into `schema` (the slow way, always right). */
async function migrateWithDriver(url: string, schema: string): Promise<void> {
  const driver = postgresDriver({ connectionString: url, schema, poolSize: 1 });
  try {
    await driver.migrate();
  } finally {
    await driver.close();
  }
}

/** The template's name: changes whenever the migrations or the migration runner change. */
function templateName(): string {
  const hash = createHash('sha256');
  for (const migration of MIGRATIONS) hash.update(`${migration.version}\n${migration.sql('"s"')}\n`);
  hash.update(migratePostgres.toString());
  return `jw_template_${hash.digest('hex').slice(0, 16)}`;
}

/**
 * Migrate the template (once per server and migration code), make `firstSchema` as a copy,
 * and compare it with the template. Returns the maker every later schema uses.
 */
async function prepareMaker(url: string, admin: pg.Pool, firstSchema: string): Promise<Maker> {
  const template = templateName();
  const slow: Maker = (_admin, schema) => migrateWithDriver(url, schema);
  await migrateWithDriver(url, template);
  const copySql = await buildCopySql(admin, template, firstSchema);
  const [expected, actual] = await Promise.all([
    fingerprint(admin, template),
    fingerprint(admin, firstSchema),
  ]);
  const verbose = process.env.JOBWIRE_TEST_PG_VERBOSE === '1';
  if (expected !== actual) {
    if (verbose)
      process.stderr.write(`schemas are migrated per test: a copy of ${template} differs from it\n`);
    await admin.query(`DROP SCHEMA IF EXISTS ${quote(firstSchema)} CASCADE`);
    await migrateWithDriver(url, firstSchema);
    return slow;
  }
  if (verbose) process.stderr.write(`schemas are copies of ${template}\n`);
  return async (pool, schema) => {
    await pool.query(copySql(schema));
  };
}

/**
 * Copy the template into `firstSchema` and work out the statements that copy it again: LIKE
 * names copied indexes by PostgreSQL's defaults, so each is renamed to the template index with
 * the same definition. Returns the copy as one multi-statement string per schema name.
 */
async function buildCopySql(
  admin: pg.Pool,
  template: string,
  firstSchema: string,
): Promise<(schema: string) => string> {
  const { rows: tables } = await admin.query<{ name: string; options: string[] | null }>(
    `SELECT c.relname AS name, c.reloptions AS options FROM pg_class c
     WHERE c.relnamespace = to_regnamespace($1) AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
    [quote(template)],
  );
  const withRows: string[] = [];
  for (const table of tables) {
    const { rows } = await admin.query<{ any: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM ${quote(template)}.${quote(table.name)}) AS any`,
    );
    if (rows[0]!.any) withRows.push(table.name);
  }
  const create = (schema: string) =>
    [
      `CREATE SCHEMA ${quote(schema)}`,
      ...tables.map(
        ({ name }) =>
          `CREATE TABLE ${quote(schema)}.${quote(name)} (LIKE ${quote(template)}.${quote(name)} INCLUDING ALL)`,
      ),
      // LIKE copies columns (storage and compression included) but not a table's options.
      ...tables
        .filter(({ options }) => options?.length)
        .map(
          ({ name, options }) => `ALTER TABLE ${quote(schema)}.${quote(name)} SET (${options!.join(', ')})`,
        ),
      ...withRows.map(
        (name) =>
          `INSERT INTO ${quote(schema)}.${quote(name)} OVERRIDING SYSTEM VALUE SELECT * FROM ${quote(template)}.${quote(name)}`,
      ),
    ].join(';\n');
  await admin.query(`BEGIN;\n${create(firstSchema)};\nCOMMIT`);

  const indexes = async (schema: string) =>
    (
      await admin.query<{ name: string; def: string }>(
        'SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = $1',
        [schema],
      )
    ).rows.map(({ name, def }) => ({
      name,
      // The definition without its own name and schema: what two equal indexes share.
      shape: def
        .replace(` INDEX ${quote(name)} `, ' INDEX ')
        .replace(` INDEX ${name} `, ' INDEX ')
        .replaceAll(`${schema}.`, '<schema>.'),
    }));
  const [wanted, copied] = await Promise.all([indexes(template), indexes(firstSchema)]);
  const renames: { from: string; to: string }[] = [];
  for (const index of copied) {
    const match = wanted.find((w) => w.shape === index.shape);
    if (match && match.name !== index.name) renames.push({ from: index.name, to: match.name });
  }
  const rename = (schema: string) =>
    renames.map(({ from, to }) => `ALTER INDEX ${quote(schema)}.${quote(from)} RENAME TO ${quote(to)}`);
  if (renames.length > 0) await admin.query(`BEGIN;\n${rename(firstSchema).join(';\n')};\nCOMMIT`);
  return (schema) =>
    `BEGIN;\n${create(schema)};\n${rename(schema).join(';\n')}${renames.length ? ';\n' : ''}COMMIT`;
}

/** Everything a migration can create in `schema`, as sorted text with the schema name blanked. */
async function fingerprint(admin: pg.Pool, schema: string): Promise<string> {
  const { rows } = await admin.query<{ item: string }>(
    `WITH ns AS (SELECT to_regnamespace($1) AS oid)
     SELECT item FROM (
       SELECT 'relation ' || c.relname || ' ' || c.relkind::text || ' ' || coalesce(array_to_string(c.reloptions, ','), '') AS item
         FROM pg_class c, ns WHERE c.relnamespace = ns.oid
       UNION ALL
       SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
              || ' notnull=' || a.attnotnull || ' identity=' || a.attidentity::text || ' generated=' || a.attgenerated::text
              || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') || ' storage=' || a.attstorage::text
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum, ns
        WHERE c.relnamespace = ns.oid AND a.attnum > 0 AND NOT a.attisdropped
       UNION ALL
       SELECT 'constraint ' || c.relname || '.' || co.conname || ' ' || pg_get_constraintdef(co.oid)
         FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid, ns WHERE co.connamespace = ns.oid
       UNION ALL
       SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = $2
       UNION ALL
       SELECT 'function ' || p.proname || ' ' || pg_get_function_identity_arguments(p.oid)
         FROM pg_proc p, ns WHERE p.pronamespace = ns.oid
       UNION ALL
       SELECT 'trigger ' || c.relname || '.' || t.tgname || ' ' || pg_get_triggerdef(t.oid)
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid, ns
        WHERE c.relnamespace = ns.oid AND NOT t.tgisinternal
       UNION ALL
       SELECT 'type ' || t.typname || ' ' || t.typtype::text FROM pg_type t, ns WHERE t.typnamespace = ns.oid
       UNION ALL
       SELECT 'sequence ' || s.seqrelid::regclass::text || ' ' || s.seqstart || ' ' || s.seqincrement
         FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid, ns WHERE c.relnamespace = ns.oid
     ) items ORDER BY item`,
    [quote(schema), schema],
  );
  const blank = (text: string) => text.replaceAll(quote(schema), '<schema>').replaceAll(schema, '<schema>');
  const items = rows.map((row) => blank(row.item));
  // The rows (the migration history) must be the same too.
  const { rows: tables } = await admin.query<{ name: string }>(
    `SELECT relname AS name FROM pg_class WHERE relnamespace = to_regnamespace($1) AND relkind IN ('r', 'p') ORDER BY relname`,
    [quote(schema)],
  );
  for (const { name } of tables) {
    const { rows: content } = await admin.query<{ rows: string }>(
      `SELECT coalesce(json_agg(t ORDER BY t::text)::text, '[]') AS rows FROM ${quote(schema)}.${quote(name)} t`,
    );
    items.push(`rows ${name} ${content[0]!.rows}`);
  }
  return items.join('\n');
}
