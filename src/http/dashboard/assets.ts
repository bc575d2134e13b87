/**
 * The dashboard's static files, read once when the routes are built: htmx, its SSE extension and
 * uPlot from the installed packages (resolved like any import, so no build step and no CDN), and
 * the dashboard's own script and stylesheet from `static/`. Served under `/assets/` with an ETag.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One file ready to serve. */
export interface Asset {
  body: string;
  type: string;
  etag: string;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** Served name → package file. */
const VENDOR: Record<string, [string, string]> = {
  'htmx.min.js': ['htmx.org/dist/htmx.min.js', JS],
  'htmx-sse.js': ['htmx-ext-sse/dist/sse.min.js', JS],
  'uPlot.iife.min.js': ['uplot/dist/uPlot.iife.min.js', JS],
  'uPlot.min.css': ['uplot/dist/uPlot.min.css', CSS],
};

const OWN: Record<string, string> = {
  'dashboard.js': JS,
  'dashboard.css': CSS,
  'favicon.svg': 'image/svg+xml',
};

/**
 * The folder of the dashboard's own files: next to this module when it runs from src/, the
 * shipped src/ copy when it runs from dist/ or dist/cjs/ (the build compiles only TypeScript),
 * and — when an app bundled jobwire into its own file — the installed package's copy.
 */
function staticFolder(require: NodeJS.Require): string {
  const candidates = [
    './static/',
    '../../../src/http/dashboard/static/',
    '../../../../src/http/dashboard/static/',
  ].map((candidate) => fileURLToPath(new URL(candidate, import.meta.url)));
  try {
    candidates.push(join(dirname(require.resolve('jobwire/package.json')), 'src/http/dashboard/static/'));
  } catch {
    // Not installed as a package (nothing more to try).
  }
  for (const path of candidates) {
    if (existsSync(join(path, 'dashboard.js'))) return path;
  }
  throw new Error(
    `jobwire dashboard: its static files were not found next to ${import.meta.url} nor in an installed jobwire package`,
  );
}

const asset = (body: string, type: string): Asset => ({
  body,
  type,
  etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
});

/** Read every asset (throws, naming the file, when a package is missing). */
export function loadAssets(): Map<string, Asset> {
  const require = createRequire(import.meta.url);
  const assets = new Map<string, Asset>();
  for (const [name, [specifier, type]] of Object.entries(VENDOR)) {
    assets.set(name, asset(readFileSync(require.resolve(specifier), 'utf8'), type));
  }
  const folder = staticFolder(require);
  for (const [name, type] of Object.entries(OWN))
    assets.set(name, asset(readFileSync(join(folder, name), 'utf8'), type));
  return assets;
}
