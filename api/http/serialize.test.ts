import { expect } from 'chai';
import { deepFreeze } from '../../domain/frozen.js';
import { bytesOf } from './serialize.js';

const jsonOf = (value: unknown) => bytesOf(value)?.toString();

describe('api: JSON of cached answers', () => {
  const samples = () => [
    { id: 1, name: 'Hall "A"', rows: [{ label: 'A', seats: [{ id: 1, price: null, status: 'free' }] }] },
    { at: new Date('2026-11-30T12:00:00.000Z'), nested: { list: [1, 'two', null, undefined, () => 3] } },
    { skipped: undefined, fn: () => 1, kept: [undefined, { deep: { deeper: [true, false, 0, -1.5] } }] },
    [{ a: 1 }, [], {}, 'text with \u2028 and émoji 🎟'],
  ];

  it('when a value is frozen or not, whole or in parts, should give exactly what JSON.stringify gives', () => {
    for (const value of samples()) expect(jsonOf(value)).to.equal(JSON.stringify(value));
    for (const value of samples()) expect(jsonOf(deepFreeze(value))).to.equal(JSON.stringify(value));
    const partly = { frozen: deepFreeze({ a: [1, 2] }), open: { b: 2 } };
    expect(jsonOf(Object.freeze(partly))).to.equal(JSON.stringify(partly));
  });

  it('when a new frozen version shares parts with the previous one, should reuse their JSON and write the changes', () => {
    const seat = (id: number, status: string) => ({ id, status });
    const first = deepFreeze({
      version: 1,
      rows: [{ seats: [seat(1, 'free'), seat(2, 'free')] }, { seats: [seat(3, 'free')] }],
    });
    expect(jsonOf(first)).to.equal(JSON.stringify(first));
    // Version 2 keeps row 0 and changes a seat of row 1.
    const second = deepFreeze({ version: 2, rows: [first.rows[0]!, { seats: [seat(3, 'held')] }] });
    expect(jsonOf(second)).to.equal(JSON.stringify(second));
    expect(jsonOf(first), 'the first is unchanged').to.equal(JSON.stringify(first));
    expect(bytesOf(second.rows[0]), 'the shared row is kept once').to.equal(bytesOf(first.rows[0]));
  });

  it('when a member nests a value JSON.stringify leaves out or writes as null, should do the same inside kept parts', () => {
    const value = deepFreeze({ a: [undefined, { b: undefined, c: [() => 1] }], d: { e: undefined } });
    expect(jsonOf(value)).to.equal(JSON.stringify(value));
    expect(bytesOf(undefined), 'nothing to write').to.equal(undefined);
    const list: unknown[] = new Array(3); // a hole at index 1
    list[0] = 1;
    list[2] = { x: 1 };
    const holes = deepFreeze({ list, none: { toJSON: () => undefined }, kept: [{ toJSON: () => undefined }] });
    expect(jsonOf(holes), 'holes and a toJSON that gives nothing').to.equal(JSON.stringify(holes));
  });
});
