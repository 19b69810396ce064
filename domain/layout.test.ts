import { expect } from 'chai';
import { DomainError } from './errors.js';
import { countSeats, MAX_SEATS_PER_HALL, normalizeLayout, seatWidth, type LayoutInput } from './layout.js';

function problemsOf(input: LayoutInput): { in: string; path: string; message: string }[] {
  try {
    normalizeLayout(input);
  } catch (error) {
    expect(error).to.be.instanceOf(DomainError);
    expect((error as DomainError).code).to.equal('INVALID_LAYOUT');
    return (error as DomainError).details as { in: string; path: string; message: string }[];
  }
  return expect.fail('expected the layout to be refused');
}

const seats = (...numbers: number[]) => numbers.map((number) => ({ number }));

describe('layout normalisation', () => {
  it('when a seat category is double, should make it two positions wide and every other one', () => {
    expect(seatWidth('double')).to.equal(2);
    expect(seatWidth('standard')).to.equal(1);
    expect(seatWidth('vip')).to.equal(1);
    expect(seatWidth('wheelchair')).to.equal(1);
  });

  it('when seats have no x, should place each right after the previous one, counting double widths', () => {
    const [row] = normalizeLayout({
      rows: [
        {
          label: 'A',
          seats: [{ number: 1 }, { number: 2, category: 'double' }, { number: 3 }, { number: 4, category: 'vip' }],
        },
      ],
    });
    expect(row!.seats).to.deep.equal([
      { number: 1, x: 0, width: 1, category: 'standard' },
      { number: 2, x: 1, width: 2, category: 'double' },
      { number: 3, x: 3, width: 1, category: 'standard' },
      { number: 4, x: 4, width: 1, category: 'vip' },
    ]);
  });

  it('when an x marks an aisle, should continue the following seats from it', () => {
    const [row] = normalizeLayout({
      rows: [{ label: 'A', seats: [{ number: 1 }, { number: 2, x: 3 }, { number: 3 }] }],
    });
    expect(row!.seats.map((seat) => seat.x)).to.deep.equal([0, 3, 4]);
  });

  it('when seats are given right to left, should answer them sorted by x', () => {
    const [row] = normalizeLayout({
      rows: [
        {
          label: 'A',
          seats: [
            { number: 3, x: 2 },
            { number: 2, x: 1 },
            { number: 1, x: 0 },
          ],
        },
      ],
    });
    expect(row!.seats.map((seat) => seat.number)).to.deep.equal([1, 2, 3]);
  });

  it('when rows have no y, should give each its index; with y, should sort rows by it', () => {
    expect(
      normalizeLayout({
        rows: [
          { label: 'A', seats: seats(1) },
          { label: 'B', seats: seats(1) },
        ],
      }).map((r) => [r.label, r.y]),
    ).to.deep.equal([
      ['A', 0],
      ['B', 1],
    ]);
    const sorted = normalizeLayout({
      rows: [
        { label: 'Far', y: 9, seats: seats(1) },
        { label: 'Near', y: 1, seats: seats(1) },
        { label: 'Mid', y: 4, seats: seats(1) },
      ],
    });
    expect(sorted.map((row) => row.label)).to.deep.equal(['Near', 'Mid', 'Far']);
  });

  it('when seats exactly touch, including after a double seat, should accept them', () => {
    const [row] = normalizeLayout({
      rows: [
        {
          label: 'A',
          seats: [
            { number: 1, category: 'double', x: 0 },
            { number: 2, x: 2 },
          ],
        },
      ],
    });
    expect(row!.seats.map((seat) => [seat.x, seat.width])).to.deep.equal([
      [0, 2],
      [2, 1],
    ]);
  });

  it('when a row label repeats, should name the later row', () => {
    expect(
      problemsOf({
        rows: [
          { label: 'A', seats: seats(1) },
          { label: 'A', seats: seats(1) },
        ],
      }),
    ).to.deep.equal([{ in: 'body', path: 'layout.rows.1.label', message: 'row label "A" repeats' }]);
  });

  it('when a y repeats, should name the later row', () => {
    expect(
      problemsOf({
        rows: [
          { label: 'A', y: 2, seats: seats(1) },
          { label: 'B', y: 2, seats: seats(1) },
        ],
      }),
    ).to.deep.equal([{ in: 'body', path: 'layout.rows.1.y', message: 'another row is already at y=2' }]);
  });

  it('when a seat number repeats within a row, should name the later seat', () => {
    expect(problemsOf({ rows: [{ label: 'A', seats: seats(4, 5, 4) }] })).to.deep.equal([
      { in: 'body', path: 'layout.rows.0.seats.2.number', message: 'seat number 4 repeats in row "A"' },
    ]);
  });

  it('when a double seat covers the position of the next seat, should report the overlap', () => {
    expect(
      problemsOf({
        rows: [
          {
            label: 'A',
            seats: [
              { number: 1, category: 'double' },
              { number: 2, x: 1 },
            ],
          },
        ],
      }),
    ).to.deep.equal([{ in: 'body', path: 'layout.rows.0.seats', message: 'seats 1 and 2 of row "A" overlap at x=1' }]);
  });

  it('when an explicit x lands on an earlier seat, should report the overlap', () => {
    const problems = problemsOf({ rows: [{ label: 'A', seats: [{ number: 1 }, { number: 2 }, { number: 3, x: 0 }] }] });
    expect(problems).to.have.length(1);
    expect(problems[0]!.path).to.deep.equal('layout.rows.0.seats');
    expect(problems[0]!.message).to.contain('overlap at x=0');
  });

  it('when rows have no seats, should refuse a hall without any', () => {
    expect(problemsOf({ rows: [{ label: 'A', seats: [] }] })).to.deep.equal([
      { in: 'body', path: 'layout.rows', message: 'a hall needs at least one seat' },
    ]);
  });

  it(`when a layout has ${MAX_SEATS_PER_HALL} seats it should pass, and one more should be refused`, () => {
    const rows = (total: number) =>
      Array.from({ length: Math.ceil(total / 500) }, (_, index) => ({
        label: `R${index}`,
        seats: seats(...Array.from({ length: Math.min(500, total - index * 500) }, (_, s) => s + 1)),
      }));
    expect(countSeats(normalizeLayout({ rows: rows(MAX_SEATS_PER_HALL) }))).to.equal(MAX_SEATS_PER_HALL);
    expect(problemsOf({ rows: rows(MAX_SEATS_PER_HALL + 1) })).to.deep.equal([
      { in: 'body', path: 'layout.rows', message: `at most ${MAX_SEATS_PER_HALL} seats per hall` },
    ]);
  });

  it('when seats are counted, should add up the seats of every row', () => {
    expect(countSeats([{ seats: [1, 2] }, { seats: [] }, { seats: [3, 4, 5] }])).to.equal(5);
  });
});
