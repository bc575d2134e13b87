/** The fairness quantum's key budgets (driver/flow.ts), as pure functions. No database. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FLOW_MIN_KEYS, FLOW_QUANTUM, flowKeyBudget, nextFlowKeyBudget } from '../src/driver/flow.js';

describe('flowKeyBudget', () => {
  it('a claim of up to FLOW_MIN_KEYS jobs takes one job per key', () => {
    for (const wanted of [1, 2, 5, FLOW_MIN_KEYS]) assert.equal(flowKeyBudget(wanted), wanted);
  });

  it('a larger claim shares its jobs among FLOW_MIN_KEYS keys, then one key per FLOW_QUANTUM jobs', () => {
    assert.equal(flowKeyBudget(50), FLOW_MIN_KEYS);
    assert.equal(flowKeyBudget(100), FLOW_MIN_KEYS);
    assert.equal(flowKeyBudget(1000), 1000 / FLOW_QUANTUM);
    // No key's share is ever above the quantum once claims outgrow FLOW_MIN_KEYS keys.
    for (let wanted = FLOW_MIN_KEYS; wanted <= 5000; wanted += 7) {
      assert.ok(Math.ceil(wanted / flowKeyBudget(wanted)) <= FLOW_QUANTUM, `wanted ${wanted}`);
    }
  });

  it('never asks for no key', () => {
    assert.equal(flowKeyBudget(0), 1);
  });
});

describe('nextFlowKeyBudget', () => {
  it('keys with one due job each: the next round takes a key per missing job (two rounds, not nine)', () => {
    assert.equal(nextFlowKeyBudget(90, 10, 10), 90);
  });

  it('keys that gave half their share: enough keys at that yield, never fewer than a fresh budget', () => {
    assert.equal(nextFlowKeyBudget(50, 50, 10), 10);
    assert.equal(nextFlowKeyBudget(60, 20, 10), 30);
  });

  it('nothing started (keys at their limit): a key per missing job, at most', () => {
    assert.equal(nextFlowKeyBudget(40, 0, 10), 40);
    assert.equal(nextFlowKeyBudget(3, 0, 0), 3);
  });
});
