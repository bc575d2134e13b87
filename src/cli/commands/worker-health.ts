/**
 * `jobwire worker --health <json|file>`: the `health` client option of the worker, so that a
 * CLI worker that becomes leader runs the queue-health monitor with the cluster's thresholds
 * (without it, health monitoring stops whenever a CLI worker leads: the leader's own option
 * decides). The value is the option as JSON, inline (`{"queues":{"mail":{"maxPending":100}}}`)
 * or in a file (`./health.json`). The client checks the thresholds themselves.
 */
import { readFileSync } from 'node:fs';
import type { JobwireOptions } from '../../index.js';
import { UsageError } from '../args.js';
import type { Setting } from '../config.js';

/** The `health` option `setting` gives, or undefined when not set. */
export function healthOption(setting: Setting): JobwireOptions['health'] | undefined {
  const raw = setting.value?.trim();
  if (raw === undefined || raw === '') return undefined;
  const where = `--${setting.name}`;
  let text = raw;
  if (!raw.startsWith('{')) {
    try {
      text = readFileSync(raw, 'utf8');
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new UsageError(
        `${where}: cannot read ${raw} (${code ?? String(error)})`,
        'give the health option as JSON ({"queues":{"mail":{"maxPending":100}}}) or the path of a JSON file',
      );
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `${where}: ${raw.startsWith('{') ? 'the value' : raw} is not valid JSON (${(error as Error).message})`,
      'e.g. {"intervalMs":5000,"queues":{"mail":{"maxPending":100,"maxOldestPendingMs":60000}}} (docs/health.md)',
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`${where} must be a JSON object like {"default":{"maxPending":1000}}`);
  }
  return value as JobwireOptions['health'];
}
