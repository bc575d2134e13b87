/**
 * The benchmark scripts (bench/) run the built package, so nothing type-checks their imports: a
 * name moved from one module to another breaks them only when someone runs them (`npm run
 * bench:large` failed at import, naming `claimStatement` in the module it had left). Every name a
 * script takes from `dist/` must be exported by the source module that builds to it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = new URL('..', import.meta.url).pathname;

/** Every `.mjs` under bench/ (adapters included). */
function benchScripts(dir = join(ROOT, 'bench')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? entry.name === 'results'
        ? []
        : benchScripts(join(dir, entry.name))
      : entry.name.endsWith('.mjs')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** The names a script imports from dist/, by the dist module (path inside dist/, `.js`). */
function distImports(source: string): { module: string; names: string[] }[] {
  const found: { module: string; names: string[] }[] = [];
  const names = (list: string) =>
    list
      .split(',')
      .map((n) =>
        n
          .trim()
          .split(/\s+as\s+|\s*:\s*/)[0]!
          .trim(),
      )
      .filter(Boolean);
  // import { a, b } from '../dist/x.js'
  for (const m of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(?:\.\.\/)+dist\/([^']+\.js)'/g)) {
    found.push({ module: m[2]!, names: names(m[1]!) });
  }
  // const { a, b } = await import(<anything naming 'x.js'>) — the scripts that take a --dist.
  for (const m of source.matchAll(/const\s*\{([^}]*)\}\s*=\s*await import\(([^;]*?)'([^']+\.js)'/g)) {
    found.push({ module: m[3]!.replace(/^(?:\.\.\/)+dist\//, ''), names: names(m[1]!) });
  }
  // (await import(<… 'x.js' …>)).name
  for (const m of source.matchAll(/\(await import\(([^;]*?)'([^']+\.js)'[^;]*?\)\)\.(\w+)/g)) {
    found.push({ module: m[2]!.replace(/^(?:\.\.\/)+dist\//, ''), names: [m[3]!] });
  }
  return found;
}

/** Whether the source module exports `name` (declared, listed, or re-exported by name). */
function exportsName(source: string, name: string): boolean {
  const declared = new RegExp(
    `export\\s+(?:declare\\s+)?(?:async\\s+)?(?:function\\*?|const|let|class|interface|type|enum)\\s+${name}\\b`,
  );
  if (declared.test(source)) return true;
  for (const m of source.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    const listed = m[1]!.split(',').map((n) => {
      const parts = n.trim().split(/\s+as\s+/);
      return (parts[1] ?? parts[0])!.replace(/^type\s+/, '').trim();
    });
    if (listed.includes(name)) return true;
  }
  return false;
}

describe('bench scripts import only what the package exports', () => {
  const scripts = benchScripts();

  it('finds the scripts and their imports from dist/', () => {
    assert.ok(scripts.length >= 10, `bench scripts: ${scripts.length}`);
    const imports = scripts.flatMap((file) => distImports(readFileSync(file, 'utf8')));
    assert.ok(imports.length >= 20, `imports from dist/: ${imports.length}`);
  });

  for (const file of scripts) {
    const imports = distImports(readFileSync(file, 'utf8'));
    if (imports.length === 0) continue;
    it(file.slice(ROOT.length), () => {
      for (const { module, names } of imports) {
        const sourcePath = join(ROOT, 'src', module.replace(/\.js$/, '.ts'));
        let source: string;
        try {
          source = readFileSync(sourcePath, 'utf8');
        } catch {
          assert.fail(`${module}: no src/${module.replace(/\.js$/, '.ts')}`);
        }
        for (const name of names) {
          assert.ok(exportsName(source, name), `${module} does not export ${name}`);
        }
      }
    });
  }
});
