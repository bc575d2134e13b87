/** The detail of the flow-control hold events, as the CLI's event lines show it. */
import { formatDuration, type JobwireEvents } from '../index.js';
import { duration } from './format.js';

const subject = (e: { queue: string; key: string | null }) =>
  e.key === null ? `queue ${e.queue}` : `${e.key} in ${e.queue}`;

/** `tenant:acme in email held: concurrency 2/2 running`, `queue api held: rate 5/1s` (as `jobwire flow ls` writes rates). */
export function flowHeldText(e: JobwireEvents['flow:held']): string {
  const limit =
    e.limit === 'concurrency'
      ? `concurrency ${e.running}/${e.max} running`
      : `rate ${e.max}/${formatDuration(e.intervalMs ?? 0)}`;
  return `${subject(e)} held: ${limit}`;
}

/** `tenant:acme in email let go after 1.2s (a job started)`. */
export function flowUnheldText(e: JobwireEvents['flow:unheld']): string {
  const why = e.reason === 'started' ? 'a job started' : 'nothing of it left to start';
  return `${subject(e)} let go after ${duration(e.heldMs)} (${why})`;
}
