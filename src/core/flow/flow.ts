/**
 * The flow builder: a graph of named jobs inserted in one transaction, each waiting for the
 * nodes it names. See docs/dependencies.md.
 */
import type { EnqueueItem, ItemPayload } from '../enqueue.js';
import { InvalidOptionError } from '../errors.js';
import { assertKnownOptions, optionNames } from '../known-options.js';
import type { EnqueueOptions } from '../options.js';
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

/** The `enqueueMany` items of a flow, in the graph's key order; each node's `ref` is its name. */
export function flowItems(graph: FlowGraph): EnqueueItem[] {
  if (typeof graph !== 'object' || graph === null || Array.isArray(graph)) {
    throw new InvalidOptionError(
      'flow',
      'must be an object of named nodes { name: { task, payload, dependsOn } }',
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
    const dependsOn: DependsOn[] | undefined = node.dependsOn?.map((dep) =>
      typeof dep === 'string' ? { ref: dep } : dep,
    );
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
