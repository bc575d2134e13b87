/**
 * The package build (`npm run build`, and `prepack`, so `npm pack` / `npm publish` always ship
 * fresh code). See docs/packaging.md for why it is shaped this way.
 *
 * 1. dist/: ES modules, declarations and source maps by tsc, from tsconfig.build.json. The CLI
 *    (`bin`) runs from here. The maps (and declaration maps, so "go to definition" lands in the
 *    TypeScript source) point at src/, which the package ships for that.
 * 2. dist/cjs/: the library entry points as CommonJS, for `require('jobwire')`. esbuild converts
 *    each source file on its own (no bundling), so the CommonJS copy keeps one module per file and
 *    `jobwire`, `jobwire/sqlite`, … share their core modules exactly as the ES build does. The
 *    declarations are copied next to it: under dist/cjs/package.json (`"type": "commonjs"`)
 *    TypeScript reads them as CommonJS declarations, which is what a `require` must resolve to.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const cjs = join(dist, 'cjs');

/** Source folders that are not part of the library's CommonJS build. */
const NOT_IN_CJS = [
  'cli', // the command line runs from the ES build (bin), never through require
];

/** Every .ts file under `dir`, as paths relative to `base`. */
function tsFiles(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path, base);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [relative(base, path)] : [];
  });
}

rmSync(dist, { recursive: true, force: true });

const tsc = spawnSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const src = join(root, 'src');
const libraryFiles = tsFiles(src).filter(
  (file) =>
    !NOT_IN_CJS.some((folder) => file.startsWith(`${folder}/`)) && !file.startsWith('driver/conformance/'),
);
await build({
  entryPoints: libraryFiles.map((file) => join(src, file)),
  outbase: src,
  outdir: cjs,
  bundle: false,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // The maps point at ../../src/, shipped with the package (see package.json "files").
  sourcesContent: false,
  logLevel: 'warning',
  // `import.meta.url` has no CommonJS counterpart; this file's URL is what every use wants.
  define: { 'import.meta.url': 'jobwireModuleUrl' },
  // The directive first, or the module would not be strict.
  banner: {
    js: "'use strict';\nconst jobwireModuleUrl = require('node:url').pathToFileURL(__filename).href;",
  },
});
// The sources say `./x.js`, and under "type": "commonjs" a .js file is CommonJS: no renaming.
writeFileSync(join(cjs, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
for (const file of libraryFiles) {
  const declaration = file.replace(/\.ts$/, '.d.ts');
  mkdirSync(dirname(join(cjs, declaration)), { recursive: true });
  // Without the declaration map's comment: the map beside the ES declaration is not copied.
  const text = readFileSync(join(dist, declaration), 'utf8');
  writeFileSync(join(cjs, declaration), text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'));
}
console.log(`built dist/ (ES modules, CLI) and dist/cjs/ (${libraryFiles.length} CommonJS modules)`);
