/**
 * The flow builder: a graph of named jobs inserted in one transaction, each waiting for the
 * nodes it names. See docs/dependencies.md.
 */
import { DEPENDENCY_POLICIES } from '../../driver/driver.js';
import type { EnqueueItem, ItemPayload } from '../enqueue.js';
import { InvalidOptionError } from '../errors.js';
import { MAX_ENQUEUE_MANY_JOBS } from '../insert.js';
import { assertKnownOptions, closestName, optionNames } from '../known-options.js';
import type { EnqueueOptions } from '../options.js';
import { preview } from '../preview.js';
import type { AnyTaskRef } from '../task.js';
import type { DependencyPolicy, DependsOn } from './dependencies.js';

/** One node of a flow: a job, and the nodes (by name) or existing jobs (`{ id }`) it waits for. */
export interface FlowNode {
  task: AnyTaskRef | string;
  payload: unknown;
  /** Node names of the same flow, `{ ref: name, onFailure }`, or `{ id, onFailure }` of an existing job. */
  dependsOn?: readonly (
    | string
    | { ref: string; onFailure?: DependencyPolicy }
    | { id: string; onFailure?: DependencyPolicy }
  )[];
  options?: Omit<EnqueueOptions, 'transaction' | 'executor' | 'dependsOn' | 'ref'>;
}

/**
 * One node of a flow for `T`, a task, a contract or a task name, as `enqueueFlow` checks it: the
 * payload must be the task's input (a name takes any), and `dependsOn` names nodes of the same
 * flow (`Names`), so a misspelt name does not compile.
 */
export interface TypedFlowNode<T extends AnyTaskRef | string, Names extends string> {
  task: T;
  payload: ItemPayload<T>;
  /** Node names of the same flow, `{ ref: name, onFailure }`, or `{ id, onFailure }` of an existing job. */
  dependsOn?: readonly (
    | Names
    | { ref: Names; onFailure?: DependencyPolicy }
    | { id: string; onFailure?: DependencyPolicy }
  )[];
  options?: Omit<EnqueueOptions, 'transaction' | 'executor' | 'dependsOn' | 'ref'>;
}

/** Every field of `FlowNode` (the compiler checks the list against it); any other key is refused. */
const FLOW_NODE_KEYS = optionNames<FlowNode>({ task: true, payload: true, dependsOn: true, options: true });

/** A flow: node name → node. */
export type FlowGraph = Readonly<Record<string, FlowNode>>;

/**
 * Enqueue options a node's `options` may not hold: the node's own `dependsOn` and name say what
 * these would, and a transaction is the whole flow's. Each was dropped or half-honoured before
 * (`options.dependsOn` counted only when the node had no `dependsOn`; `options.transaction` was
 * ignored, so the job committed even when the caller's transaction rolled back).
 */
const NODE_OWNED_OPTIONS: Readonly<Record<string, string>> = {
  dependsOn: 'put it on the node: { task, payload, dependsOn }',
  ref: "a node's name is its ref",
  transaction: 'pass it for the whole flow: enqueueFlow(graph, { transaction })',
  executor: 'pass it for the whole flow: enqueueFlow(graph, { transaction })',
};

/**
 * A node's `dependsOn` as `enqueueMany` takes it, checked in the flow's words (`flow.<name>.…`):
 * a name must be another node of the graph, a policy one of the known ones.
 */
