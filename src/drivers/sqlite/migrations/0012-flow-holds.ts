/**
 * Schema 12: flow-control holds (`flow:held` / `flow:unheld`; docs/flow-control.md, "Events").
 *
 * `held_since` on a key row (and on a queue's queue-wide rule row): when a claim first passed
 * that key (queue) over because its concurrency or rate limit was full while a job of it was
 * due, or null when it is not held. It is set once per hold and cleared by the key's next start
 * (or when the key goes idle), each in the claim that also stores the event: a key held for an
 * hour costs two writes, not one per claim round. Only flow rows carry it: unkeyed jobs in
 * queues without a queue-wide rule never read or write it.
 */
export const MIGRATION_0012_FLOW_HOLDS = `
ALTER TABLE jobwire_flow_keys ADD COLUMN held_since INTEGER;
ALTER TABLE jobwire_flow_rules ADD COLUMN held_since INTEGER;
`;
