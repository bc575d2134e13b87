/**
 * Type tests of typed job handles, `enqueueMany` items, `waitForJob` and task events. Checked by
 * `tsc --noEmit` in `npm test` (this folder is in tsconfig.json's `include`) and never run: a
 * `@ts-expect-error` that finds no error fails the type-check, and so does a wrong inference
 * below (`Equal` assertions).
 */
import {
  declareTask,
  defineTask,
  type EnqueuedJob,
  type FlowGraph,
  isTaskEvent,
  type Jobwire,
  type JobwireEvents,
  parentWithChildren,
} from '../../src/index.js';

/** Compiles only when `A` and `B` are the same type (not merely assignable either way). */
type Equal<A, B> = (<V>() => V extends A ? 1 : 2) extends <V>() => V extends B ? 1 : 2 ? true : false;
const same = <A, B>(_proof: Equal<A, B>): void => {};

const resize = defineTask({
  name: 'resize',
  handler: async (payload: { url: string; width: number }) => ({ bytes: payload.width * 2 }),
});
const sendEmail = declareTask<{ to: string }, { messageId: string }>({ name: 'send-email' });
const fireAndForget = defineTask({ name: 'fire', handler: async (_: { n: number }) => {} });

export async function handles(client: Jobwire): Promise<void> {
  const job = await client.enqueue(resize, { url: 'u', width: 3 });
  same<typeof job.payload, { url: string; width: number }>(true);
  same<Awaited<ReturnType<typeof job.wait>>, { bytes: number }>(true);
  (await job.wait({ timeoutMs: 1000 })).bytes.toFixed();
  // @ts-expect-error the result has no such field
  (await job.wait()).size;
  const contractJob = await client.enqueue(sendEmail, { to: 'a@b.c' });
  same<Awaited<ReturnType<typeof contractJob.wait>>, { messageId: string }>(true);
  same<Awaited<ReturnType<(typeof fireAndForget)['handler']>>, void>(true);
  // By name, nothing is known.
  const byName = await client.enqueue('resize', { anything: true });
  same<typeof byName, EnqueuedJob<unknown, unknown>>(true);
  // A typed handle is still an EnqueuedJob.
  const plain: EnqueuedJob = job;
  plain.id.toString();
}

export async function waits(client: Jobwire): Promise<void> {
  const job = await client.enqueue(resize, { url: 'u', width: 3 });
  same<Awaited<ReturnType<typeof client.waitForJob<{ bytes: number }>>>, { bytes: number }>(true);
  const fromHandle = await client.waitForJob(job);
  same<typeof fromHandle, { bytes: number }>(true);
  const fromId = await client.waitForJob(job.id);
  same<typeof fromId, unknown>(true);
  const declared = await client.waitForJob<{ bytes: number }>(job.id);
  declared.bytes.toFixed();
  // @ts-expect-error the handle's result type is not what is declared here
  await client.waitForJob<{ other: string }>(job);
  // @ts-expect-error a job id is a string
  await client.waitForJob(42);
}

export async function many(client: Jobwire, users: string[]): Promise<void> {
  const [a, b, c] = await client.enqueueMany([
    { task: resize, payload: { url: 'u', width: 1 } },
    { task: sendEmail, payload: { to: 'x' }, options: { priority: 2 } },
    { task: 'by-name', payload: 5 },
  ]);
  same<Awaited<ReturnType<typeof a.wait>>, { bytes: number }>(true);
  same<typeof b.payload, { to: string }>(true);
  same<typeof c.payload, unknown>(true);
  const mapped = await client.enqueueMany(users.map((to) => ({ task: sendEmail, payload: { to } })));
  mapped[0]?.payload.to.toUpperCase();
  // @ts-expect-error a wrong payload in a batch does not compile
  await client.enqueueMany([{ task: resize, payload: { url: 'u', width: '1' } }]);
  await client.enqueueMany([
    { task: resize, payload: { url: 'u', width: 1 } },
    // @ts-expect-error nor does one wrong item among right ones
    { task: sendEmail, payload: { to: 1 } },
  ]);
  // @ts-expect-error nor a wrong payload built by map
  await client.enqueueMany(users.map((to) => ({ task: sendEmail, payload: { from: to } })));
  // @ts-expect-error an item needs its payload
  await client.enqueueMany([{ task: resize }]);
  // Loosely typed items (built elsewhere) are still accepted, as before.
  const loose: { task: string; payload: unknown }[] = [];
  const looseJobs: EnqueuedJob[] = await client.enqueueMany(loose);
  looseJobs.push(...(await client.enqueueMany(loose)));
}

export async function flows(client: Jobwire, graph: FlowGraph): Promise<void> {
  const flow = await client.enqueueFlow({
    image: { task: resize, payload: { url: 'u', width: 1 } },
    mail: { task: sendEmail, payload: { to: 'x' }, dependsOn: ['image'] },
    byName: { task: 'by-name', payload: 5, dependsOn: [{ ref: 'mail', onFailure: 'run' }] },
    after: { task: fireAndForget, payload: { n: 1 }, dependsOn: [{ id: '42' }] },
  });
  same<typeof flow.image.payload, { url: string; width: number }>(true);
  same<Awaited<ReturnType<typeof flow.image.wait>>, { bytes: number }>(true);
  same<Awaited<ReturnType<typeof flow.mail.wait>>, { messageId: string }>(true);
  same<typeof flow.byName.payload, unknown>(true);
  // @ts-expect-error a node's payload is its task's input
  await client.enqueueFlow({ image: { task: resize, payload: { url: 'u', width: '1' } } });
  await client.enqueueFlow({
    image: { task: resize, payload: { url: 'u', width: 1 } },
    // @ts-expect-error dependsOn names nodes of the same flow
    mail: { task: sendEmail, payload: { to: 'x' }, dependsOn: ['imag'] },
  });
  await client.enqueueFlow({
    image: { task: resize, payload: { url: 'u', width: 1 } },
    // @ts-expect-error nor may a ref
    mail: { task: sendEmail, payload: { to: 'x' }, dependsOn: [{ ref: 'imag' }] },
  });
  // @ts-expect-error a node needs its payload
  await client.enqueueFlow({ image: { task: resize } });
  // A graph built elsewhere (loosely typed) is still accepted; its jobs are untyped.
  const loose: Record<string, EnqueuedJob> = await client.enqueueFlow(graph);
  loose.any?.id.toString();
  const built = await client.enqueueFlow(parentWithChildren({ task: resize, payload: {} }, []));
  built.parent?.id.toString();
}

export function events(event: JobwireEvents['job:completed']): void {
  same<typeof event.result, unknown>(true);
  if (isTaskEvent(resize, event)) {
    same<typeof event.result, { bytes: number }>(true);
    event.result.bytes.toFixed();
  }
  if (isTaskEvent(sendEmail, event)) event.result.messageId.toUpperCase();
}
