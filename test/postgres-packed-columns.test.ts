/**
 * Packed batch columns (src/drivers/postgres/packed-columns.ts): what `packColumn` sends, split
 * back by the SQL `columnSql` writes, is the array it packed — element for element, NULL and
 * empty strings included — and what it cannot pack is refused, never sent altered.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { columnSql, packColumn, packColumns } from '../src/drivers/postgres/packed-columns.js';
import { getAdminPool } from './support/postgres.js';

describe('packed batch columns (postgres)', () => {
  const roundTrip = async (values: readonly (string | number | null)[], type: string) => {
    const packed = packColumn(values);
    assert.notEqual(packed, undefined, `${JSON.stringify(values)} should pack`);
    const pool = await getAdminPool();
    const { rows } = await pool.query(`SELECT ${columnSql('$1', type, true)} AS a`, [packed]);
    return rows[0].a as unknown[];
  };

  it('splits back text with NULLs, empty strings, quotes, braces, commas and non-ASCII', async () => {
    const values = [null, '', '"', '\\', '{a,b}', 'NULL', ' ', 'ünï 😀', '{"k":"v \\" w"}', null];
    assert.deepEqual(await roundTrip(values, 'text'), values);
  });

  it('splits back numbers as their types, NULL included', async () => {
    assert.deepEqual(await roundTrip([1, -2, null, 2147483647], 'int'), [1, -2, null, 2147483647]);
    assert.deepEqual(await roundTrip([0.5, 1e21, null, -3], 'float8'), [0.5, 1e21, null, -3]);
    assert.deepEqual(await roundTrip([9007199254740991, 7], 'bigint'), ['9007199254740991', '7']);
  });

  it('keeps a lone empty string and a lone NULL (one-row batches)', async () => {
    assert.deepEqual(await roundTrip([null], 'text'), [null]);
    // string_to_array('') is an empty array: a lone '' is refused, so no row can vanish.
    assert.equal(packColumn(['']), undefined);
    assert.deepEqual(await roundTrip(['', ''], 'text'), ['', '']);
  });

  it('refuses strings that hold the separator or are the NULL mark, and then the whole batch', () => {
    assert.equal(packColumn(['a', 'b\u001ec']), undefined);
    assert.equal(packColumn(['\u001f']), undefined);
    assert.equal(typeof packColumn(['a\u001fb']), 'string');
    assert.equal(packColumns([['ok'], 7, ['x\u001e']]), undefined);
    assert.deepEqual(packColumns([['a', null], 7, null]), ['a\u001e\u001f', 7, null]);
  });
});
