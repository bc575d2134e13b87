/**
 * Compile-time checks of the public API's type inference: `npm test` runs `tsc --noEmit` first,
 * so a `@ts-expect-error` that no longer finds an error fails the build.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { declareTask, defineTask, type Jobwire, type TaskInput, type TaskResult } from '../src/index.js';

const resize = defineTask({
  name: 'resize',
  handler: async (payload: { url: string; width: number }) => ({ bytes: payload.width * 2 }),
});
const validated = defineTask({
  name: 'validated',
  schema: z.object({ email: z.string().email(), count: z.coerce.number() }),
  handler: async ({ email, count }) => `${email}:${count.toFixed(0)}`,
});

// A contract: the task's types and defaults without its handler.
const sendEmail = declareTask<{ to: string }, { id: string }>({ name: 'send-email', queue: 'emails' });
const signup = declareTask({
  name: 'signup',
  schema: z.object({ email: z.string(), age: z.coerce.number() }),
});
const sendEmailTask = sendEmail.implement(async ({ to }) => ({ id: to.toUpperCase() }));
/** Never called: these only have to compile (or fail to, where marked). */
export function contractTypeChecks(): void {
  // @ts-expect-error the handler must resolve with the contract's result type
  sendEmail.implement(async () => ({ id: 1 }));
  // @ts-expect-error the handler receives the contract's payload type
  sendEmail.implement(async ({ from }: { from: string }) => ({ id: from }));
  // @ts-expect-error a contract takes no handler
  declareTask({ name: 'x', handler: async () => {} });
}

// Payload and result types flow from the definition.
const input: TaskInput<typeof resize> = { url: 'https://example.com/a.png', width: 100 };
const result: TaskResult<typeof resize> = { bytes: 200 };
const validatedResult: TaskResult<typeof validated> = 'a@b.c:1';
const contractInput: TaskInput<typeof sendEmail> = { to: 'ada@example.com' };
const contractResult: TaskResult<typeof sendEmail> = { id: 'x' };
const implementedResult: TaskResult<typeof sendEmailTask> = { id: 'y' };

export async function typeChecks(client: Jobwire): Promise<void> {
  await client.enqueue(resize, { url: 'x', width: 1 });
  // @ts-expect-error width must be a number
  await client.enqueue(resize, { url: 'x', width: '1' });
  // @ts-expect-error url is required
  await client.enqueue(resize, { width: 1 });
  await client.enqueue(validated, { email: 'a@b.c', count: 1 });
  // @ts-expect-error email is required by the schema's input type
  await client.enqueue(validated, { count: 1 });
  // By name, any payload is accepted (checked at run time).
  await client.enqueue('resize', { anything: true });
  // A contract is enqueued typed like its task, and so is its implementation.
  await client.enqueue(sendEmail, { to: 'ada@example.com' });
  // @ts-expect-error to must be a string
  await client.enqueue(sendEmail, { to: 1 });
  // @ts-expect-error to is required
  await client.enqueue(sendEmail, {});
  await client.enqueue(sendEmailTask, { to: 'ada@example.com' });
  // @ts-expect-error the implementation keeps the contract's payload type
  await client.enqueue(sendEmailTask, { to: 1 });
  await client.enqueue(signup, { email: 'a@b.c', age: '7' });
  // @ts-expect-error email is required by the schema's input type
  await client.enqueue(signup, { age: 1 });
  await client.enqueueMany([{ task: sendEmail, payload: { to: 'x' } }]);
  const emailed = await client.waitForJob<TaskResult<typeof sendEmail>>('1');
  emailed.id.toUpperCase();
  const value = await client.waitForJob<TaskResult<typeof resize>>('1');
  value.bytes.toFixed();
}

test('type inference compiles (checked by tsc in npm test)', () => {
  assert.equal(input.width, 100);
  assert.equal(result.bytes, 200);
  assert.equal(validatedResult, 'a@b.c:1');
  assert.equal(contractInput.to, 'ada@example.com');
  assert.equal(contractResult.id, 'x');
  assert.equal(implementedResult.id, 'y');
});
