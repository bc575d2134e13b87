/**
 * Checks shared by every driver's retention methods, so bad input is refused the same way
 * (`InvalidOptionError` naming the field) on all of them, before any SQL is built.
 */
import { InvalidOptionError } from '../core/errors.js';
import { preview } from '../core/preview.js';
import { checkNames } from './guards.js';
import type {
  DeletedCompletionsPruneParams,
  FinishedJobFilter,
  FinishedState,
  JobDeleteFinishedParams,
  JobFinishedCutoffParams,
} from './params.js';

/** The states retention may delete. */
export const FINISHED_STATES: readonly FinishedState[] = ['completed', 'abandoned', 'cancelled'];

function checkFilter(params: FinishedJobFilter): FinishedJobFilter {
  if (!Array.isArray(params.states) || params.states.length === 0) {
    throw new InvalidOptionError('states', `must be a non-empty array of ${FINISHED_STATES.join(', ')}`);
  }
  for (const state of params.states) {
    if (!(FINISHED_STATES as readonly unknown[]).includes(state)) {
      throw new InvalidOptionError(
        'states',
        `${preview(state)} is not a finished state; only ${FINISHED_STATES.join(', ')} jobs are deleted`,
      );
    }
  }
  return {
    states: [...new Set(params.states)],
    queues: checkNames('queues', params.queues),
    excludeQueues: checkNames('excludeQueues', params.excludeQueues),
    tasks: checkNames('tasks', params.tasks),
  };
}

/** `params` of `jobDeleteFinished`, checked. */
export function checkDeleteFinished(params: JobDeleteFinishedParams): JobDeleteFinishedParams {
  if (!Number.isInteger(params.limit) || params.limit < 1) {
    throw new InvalidOptionError('limit', 'must be an integer >= 1');
  }
  const before = params.finishedBefore;
  if (before !== undefined && !Number.isFinite(before)) {
    throw new InvalidOptionError('finishedBefore', 'must be a time in epoch ms');
  }
  return { ...checkFilter(params), limit: params.limit, finishedBefore: before };
}

/** `params` of `deletedCompletionsPrune`, checked. */
export function checkDeletedCompletionsPrune(
  params: DeletedCompletionsPruneParams,
): DeletedCompletionsPruneParams {
  if (!Number.isFinite(params.before)) {
    throw new InvalidOptionError('before', 'must be a time in epoch ms');
  }
  return { before: params.before };
}

/** `params` of `jobFinishedCutoff`, checked. */
export function checkFinishedCutoff(params: JobFinishedCutoffParams): JobFinishedCutoffParams {
  if (!Number.isInteger(params.keep) || params.keep < 0) {
    throw new InvalidOptionError('keep', 'must be an integer >= 0');
  }
  return { ...checkFilter(params), keep: params.keep };
}
