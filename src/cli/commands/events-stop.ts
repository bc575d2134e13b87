/**
 * How `jobwire events tail` ends: SIGINT (Ctrl-C) or SIGTERM, or stdout closing under it
 * (`jobwire events tail | head`). The first of these calls `onStop`, and the listeners go at
 * once: should the graceful end hang (a database that stopped answering), a second signal gets
 * the default action and ends the process.
 */
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Call `onStop` once on the first signal or stdout error; returns a function that stops listening. */
export function listenForStop(out: NodeJS.WritableStream, onStop: () => void): () => void {
  let stopped = false;
  const stop = () => {
    off();
    if (stopped) return;
    stopped = true;
    onStop();
  };
  // EPIPE and friends: nobody reads any more, so there is nothing left to do.
  const onError = () => stop();
  function off() {
    for (const signal of SIGNALS) process.off(signal, stop);
    out.off('error', onError);
  }
  for (const signal of SIGNALS) process.on(signal, stop);
  out.on('error', onError);
  return off;
}
