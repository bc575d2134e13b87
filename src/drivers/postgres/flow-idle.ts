/**
 * Idle marks of the PostgreSQL flow claim: which queues a process may skip because the flow path
 * found nothing there, and the announcements that drop them (see `FlowIdleMarks`).
 */
import type { PgContext } from './context.js';

/**
 * The notifier channel announcing that a queue may have flow work it had not: keyed jobs
 * inserted or retried, a rule set. Every process drops its idle marks when it hears it.
 */
export const FLOW_CHANGED_CHANNEL = 'jobwire_flow_changed';

/** How long a process trusts that a queue has no flow work without hearing otherwise. */
export const IDLE_TRUST_MS = 1000;

/**
 * Per driver: queues the flow path found idle (no active key, no queue-wide rule), so that
 * claims of unkeyed jobs there are the claim statement alone, not the claim function (a plain
 * statement, no PL/pgSQL call and no flow lock statement). A mark is dropped when this process inserts keyed jobs or
 * sets a rule, when any process announces it on FLOW_CHANGED_CHANNEL, and after IDLE_TRUST_MS
 * in any case (a notification lost in a reconnect delays keyed jobs by at most that).
 */
export interface FlowIdleMarks {
  idleUntil: Map<string, number>;
  /** Bumped by every announcement: a probe that overlapped one must not mark anything idle. */
  epoch: number;
}

const marksByNotifier = new WeakMap<object, FlowIdleMarks>();

export function idleMarks(ctx: PgContext): FlowIdleMarks {
  let marks = marksByNotifier.get(ctx.notifier);
  if (!marks) {
    const created: FlowIdleMarks = { idleUntil: new Map(), epoch: 0 };
    ctx.notifier.listen(FLOW_CHANGED_CHANNEL, () => {
      created.epoch++;
      created.idleUntil.clear();
    });
    marksByNotifier.set(ctx.notifier, created);
    marks = created;
  }
  return marks;
}

/**
 * Flow work may have appeared (keyed jobs inserted or retried, a rule changed): drop this
 * process's idle marks, and with `announce` tell every other process too (after the caller's
 * commit: the change must be visible when they look).
 */
export function flowChanged(ctx: PgContext, announce: boolean): void {
  const marks = marksByNotifier.get(ctx.notifier);
  if (marks) {
    marks.epoch++;
    marks.idleUntil.clear();
  }
  if (announce) ctx.notifier.notify(FLOW_CHANGED_CHANNEL, '');
}
