/**
 * Job dependencies through the whole client (docs/dependencies.md): the `blocked` state, edges
 * and their failure policies, batch references and cycles, the flow builder, results read by a
 * dependent, events in process and in the durable log, and a long chain run by a real pool.
 * Part of `runClientConformance`, so every driver runs it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DependencyCycleError,
  DependencyFailedError,
  DependencyNotFoundError,
  InvalidOptionError,
  UnrecoverableError,
} from '../../../core/errors.js';
import { defineTask } from '../../../core/task.js';
import type { DependencyPolicy } from '../../dependencies.js';
import type { ConformanceDatabases } from './databases.js';
import { recordEvents, testPool, until, withClient } from './harness.js';

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

export function runDependencySuite(factory: ConformanceDatabases): void {
  describe(`job dependencies (${factory.name})`, () => {
    it('a diamond: the join runs once, after both branches, and reads their results', async (t) => {
      const log: string[] = [];
      const step = defineTask({
        name: 'step',
        handler: async (payload: { name: string }) => {
          log.push(`start ${payload.name}`);
          await new Promise((r) => setTimeout(r, 5));
          log.push(`end ${payload.name}`);
          return `${payload.name}!`;
        },
      });
      let seen: unknown;
      const join = defineTask({
        name: 'join',
        // Destructured: the context's functions work unbound.
        handler: async (_payload: unknown, { dependencies }) => {
          log.push('start join');
          seen = await dependencies(step);
          return 'joined';
        },
      });
      const { client } = await withClient(t, factory, { tasks: [step, join], events: { log: true } });
      const recorded = recordEvents(client);
      const flow = await client.enqueueFlow({
        top: { task: step, payload: { name: 'top' } },
        left: { task: step, payload: { name: 'left' }, dependsOn: ['top'] },
        right: { task: step, payload: { name: 'right' }, dependsOn: ['top'] },
        bottom: { task: join, payload: {}, dependsOn: ['left', 'right'] },
      });
      assert.equal(flow.top.state, 'pending');
      assert.equal(flow.left.state, 'blocked');
      assert.equal(flow.bottom.state, 'blocked');
      assert.deepEqual(
        recorded.of('job:blocked').map((e) => [e.jobId, e.reason, e.dependencyIds]),
        [
          [flow.left.id, 'waiting', [flow.top.id]],
          [flow.right.id, 'waiting', [flow.top.id]],
          [flow.bottom.id, 'waiting', [flow.left.id, flow.right.id]],
        ],
      );
      assert.equal((await client.countJobs()).blocked, 3);
      assert.deepEqual(
        (await client.listJobs({ state: 'blocked' })).jobs.map((j) => j.id).sort(),
        [flow.left.id, flow.right.id, flow.bottom.id].sort(),
      );

      const pool = client.createPool({ ...testPool, concurrency: 4 });
      await pool.start();
      assert.equal(await client.waitForJob(flow.bottom.id, { timeoutMs: 20_000 }), 'joined');
      await pool.stop();

      const at = (entry: string) => log.indexOf(entry);
      assert.equal(log.filter((e) => e === 'start join').length, 1, 'the join ran once');
      assert.ok(at('end top') < at('start left') && at('end top') < at('start right'));
      assert.ok(at('end left') < at('start join') && at('end right') < at('start join'), log.join(', '));
      assert.deepEqual(
        (seen as { id: string; state: string; result: unknown }[]).map((d) => [d.id, d.state, d.result]),
        [
          [flow.left.id, 'completed', 'left!'],
          [flow.right.id, 'completed', 'right!'],
        ].sort((a, b) => Number(a[0]) - Number(b[0])),
      );
      const unblocked = recorded.of('job:unblocked');
      assert.deepEqual(
        unblocked.map((e) => e.jobId).sort(),
        [flow.left.id, flow.right.id, flow.bottom.id].sort(),
      );
      assert.ok(unblocked.every((e) => e.state === 'pending'));

      // The durable log has the same facts, each unblock after the completion that caused it.
      const events = await client.jobEvents(flow.bottom.id);
      const types = events.map((e) => e.type);
      assert.deepEqual(types.slice(0, 3), ['job:queued', 'job:blocked', 'job:unblocked'], types.join(', '));
      const edges = await client.getJobDependencies(flow.bottom.id);
      assert.deepEqual(
        edges.dependencies.map((e) => e.state),
        ['done', 'done'],
      );
      assert.deepEqual(
        (await client.getJobDependencies(flow.top.id)).dependents.map((e) => e.jobId),
        [flow.left.id, flow.right.id],
      );
    });

    for (const ending of ['abandoned', 'cancelled'] as const) {
      for (const policy of ['cancel', 'run', 'block'] as DependencyPolicy[]) {
        it(`a parent ${ending}, edge policy ${policy}`, async (t) => {
          let fail = true;
          const parentTask = defineTask({
            name: 'parent',
            maxAttempts: 1,
            handler: async () => {
              if (fail) throw new UnrecoverableError('no');
              return 'parent ok';
            },
          });
          const ran: string[] = [];
          const childTask = defineTask({
            name: 'child',
            handler: async (payload: { name: string }) => {
              ran.push(payload.name);
              return payload.name;
            },
          });
          const { client } = await withClient(t, factory, {
            tasks: [parentTask, childTask],
            events: { log: true },
          });
          const recorded = recordEvents(client);
          const parent = await client.enqueue(
            parentTask,
            {},
            ending === 'cancelled' ? { delayMs: 3_600_000 } : {},
          );
          const child = await client.enqueue(
            childTask,
            { name: 'child' },
            { dependsOn: [{ id: parent.id, onFailure: policy }] },
          );
          // The grandchild follows the child with the default policy (cancel).
          const grandchild = await client.enqueue(
            childTask,
            { name: 'grandchild' },
            { dependsOn: [child.id] },
          );
          const pool = client.createPool({ ...testPool, concurrency: 2 });
          await pool.start();
          if (ending === 'cancelled') assert.equal(await client.cancelJob(parent.id), true);
          else await assert.rejects(client.waitForJob(parent.id, { timeoutMs: 10_000 }));

          if (policy === 'cancel') {
            await until(
              async () => (await client.getJob(grandchild.id))?.state === 'cancelled',
              10_000,
              'cascade',
            );
            assert.equal((await client.getJob(child.id))?.state, 'cancelled');
            const cancelled = recorded.of('job:cancelled').filter((e) => e.jobId !== parent.id);
            assert.deepEqual(
              cancelled.map((e) => [e.jobId, e.previousState, e.dependencyId]),
              [
                [child.id, 'blocked', parent.id],
                [grandchild.id, 'blocked', child.id],
              ],
            );
            assert.deepEqual(
              (await client.getJobDependencies(child.id)).dependencies.map((e) => e.state),
              ['cancelled'],
            );
          } else if (policy === 'run') {
            assert.equal(await client.waitForJob(grandchild.id, { timeoutMs: 10_000 }), 'grandchild');
            assert.deepEqual(ran, ['child', 'grandchild']);
            assert.deepEqual(
              (await client.getJobDependencies(child.id)).dependencies.map((e) => [e.state, e.other?.state]),
              [['ignored', ending]],
            );
          } else {
            await until(
              async () => (await client.getJobDependencies(child.id)).dependencies[0]?.state === 'stuck',
              10_000,
              'the edge to become stuck',
            );
            assert.equal((await client.getJob(child.id))?.state, 'blocked');
            assert.deepEqual(
              recorded
                .of('job:blocked')
                .filter((e) => e.reason === 'dependency-failed')
                .map((e) => [e.jobId, e.dependencyIds]),
              [[child.id, [parent.id]]],
            );
            assert.deepEqual(
              (await client.listJobs({ state: 'blocked' })).jobs.map((j) => j.id).sort(),
              [child.id, grandchild.id].sort(),
            );
            assert.deepEqual(ran, []);
            // A retry by hand that completes lets the dependents proceed.
            fail = false;
            await client.retryJob(parent.id);
            assert.equal(await client.waitForJob(grandchild.id, { timeoutMs: 10_000 }), 'grandchild');
            assert.deepEqual(ran, ['child', 'grandchild']);
          }
          await pool.stop();
        });
      }
    }

    it('cancel of a blocked job cascades; a deleted dependency applies the policies too', async (t) => {
      const task = defineTask({ name: 'noop', handler: async () => 'ok' });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const root = await client.enqueue(task, {}, { delayMs: 3_600_000 });
      const blocked = await client.enqueue(task, {}, { dependsOn: [root.id] });
      const below = await client.enqueue(task, {}, { dependsOn: [{ id: blocked.id, onFailure: 'run' }] });
      assert.equal(await client.cancelJob(blocked.id), true);
      assert.equal((await client.getJob(blocked.id))?.state, 'cancelled');
      assert.equal((await client.getJob(below.id))?.state, 'pending', 'run: the dependent goes ahead');

      const other = await client.enqueue(task, {}, { dependsOn: [{ id: root.id, onFailure: 'run' }] });
      assert.equal(await client.deleteJob(root.id), true);
      assert.equal((await client.getJob(other.id))?.state, 'pending');
      assert.deepEqual(
        (await client.getJobDependencies(other.id)).dependencies.map((e) => [e.state, e.other]),
        [['ignored', null]],
      );
    });

    it('a job inserted on a dependency that already failed under block says dependency-failed, in process and in the log', async (t) => {
      const task = defineTask({ name: 'noop', handler: async () => 'ok' });
      const { client } = await withClient(t, factory, { tasks: [task], events: { log: true } });
      const failed = await client.enqueue(task, {}, { delayMs: 3_600_000 });
      assert.equal(await client.cancelJob(failed.id), true);
      const open = await client.enqueue(task, {}, { delayMs: 3_600_000 });
      const recorded = recordEvents(client);
      const job = await client.enqueue(
        task,
        {},
        {
          dependsOn: [
            { id: failed.id, onFailure: 'block' },
            { id: open.id, onFailure: 'cancel' },
          ],
        },
      );
      assert.equal(job.state, 'blocked');
      // Before, one event: reason waiting on both, though the first holds the job for good.
      const expected = [
        ['waiting', [open.id]],
        ['dependency-failed', [failed.id]],
      ];
      assert.deepEqual(
        recorded.of('job:blocked').map((e) => [e.reason, e.dependencyIds]),
        expected,
      );
      const logged = (await client.jobEvents(job.id)).filter((e) => e.type === 'job:blocked');
      assert.deepEqual(
        logged.map((e) => {
          const data = e.data as { reason: string; dependencyIds: string[] };
          return [data.reason, data.dependencyIds];
        }),
        expected,
      );
    });

    it('unknown ids, failed dependencies and bad options are refused, nothing stored', async (t) => {
      const task = defineTask({ name: 'noop', handler: async () => 'ok' });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const existing = await client.enqueue(task, {});
      const before = total(await client.countJobs());
      await assert.rejects(
        client.enqueue(task, {}, { dependsOn: [existing.id, '999999999', 'abc'] }),
        (error: unknown) =>
          error instanceof DependencyNotFoundError && error.jobIds.join(',') === '999999999,abc',
      );
      await assert.rejects(
        client.enqueueMany([
          { task, payload: {} },
          { task, payload: {}, options: { dependsOn: ['424242'] } },
        ]),
        DependencyNotFoundError,
      );
      await assert.rejects(client.enqueue(task, {}, { dependsOn: [{ ref: 'x' }] }), InvalidOptionError);
      await assert.rejects(
        client.enqueue(task, {}, { dependsOn: [{ id: existing.id, onFailure: 'retry' as never }] }),
        InvalidOptionError,
      );
      await assert.rejects(
        client.enqueue(task, {}, { dependsOn: [existing.id], uniqueKey: 'k' }),
        InvalidOptionError,
      );
      // The same dependency twice with different policies: which one was meant? Refused, by name.
      await assert.rejects(
        client.enqueue(
          task,
          {},
          {
            dependsOn: [existing.id, { id: Number(existing.id) as unknown as string, onFailure: 'run' }],
          },
        ),
        (error: unknown) =>
          error instanceof InvalidOptionError &&
          error.field === 'dependsOn[1].onFailure' &&
          /dependsOn\[0\]/.test(error.message),
      );
      await assert.rejects(
        client.enqueueMany([
          { task, payload: {}, options: { ref: 'a' } },
          { task, payload: {}, options: { dependsOn: [{ ref: 'a', onFailure: 'block' }, { ref: 'a' }] } },
        ]),
        (error: unknown) =>
          error instanceof InvalidOptionError && error.field === 'items[1].options.dependsOn[1].onFailure',
      );
      assert.equal(total(await client.countJobs()), before);
      // Named twice alike, it is one edge.
      const twice = await client.enqueue(
        task,
        {},
        {
          dependsOn: [existing.id, { id: existing.id, onFailure: 'cancel' }],
        },
      );
      assert.deepEqual(
        (await client.getJobDependencies(twice.id)).dependencies.map((e) => e.dependsOn),
        [existing.id],
      );
      await client.deleteJob(twice.id);

      await client.cancelJob(existing.id);
      await assert.rejects(client.enqueue(task, {}, { dependsOn: [existing.id] }), DependencyFailedError);
      const stuck = await client.enqueue(task, {}, { dependsOn: [{ id: existing.id, onFailure: 'block' }] });
      assert.equal(stuck.state, 'blocked');
      const runs = await client.enqueue(task, {}, { dependsOn: [{ id: existing.id, onFailure: 'run' }] });
      assert.equal(runs.state, 'pending');
    });

    it('batch items refer to each other by ref; a cycle is refused with nothing stored', async (t) => {
      const task = defineTask({ name: 'noop', handler: async () => 'ok' });
      const { client } = await withClient(t, factory, { tasks: [task] });
      const before = total(await client.countJobs());
      await assert.rejects(
        client.enqueueMany([
          { task, payload: 1, options: { ref: 'a', dependsOn: [{ ref: 'c' }] } },
          { task, payload: 2, options: { ref: 'b', dependsOn: [{ ref: 'a' }] } },
          { task, payload: 3, options: { ref: 'c', dependsOn: [{ ref: 'b' }] } },
        ]),
        (error: unknown) => error instanceof DependencyCycleError && error.cycle.length === 3,
      );
      await assert.rejects(
        client.enqueueFlow({ x: { task, payload: 0, dependsOn: ['x'] } }),
        InvalidOptionError,
        'a self-reference',
      );
      await assert.rejects(
        // @ts-expect-error a name of no node does not compile; from JavaScript it is refused
        client.enqueueFlow({ x: { task, payload: 0, dependsOn: ['nobody'] } }),
        InvalidOptionError,
      );
      // A misspelt node field: before, dropped, and the node ran at once beside what it waits for.
      await assert.rejects(
        client.enqueueFlow({
          extract: { task, payload: 0 },
          load: { task, payload: 1, depends: ['extract'] } as never,
        }),
        (error: unknown) =>
          error instanceof InvalidOptionError &&
          error.field === 'flow.load.depends' &&
          /dependsOn/.test(error.message),
      );
      assert.equal(total(await client.countJobs()), before);

      // A later item may be named too: edges point forward and backward in the batch.
      const jobs = await client.enqueueMany([
        { task, payload: 1, options: { ref: 'last-first', dependsOn: [{ ref: 'first' }] } },
        { task, payload: 2, options: { ref: 'first' } },
      ]);
      assert.deepEqual(
        jobs.map((j) => j.state),
        ['blocked', 'pending'],
      );
      assert.deepEqual(
        (await client.getJobDependencies(jobs[0]!.id)).dependencies.map((e) => e.dependsOn),
        [jobs[1]!.id],
      );
    });

    it('a 10,000-job chain runs to the end in order with a real pool', async (t) => {
      const count = 10_000;
      const order: number[] = [];
      const link = defineTask({
        name: 'link',
        handler: async (payload: { i: number }) => {
          order.push(payload.i);
          return payload.i;
        },
      });
      const { client } = await withClient(t, factory, { tasks: [link] });
      const items = Array.from({ length: count }, (_, i) => ({
        task: link,
        payload: { i },
        options: i === 0 ? { ref: '0' } : { ref: String(i), dependsOn: [{ ref: String(i - 1) }] },
      }));
      const inserted = Date.now();
      const jobs = await client.enqueueMany(items);
      const insertMs = Date.now() - inserted;
      assert.equal((await client.countJobs()).blocked, count - 1);
      const pool = client.createPool({ ...testPool, concurrency: 4 });
      const started = Date.now();
      await pool.start();
      await client.waitForJob(jobs[count - 1]!.id, { timeoutMs: 600_000 });
      const runMs = Date.now() - started;
      await pool.stop();
      t.diagnostic(
        `${factory.name}: inserted ${count} chained jobs in ${insertMs} ms, ran them in ${runMs} ms`,
      );
      assert.equal(order.length, count, 'each ran once');
      assert.ok(
        order.every((value, i) => value === i),
        'in chain order',
      );
    });
  });
}
