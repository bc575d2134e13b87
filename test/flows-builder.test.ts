/**
 * `enqueueFlow` as an application writes it: a mistake in a node is refused naming the node
 * (`flow.<name>.…`, the words the caller wrote, not the `items[i].options.…` of the
 * `enqueueMany` the flow becomes), and a field that would be ignored or half-honoured
 * (`options.dependsOn`, `options.ref`, `options.transaction`) is refused rather than dropped.
 * Nothing is stored in either case.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import {
  createJobwire,
  DependencyCycleError,
  defineTask,
  type FlowGraph,
  InvalidOptionError,
  type Jobwire,
  MAX_ENQUEUE_MANY_JOBS,
  parentWithChildren,
} from '../src/index.js';

let dir: string;
let client: Jobwire;
const step = defineTask<{ n: number }>({ name: 'step', handler: async () => {} });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobwire-flows-builder-'));
  client = await createJobwire({ driver: sqliteDriver({ path: join(dir, 'flows.db') }), tasks: [step] });
});
after(async () => {
  await client.close();
  await rm(dir, { recursive: true, force: true });
});

const stored = async () => Object.values(await client.countJobs()).reduce((a, b) => a + b, 0);

/** Rejects with InvalidOptionError naming `field` (and matching `message`), storing nothing. */
async function refused(graph: FlowGraph, field: string, message?: RegExp): Promise<void> {
  const before = await stored();
  await assert.rejects(client.enqueueFlow(graph), (error: unknown) => {
    assert.ok(error instanceof InvalidOptionError, `not an InvalidOptionError: ${String(error)}`);
    assert.equal(error.field, field);
    if (message) assert.match(error.message, message);
    return true;
  });
  assert.equal(await stored(), before, 'nothing stored');
}

describe('enqueueFlow refuses a bad node naming it', () => {
  it('a dependsOn name of no node, with the closest node name', async () => {
    await refused(
      {
        extract: { task: step, payload: { n: 0 } },
        load: { task: step, payload: { n: 1 }, dependsOn: ['extrat'] },
      },
      'flow.load.dependsOn[0]',
      /no node of the flow is named "extrat".*did you mean "extract"/,
    );
    await refused(
      {
        extract: { task: step, payload: { n: 0 } },
        load: { task: step, payload: { n: 1 }, dependsOn: ['extract', { ref: 'nobody', onFailure: 'run' }] },
      },
      'flow.load.dependsOn[1].ref',
      /no node of the flow is named "nobody"/,
    );
  });

  it('an entry that is neither a name nor { ref } nor { id }', async () => {
    await refused(
      { a: { task: step, payload: { n: 0 }, dependsOn: [null as never] } },
      'flow.a.dependsOn[0]',
      /node name/,
    );
    await refused(
      { a: { task: step, payload: { n: 0 }, dependsOn: [{ name: 'a' } as never] } },
      'flow.a.dependsOn[0]',
    );
  });

  it('a node that names itself', async () => {
    await refused(
      { x: { task: step, payload: { n: 0 }, dependsOn: ['x'] } },
      'flow.x.dependsOn[0]',
      /itself/,
    );
  });

  it('a bad failure policy, also from parentWithChildren', async () => {
    await refused(
      {
        a: { task: step, payload: { n: 0 } },
        b: { task: step, payload: { n: 1 }, dependsOn: [{ ref: 'a', onFailure: 'retry' as never }] },
      },
      'flow.b.dependsOn[0].onFailure',
      /cancel, run, block/,
    );
    await refused(
      parentWithChildren(
        { task: step, payload: { n: 0 } },
        [{ task: step, payload: { n: 1 } }],
        'nope' as never,
      ),
      'flow.parent.dependsOn[0].onFailure',
    );
  });

  it('dependsOn, ref or transaction inside a node’s options', async () => {
    const job = await client.enqueue(step, { n: 9 });
    // Before: options.dependsOn was honoured as job ids when the node had no dependsOn of its own
    // and silently dropped when it had one; options.ref was dropped; options.transaction was
    // ignored, so the job was committed even when the caller's transaction rolled back.
    await refused(
      { a: { task: step, payload: { n: 0 }, options: { dependsOn: [job.id] } as never } },
      'flow.a.options.dependsOn',
      /put it on the node/,
    );
    await refused(
      {
        a: { task: step, payload: { n: 0 } },
        b: { task: step, payload: { n: 1 }, dependsOn: ['a'], options: { dependsOn: [job.id] } as never },
      },
      'flow.b.options.dependsOn',
    );
    await refused(
      { a: { task: step, payload: { n: 0 }, options: { ref: 'other' } as never } },
      'flow.a.options.ref',
    );
    await refused(
      { a: { task: step, payload: { n: 0 }, options: { transaction: {} } as never } },
      'flow.a.options.transaction',
      /enqueueFlow\(graph, \{ transaction \}\)/,
    );
  });

  it('more nodes than one flow takes, in the flow’s words', async () => {
    const graph: Record<string, { task: typeof step; payload: { n: number } }> = {};
    for (let i = 0; i <= MAX_ENQUEUE_MANY_JOBS; i++) graph[`n${i}`] = { task: step, payload: { n: i } };
    await refused(graph, 'flow', /at most 10000 nodes per flow, got 10001/);
  });

  it('still takes every valid form, and refuses a cycle by node names', async () => {
    const existing = await client.enqueue(step, { n: 1 });
    const flow = await client.enqueueFlow({
      top: { task: step, payload: { n: 0 } },
      left: { task: step, payload: { n: 1 }, dependsOn: ['top'] },
      right: { task: step, payload: { n: 2 }, dependsOn: [{ ref: 'top', onFailure: 'block' }] },
      bottom: {
        task: step,
        payload: { n: 3 },
        dependsOn: ['left', { ref: 'right', onFailure: 'run' }, { id: existing.id, onFailure: 'run' }],
        options: { priority: 5 },
      },
    });
    assert.equal(flow.bottom.state, 'blocked');
    const { dependencies } = await client.getJobDependencies(flow.bottom.id);
    assert.deepEqual(
      dependencies.map((d) => [d.dependsOn, d.onFailure]),
      [
        [existing.id, 'run'],
        [flow.left.id, 'cancel'],
        [flow.right.id, 'run'],
      ],
    );
    const before = await stored();
    await assert.rejects(
      client.enqueueFlow({
        a: { task: step, payload: { n: 0 }, dependsOn: ['b'] },
        b: { task: step, payload: { n: 1 }, dependsOn: ['a'] },
      }),
      (error: unknown) => error instanceof DependencyCycleError && error.cycle.join() === 'a,b',
    );
    assert.equal(await stored(), before);
  });
});