function nodeDependsOn(graph: FlowGraph, name: string, dependsOn: readonly unknown[]): DependsOn[] {
  const nodeRef = (field: string, ref: unknown): string => {
    if (typeof ref === 'string' && Object.hasOwn(graph, ref)) {
      if (ref === name) throw new InvalidOptionError(field, 'a node cannot depend on itself');
      return ref;
    }
    const near = typeof ref === 'string' ? closestName(ref, Object.keys(graph)) : undefined;
    throw new InvalidOptionError(
      field,
      `no node of the flow is named ${preview(ref)}${near ? ` — did you mean "${near}"?` : ''}`,
    );
  };
  return dependsOn.map((dep, d) => {
    const field = `flow.${name}.dependsOn[${d}]`;
    if (typeof dep === 'string') return { ref: nodeRef(field, dep) };
    if (typeof dep === 'number') return dep as unknown as DependsOn; // a job id, as enqueue takes it
    if (typeof dep !== 'object' || dep === null || !('ref' in dep || 'id' in dep)) {
      throw new InvalidOptionError(
        field,
        `must be a node name, { ref: name, onFailure } or { id, onFailure } of an existing job, got ${preview(dep)}`,
      );
    }
    const onFailure = (dep as { onFailure?: unknown }).onFailure;
    if (onFailure !== undefined && !DEPENDENCY_POLICIES.includes(onFailure as DependencyPolicy)) {
      throw new InvalidOptionError(
        `${field}.onFailure`,
        `must be one of ${DEPENDENCY_POLICIES.join(', ')}, got ${preview(onFailure)}`,
      );
    }
    if ('ref' in dep) nodeRef(`${field}.ref`, (dep as { ref: unknown }).ref);
    return dep as DependsOn;
  });
}

/** The `enqueueMany` items of a flow, in the graph's key order; each node's `ref` is its name. */
export function flowItems(graph: FlowGraph): EnqueueItem[] {
  if (typeof graph !== 'object' || graph === null || Array.isArray(graph)) {
    throw new InvalidOptionError(
      'flow',
      'must be an object of named nodes { name: { task, payload, dependsOn } }',
    );
  }
  const count = Object.keys(graph).length;
  if (count > MAX_ENQUEUE_MANY_JOBS) {
    throw new InvalidOptionError(
      'flow',
      `at most ${MAX_ENQUEUE_MANY_JOBS} nodes per flow, got ${count} (a flow is one transaction); ` +
        'split it, making the later part wait for the earlier one with { id } dependencies',
    );
  }
  return Object.entries(graph).map(([name, node]) => {
    if (typeof node !== 'object' || node === null) {
      throw new InvalidOptionError(`flow.${name}`, 'must be { task, payload, dependsOn?, options? }');
    }
    // A misspelt key (`depends` for `dependsOn`) would be dropped: the node would run at once.
    assertKnownOptions(`flow.${name}`, node, FLOW_NODE_KEYS, 'flow node field');
    if (node.dependsOn !== undefined && !Array.isArray(node.dependsOn)) {
      throw new InvalidOptionError(`flow.${name}.dependsOn`, 'must be an array of node names');
    }
    if (typeof node.options === 'object' && node.options !== null) {
      for (const key of Object.keys(NODE_OWNED_OPTIONS)) {
        if (Object.hasOwn(node.options, key)) {
          throw new InvalidOptionError(
            `flow.${name}.options.${key}`,
            `not a node option; ${NODE_OWNED_OPTIONS[key]}`,
          );
        }
      }
    }
    const dependsOn = node.dependsOn && nodeDependsOn(graph, name, node.dependsOn);
    return {
      task: node.task,
      payload: node.payload,
      options: { ...node.options, ref: name, ...(dependsOn ? { dependsOn } : {}) },
    };
  });
}

/**
 * The simplest flow: `parent` runs after every child completed (each edge with `onFailure`,
 * default `cancel`). Nodes are named `parent` and `child0`, `child1`, ….
 */
export function parentWithChildren(
  parent: Omit<FlowNode, 'dependsOn'>,
  children: readonly Omit<FlowNode, 'dependsOn'>[],
  onFailure?: DependencyPolicy,
): FlowGraph {
  const graph: Record<string, FlowNode> = {};
  children.forEach((child, i) => {
    graph[`child${i}`] = child;
  });
  graph.parent = { ...parent, dependsOn: children.map((_, i) => ({ ref: `child${i}`, onFailure })) };
  return graph;
}
