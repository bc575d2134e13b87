/**
 * Shutdown signals in long-running commands.
 *
 * A pool created with `handleSignals: true` stops gracefully on the first SIGINT/SIGTERM and
 * exits at once on the second. When it has stopped, jobwire re-raises the signal unless
 * someone else listens to it, which would kill the process before the command prints its
 * summary and closes the database. Listening here (doing nothing: the pool does the work)
 * keeps the command in charge of how it ends: it exits 0 after a graceful stop.
 */
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Listen to SIGINT/SIGTERM without acting; returns a function that stops listening. It stops
 * on the next macrotask: jobwire decides whether to re-raise in a promise chain that settles
 * after `pool:stopped`, and must still see this listener then.
 */
export function onShutdownSignals(onSignal: (signal: NodeJS.Signals) => void = () => {}): () => void {
  for (const signal of SIGNALS) process.on(signal, onSignal);
  return () => {
    setImmediate(() => {
      for (const signal of SIGNALS) process.off(signal, onSignal);
    });
  };
}
