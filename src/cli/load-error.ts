/**
 * Where a tasks module failed to load, for the error a user reads: `import()` says what went
 * wrong ("Unexpected token ';'") but, for a syntax error, not where, and `--debug`'s stack shows
 * only node's loader. A syntax error in a JavaScript module is located by `node --check`, which
 * prints the file, line and a caret; any other error by the first stack frame outside node's
 * internals and node_modules (the module's own line that threw while it was loading).
 */
import { spawnSync } from 'node:child_process';
import { extname } from 'node:path';

/** Extensions `node --check` parses as node would import them. */
const CHECKABLE = new Set(['.js', '.mjs', '.cjs']);

/** The place `error` (thrown while importing `file`) points at, as text to show, or undefined. */
export function whereLoadFailed(file: string, error: unknown): string | undefined {
  if (error instanceof SyntaxError && CHECKABLE.has(extname(file))) {
    const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 });
    // "<file>:<line>\n<source line>\n<caret>\n\nSyntaxError: …": the first three lines.
    const lines = (check.stderr ?? '').split('\n');
    if (check.status !== 0 && lines[0]?.includes(':')) return lines.slice(0, 3).join('\n');
    return undefined;
  }
  const stack = error instanceof Error ? (error.stack ?? '') : '';
  const frame = stack
    .split('\n')
    .slice(1)
    .map((line) => line.trim().replace(/^at\s+/, ''))
    .find((line) => !line.includes('node:') && !line.includes('/node_modules/'));
  return frame ? `at ${frame}` : undefined;
}
