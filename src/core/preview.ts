/**
 * A caller's value as shown inside an error message: quoted like JSON and cut short, so a
 * megabyte of hostile input cannot turn into a megabyte of error message (or of log line).
 */
export function preview(value: unknown, max = 80): string {
  if (typeof value === 'string') {
    if (value.length <= max) return JSON.stringify(value);
    return `${JSON.stringify(value.slice(0, max))}… (${value.length} characters)`;
  }
  // JSON has no NaN or Infinity: it would print `null`, and "got null" for a NaN misleads.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  let text: string;
  try {
    text = typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}
