// Whole numbers and decimal job ids stored as runs of arithmetic progressions
// (src/driver/runs-column.ts): what qualifies, that every column reads back exactly as written
// (numbers as numbers, ids as the same strings), and that a malformed column is refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runsColumnJson, runsColumnValues } from '../src/driver/runs-column.js';

const roundTrip = (values: readonly unknown[]) => {
  const text = runsColumnJson(values);
  return text === undefined ? undefined : runsColumnValues(JSON.parse(text) as object, values.length);
};

describe('runs column', () => {
  it('a claim of consecutive ids is one run; two due times are two runs', () => {
    const ids = Array.from({ length: 500 }, (_, i) => String(4001 + i));
    assert.equal(runsColumnJson(ids), '{"R":[4001,1,500]}');
    assert.deepEqual(roundTrip(ids), ids);
    const due = [...Array(300).fill(1_796_401_509_767), ...Array(200).fill(1_796_401_510_002)];
    assert.equal(runsColumnJson(due), '{"r":[1796401509767,0,300,1796401510002,0,200]}');
    assert.deepEqual(roundTrip(due), due);
  });

  it('only whole numbers, or canonical decimals, and only when runs save enough', () => {
    for (const turnedDown of [
      [1, 2, 3, 4.5],
      [1, 2, 3, Number.NaN],
      ['1', '2', '3', '04'],
      ['1', '2', '3', '-4'],
      ['1', '2', '3', '1e3'],
      ['1', '2', '3', 4],
      [1, 2, 3, '4'],
      ['1234567890123456', '1234567890123457', '1234567890123458', '1234567890123459'],
      [0, Number.MAX_SAFE_INTEGER, 0, Number.MAX_SAFE_INTEGER],
      [null, 1, 2, 3],
      [5, 1, 9, 2, 7, 3, 8, 4],
      [1, 2, 3],
    ])
      assert.equal(runsColumnJson(turnedDown), undefined, JSON.stringify(turnedDown));
    assert.deepEqual(roundTrip(['0', '1', '2', '3']), ['0', '1', '2', '3']);
    assert.deepEqual(roundTrip([-3, -2, -1, 0, 7, 7, 7, 7]), [-3, -2, -1, 0, 7, 7, 7, 7]);
  });

  it('random columns of few runs read back exactly', () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    let encoded = 0;
    for (let round = 0; round < 300; round++) {
      const values: number[] = [];
      const n = 4 + Math.floor(next() * 60);
      let v = Math.floor(next() * 1e12) - 5e11;
      while (values.length < n) {
        const step = Math.floor(next() * 5) - 2;
        for (let k = Math.floor(next() * 20); k >= 0 && values.length < n; k--) {
          v += step;
          values.push(v);
        }
        v += Math.floor(next() * 1000);
      }
      const back = roundTrip(values);
      if (back !== undefined) encoded++;
      if (back !== undefined) assert.deepEqual(back, values);
      const ids = values.map((x) => String(Math.abs(x)));
      const idsBack = roundTrip(ids);
      if (idsBack !== undefined) assert.deepEqual(idsBack, ids);
    }
    assert.ok(encoded > 100, `${encoded} of 300 columns stored as runs`);
  });

  it('a malformed runs column is refused with a clear error', () => {
    for (const [column, n] of [
      [{ r: [1, 1, 4] }, 5],
      [{ r: [1, 1, 4, 9] }, 4],
      [{ r: [1, 1, 0, 5, 1, 4] }, 4],
      [{ r: [1.5, 1, 4] }, 4],
      [{ r: [Number.MAX_SAFE_INTEGER, 1, 4] }, 4],
      [{ R: [2, -1, 4] }, 4],
      [{ r: [1, 1, 4], x: 1 }, 4],
      [{ r: 'no' }, 4],
    ] as [object, number][])
      assert.throws(
        () => runsColumnValues(column, n),
        /malformed runs column in the event log/,
        JSON.stringify(column),
      );
  });
});
