/**
 * Compile-time checks of the public API's type inference: `npm test` runs `tsc --noEmit` first,
 * so a `@ts-expect-error` that no longer finds an error fails the build.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { defineTask, type Jobwire, type TaskInput, type TaskResult } from '../src/index.js';

const resize = defineTask({
  name: 'resize',
  handler: async (payload: { url: string; width: number }) => ({ bytes: payload.width * 2 }),
});
const validated = defineTask({
  name: 'validated',
  schema: z.object({ email: z.string().email(), count: z.coerce.number() }),
  handler: async ({ email, count }) => `${email}:${count.toFixed(0)}`,
});

// Payload and result types flow from the definition.
const input: TaskInput<typeof resize> = { url: 'https://example.com/a.png', width: 100 };
const result: TaskResult<typeof resize> = { bytes: 200 };
const validatedResult: TaskResult<typeof validated> = 'a@b.c:1';

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
  const value = await client.waitForJob<TaskResult<typeof resize>>('1');
  value.bytes.toFixed();
}

test('type inference compiles (checked by tsc in npm test)', () => {
  assert.equal(input.width, 100);
  assert.equal(result.bytes, 200);
  assert.equal(validatedResult, 'a@b.c:1');
});
