/**
 * The schema version a database's recorded migrations amount to, for every driver's runner: the
 * highest recorded, unless a version the code knows below it is missing — branches merged out of
 * order gave released builds numbered gaps (1–7 and 9, 1–9 and 11), and such a database still
 * needs `migrate()` — then the one before the first missing.
 */
export function recordedSchemaVersion(
  recorded: ReadonlySet<number>,
  migrations: readonly { version: number }[],
): number {
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  const highest = Math.max(0, ...recorded);
  if (highest > latest) return highest;
  const missing = migrations.find((m) => m.version <= highest && !recorded.has(m.version));
  return missing ? missing.version - 1 : highest;
}
