/**
 * Schema 12: flow-control holds (`flow:held` / `flow:unheld`; docs/flow-control.md, "Events").
 *
 * `held_since` on a key row (and on a queue's queue-wide rule row): when a claim first passed
 * that key (queue) over because its concurrency or rate limit was full while a job of it was
 * due, or null when it is not held. It is set once per hold and cleared by the key's next start
 * (or when the key goes idle), each in the claim transaction that also stores the event, on the
 * row the claim holds locked: a key held for an hour costs two writes, not one per claim round.
 * Only flow rows carry it: unkeyed jobs in queues without a queue-wide rule never touch it.
 */
export const migration0012FlowHolds = (s: string): string => `
ALTER TABLE ${s}.flow_keys ADD COLUMN held_since timestamptz;
ALTER TABLE ${s}.flow_rules ADD COLUMN held_since timestamptz;
`;
