/**
 * Text every driver can store. PostgreSQL refuses a NUL character in `text` and refuses both
 * NUL and unpaired UTF-16 surrogates inside `jsonb`; SQLite and Node's UTF-8 encoder quietly
 * turn an unpaired surrogate into U+FFFD. So text that jobwire itself produces (stored errors,
 * stacks) is made storable here, and text a caller chose as an identifier (unique keys,
 * correlation ids, names) is refused when it could not be stored exactly.
 */

/** What makes a string unstorable, for error messages; undefined when it is fine. */
export function unstorableTextReason(text: string): string | undefined {
  // Fast path: most strings have neither a NUL nor a surrogate.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what we look for.
  if (!/[\u0000\ud800-\udfff]/.test(text)) return undefined;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit === 0) return `a NUL character (\\u0000) at index ${i}`;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return `an unpaired UTF-16 surrogate at index ${i}`;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) return `an unpaired UTF-16 surrogate at index ${i}`;
  }
  return undefined;
}

/** Shown in place of a NUL character: visible, and storable everywhere. */
export const NUL_REPLACEMENT = '\u2400';
/** Shown in place of an unpaired surrogate (what a UTF-8 encoder would write anyway). */
export const SURROGATE_REPLACEMENT = '\ufffd';

/**
 * `text` made storable on every driver: NUL becomes U+2400 (␀), an unpaired surrogate U+FFFD,
 * and when longer than `maxChars` UTF-16 units it is cut on a character boundary (never inside
 * a surrogate pair) with a note of how much was cut.
 */
export function toStorableText(text: string, maxChars = Number.POSITIVE_INFINITY): string {
  let cut = text;
  let dropped = 0;
  if (text.length > maxChars) {
    let end = maxChars;
    const last = text.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end--; // keep the pair whole: drop its first half too
    cut = text.slice(0, end);
    dropped = text.length - end;
  }
  if (unstorableTextReason(cut) !== undefined) {
    let out = '';
    for (let i = 0; i < cut.length; i++) {
      const unit = cut.charCodeAt(i);
      if (unit === 0) out += NUL_REPLACEMENT;
      else if (unit >= 0xd800 && unit <= 0xdbff) {
        const next = cut.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          out += cut[i]! + cut[i + 1]!;
          i++;
        } else out += SURROGATE_REPLACEMENT;
      } else if (unit >= 0xdc00 && unit <= 0xdfff) out += SURROGATE_REPLACEMENT;
      else out += cut[i]!;
    }
    cut = out;
  }
  return dropped > 0 ? `${cut}… [${dropped} more characters cut]` : cut;
}
