/**
 * Checks shared by every driver's schedule methods, so bad input is refused the same way
 * (`InvalidOptionError` naming the field) on all of them before anything is written.
 */
import { InvalidOptionError } from '../core/errors.js';
import { assertInsertable, assertStorableText } from './guards.js';
import type { ScheduleWriteParams } from './params.js';
import type { ScheduleJobRef } from './records.js';

/** Longest schedule id. */
export const MAX_SCHEDULE_ID_LENGTH = 200;

/** A schedule id: storable text of 1–200 characters. */
export function checkScheduleId(id: unknown, field = 'id'): string {
  assertStorableText(field, id);
  const text = id as string;
  if (text.length === 0 || text.length > MAX_SCHEDULE_ID_LENGTH) {
    throw new InvalidOptionError(field, `must be 1 to ${MAX_SCHEDULE_ID_LENGTH} characters`);
  }
  return text;
}

const isTime = (value: unknown): boolean =>
  value === null || (typeof value === 'number' && Number.isFinite(value));

function checkRef(field: string, ref: ScheduleJobRef, jobs: number): void {
  if (ref === null) return;
  if (typeof ref !== 'object') throw new InvalidOptionError(field, 'must be { index }, { id } or null');
  if ('index' in ref) {
    if (!Number.isInteger(ref.index) || ref.index < 0 || ref.index >= jobs) {
      throw new InvalidOptionError(`${field}.index`, `must name one of the ${jobs} jobs of this write`);
    }
  } else if (typeof ref.id !== 'string' || !/^[1-9]\d{0,18}$/.test(ref.id)) {
    throw new InvalidOptionError(`${field}.id`, 'must be a job id');
  }
}

/** `params` of `scheduleWrite`, checked. */
export function checkScheduleWrite(params: ScheduleWriteParams): ScheduleWriteParams {
  checkScheduleId(params.id);
  const expected = params.expectedVersion;
  if (expected !== null && (!Number.isInteger(expected) || expected < 1)) {
    throw new InvalidOptionError(
      'expectedVersion',
      'must be a version read before (an integer >= 1), or null',
    );
  }
  assertInsertable(params.jobs);
  if (!Array.isArray(params.cancelJobIds)) throw new InvalidOptionError('cancelJobIds', 'must be an array');
  const state = params.state;
  if (state !== null) {
    if (typeof state !== 'object') throw new InvalidOptionError('state', 'must be an object or null');
    assertStorableText('state.definitionJson', state.definitionJson);
    try {
      JSON.parse(state.definitionJson);
    } catch {
      throw new InvalidOptionError('state.definitionJson', 'must be JSON text');
    }
    if (typeof state.paused !== 'boolean') throw new InvalidOptionError('state.paused', 'must be a boolean');
    for (const field of ['nextTickAt', 'lastTickAt', 'lastFiredAt'] as const) {
      if (!isTime(state[field])) throw new InvalidOptionError(`state.${field}`, 'must be epoch ms or null');
    }
    checkRef('state.nextJob', state.nextJob, params.jobs.length);
    checkRef('state.lastJob', state.lastJob, params.jobs.length);
  }
  return params;
}
