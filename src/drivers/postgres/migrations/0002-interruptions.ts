/**
 * Schema 2: interruptions counted apart from failures. An interruption is an attempt that ended
 * without the handler deciding (the process died or froze past its lease, or a shutdown cut the
 * attempt off); it does not use up `max_attempts`, and a job interrupted too often is abandoned
 * on a budget of its own. A constant default keeps this ALTER instant on large tables.
 */
export const migration0002Interruptions = (s: string): string => `
ALTER TABLE ${s}.jobs ADD COLUMN interruptions integer NOT NULL DEFAULT 0;
`;
