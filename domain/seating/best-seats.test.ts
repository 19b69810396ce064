import { expect } from 'chai';
import fc from 'fast-check';
import type { SeatCategory } from '../model/layout.js';
import {
  DEFAULT_SEATING_RULES,
  type BestRequest,
  type PlanRow,
  type PlanSeat,
  type SeatingRules,
} from '../model/seating.js';
import { bestSeats, orphansLeftBy, withDefaultCategory, type BestAnswer, type SeatGroup } from './best-seats.js';

const SEAT_CODES: Record<string, { category: SeatCategory; free: boolean }> = {
  '.': { category: 'standard', free: true },
  x: { category: 'standard', free: false },
  V: { category: 'vip', free: true },
  v: { category: 'vip', free: false },
  D: { category: 'double', free: true },
  d: { category: 'double', free: false },
  W: { category: 'wheelchair', free: true },
  w: { category: 'wheelchair', free: false },
};

/**
 * A hall drawn as text, one string a row from the front (rows A, B, … at y 0, 1, …): '.' a free
 * standard seat, 'x' a taken one; V/v vip, D/d double, W/w wheelchair likewise; ' ' an aisle one
 * position wide. Seat n of row i (from 0) has id (i + 1) * 100 + n.
 */
function hall(...drawing: string[]): PlanRow[] {
  return drawing.map((text, rowIndex) => {
    const seats: PlanSeat[] = [];
    let x = 0;
    for (const code of text) {
      if (code !== ' ') {
        const { category, free } = SEAT_CODES[code]!;
        const number = seats.length + 1;
        const width = category === 'double' ? 2 : 1;
        seats.push({ id: (rowIndex + 1) * 100 + number, number, x, width, category, free });
        x += width;
      } else x += 1;
    }
    return { label: String.fromCharCode(65 + rowIndex), y: rowIndex, seats };
  });
}

const rules = (overrides: Partial<SeatingRules> = {}): SeatingRules => ({ ...DEFAULT_SEATING_RULES, ...overrides });

function together(answer: BestAnswer): SeatGroup {
  if (answer.rule !== 'together-no-orphan' && answer.rule !== 'together')
    return expect.fail(`expected seats together, got ${answer.rule}: ${answer.explanation}`);
  return answer.group;
}

describe('best seats, by example', () => {
  it('when a 20×20 hall is empty and 4 people ask, should seat them in the middle of the focal row', () => {
    const rows = hall(...Array.from({ length: 20 }, () => '.'.repeat(20)));
    const answer = bestSeats(rows, { count: 4 }, DEFAULT_SEATING_RULES);
    // The focal row is 0.6 of the way back: y 11.4, so row L (y 11), 0.4 rows away, dead centre.
    expect(answer).to.deep.include({ rule: 'together-no-orphan' });
    expect(together(answer)).to.deep.equal({
      row: 'L',
      seatIds: [1209, 1210, 1211, 1212],
      seatNumbers: [9, 10, 11, 12],
      score: 0.4,
    });
    expect(answer.explanation).to.equal(
      "Row L, seats 9-12: the closest group to the hall's focal point that leaves no single seat stranded (score 0.4)",
    );
  });

  it('when the hall is full, should answer none', () => {
    const answer = bestSeats(hall('xxxx', 'xdxw'), { count: 2 }, DEFAULT_SEATING_RULES);
    expect(answer.rule).to.equal('none');
    expect(answer.explanation).to.equal(
      'Not enough free seats: room for 0 of 2 people among the seats that fit the request',
    );
  });

  it('when there are no rows, rows without seats or a single row, should answer without throwing', () => {
    expect(bestSeats([], { count: 1 }, DEFAULT_SEATING_RULES).rule).to.equal('none');
    expect(bestSeats([{ label: 'A', y: 0, seats: [] }], { count: 3 }, DEFAULT_SEATING_RULES).rule).to.equal('none');
    const single = bestSeats(hall('xx...'), { count: 3 }, DEFAULT_SEATING_RULES);
    // Alone in its row, the row is the focal row: the score is the distance from the centre only.
    expect(together(single)).to.deep.include({ seatNumbers: [3, 4, 5], score: 1 });
  });

  it('when no group fits anywhere, should offer the best splits over one row or neighbouring rows, best first', () => {
    const answer = bestSeats(hall('xx..xx..xx', 'xxx..xxxxx'), { count: 4 }, DEFAULT_SEATING_RULES);
    if (answer.rule !== 'split') return expect.fail(`expected a split, got ${answer.rule}`);
    // Focal y 0.6: row A is 0.6 away, row B 0.4. A's pairs are 2 from its centre (5), B's 1 from its
    // centre; a split adds the distance between the two pairs' centres.
    expect(answer.options.map((option) => [option.groups.map((group) => group.seatIds), option.score])).to.deep.equal([
      [
        [
          [103, 104],
          [204, 205],
        ],
        5,
      ],
      [
        [
          [107, 108],
          [204, 205],
        ],
        7,
      ],
      [
        [
          [103, 104],
          [107, 108],
        ],
        9.2,
      ],
    ]);
    expect(answer.explanation).to.equal(
      'No place for 4 people together; the best split is row A, seats 3-4 with row B, seats 4-5 (score 5)',
    );
  });

  it('when splits tie, should list the ones nearest the front first, even from rows far from the focal row', () => {
    // The focal row is D; four pairs of single seats score 5, the one in rows A and B among them.
    const answer = bestSeats(hall('.x.xx', '.x.x.', 'xxx.x', 'x.xx.'), { count: 2 }, rules({ focalDepth: 1 }));
    if (answer.rule !== 'split') return expect.fail(`expected a split, got ${answer.rule}`);
    expect(
      answer.options.map((option) => [option.groups.flatMap((group) => group.seatIds), option.score]),
    ).to.deep.equal([
      [[103, 203], 5],
      [[203, 304], 5],
      [[304, 402], 5],
    ]);
  });

  it('when two free seats are in rows with a row between them, should not split across it', () => {
    expect(bestSeats(hall('x.x', 'xxx', 'x.x'), { count: 2 }, DEFAULT_SEATING_RULES).rule).to.equal('none');
    expect(bestSeats(hall('x.x', 'x.x', 'xxx'), { count: 2 }, DEFAULT_SEATING_RULES).rule).to.equal('split');
  });

  it('when one person asks and no seat is free, should answer none and never a split', () => {
    expect(bestSeats(hall('xxx'), { count: 1 }, DEFAULT_SEATING_RULES).rule).to.equal('none');
  });

  it('when seats are double, should count each as two people', () => {
    const rows = hall('..DD..');
    expect(
      together(bestSeats(rows, { count: 4, category: 'double' }, DEFAULT_SEATING_RULES)).seatNumbers,
    ).to.deep.equal([3, 4]);
    expect(together(bestSeats(rows, { count: 3 }, DEFAULT_SEATING_RULES)).seatNumbers).to.have.length(2);
    // Doubles alone can seat only an even number of people, even split into two groups.
    expect(bestSeats(rows, { count: 3, category: 'double' }, DEFAULT_SEATING_RULES).rule).to.equal('none');
  });

  it('when a request is not accessible, should never choose a wheelchair space; when it is, should include one', () => {
    const rows = hall('W..', 'WW');
    expect(together(bestSeats(rows, { count: 2 }, DEFAULT_SEATING_RULES)).seatIds).to.deep.equal([102, 103]);
    expect(together(bestSeats(rows, { count: 2, accessible: true }, DEFAULT_SEATING_RULES)).seatIds).to.deep.equal([
      201, 202,
    ]);
    expect(bestSeats(hall('WW'), { count: 2 }, DEFAULT_SEATING_RULES).rule).to.equal('none');
    // The vip pair next to the standard seat has no wheelchair space; the vip seat next to one does.
    expect(
      together(bestSeats(hall('VV.VW'), { count: 2, category: 'vip', accessible: true }, DEFAULT_SEATING_RULES))
        .seatIds,
    ).to.deep.equal([104, 105]);
  });

  it('when an aisle splits a row, should not seat a group across it', () => {
    const answer = bestSeats(hall('.. ..'), { count: 4 }, DEFAULT_SEATING_RULES);
    if (answer.rule !== 'split') return expect.fail(`expected a split, got ${answer.rule}`);
    expect(answer.options.map((option) => option.groups.map((group) => group.seatNumbers))).to.deep.equal([
      [
        [1, 2],
        [3, 4],
      ],
    ]);
    expect(together(bestSeats(hall('... ..'), { count: 3 }, DEFAULT_SEATING_RULES)).seatNumbers).to.deep.equal([
      1, 2, 3,
    ]);
  });

  it('when a free run of 5 is the only place for 4, should still seat them together, leaving a seat stranded', () => {
    const answer = bestSeats(hall('.....', 'xxxxx'), { count: 4 }, DEFAULT_SEATING_RULES);
    expect(answer.rule).to.equal('together');
    expect(answer.explanation).to.match(/every place for 4 people together leaves a single seat stranded/);
  });

  it('when the hall refuses orphans and every place strands a seat, should offer splits instead of stranding one', () => {
    const answer = bestSeats(hall('.....', 'xxxxx'), { count: 4 }, rules({ refuseOrphans: true }));
    expect(answer.rule).to.equal('split');
  });

  it('when the seat a group would leave alone is a wheelchair space, should not count it as stranded', () => {
    const answer = bestSeats(hall('W....', 'xxxxx'), { count: 4 }, DEFAULT_SEATING_RULES);
    expect(answer.rule).to.equal('together-no-orphan');
    expect(together(answer).seatNumbers).to.deep.equal([2, 3, 4, 5]);
  });

  it('when a request names no category, should mean the standard seats of a hall that has any, else any seat', () => {
    // Row A: standard seats; row B, nearer the focal point: vip and double seats.
    const mixed = hall('....', 'VVDD');
    expect(withDefaultCategory(mixed, { count: 2 })).to.deep.equal({ count: 2, category: 'standard' });
    expect(withDefaultCategory(mixed, { count: 2, category: 'vip' })).to.deep.equal({ count: 2, category: 'vip' });
    expect(withDefaultCategory(hall('VVDD'), { count: 2 })).to.deep.equal({ count: 2 });
  });

  it('when two rows are as good, should choose the one in front; in one row, the group on the left', () => {
    const answer = bestSeats(hall('x..x..x', 'x..x..x'), { count: 2 }, rules({ focalDepth: 0.5 }));
    expect(together(answer).seatIds).to.deep.equal([102, 103]);
  });

  it('when a free run of 6 takes 4, should prefer an end of it to the centre that strands a seat on each side', () => {
    const answer = bestSeats(hall('......'), { count: 4 }, DEFAULT_SEATING_RULES);
    expect(answer.rule).to.equal('together-no-orphan');
    // Both ends are 1 from the centre; the tie goes to the left.
    expect(together(answer).seatNumbers).to.deep.equal([1, 2, 3, 4]);
  });
});

describe('orphans left by explicit seats, by example', () => {
  it('when taking a seat leaves its neighbour alone, should report the neighbour', () => {
    expect(orphansLeftBy(hall('.....'), [102])).to.deep.equal([101]);
    expect(orphansLeftBy(hall('.....'), [101, 102])).to.deep.equal([]);
    expect(orphansLeftBy(hall('.....'), [102, 104])).to.deep.equal([101, 103, 105]);
  });

  it('when a seat was alone already, should not blame the order for it', () => {
    expect(orphansLeftBy(hall('.x...'), [103])).to.deep.equal([]);
  });

  it('when the seat left is a wheelchair space, should not count it as an orphan', () => {
    expect(orphansLeftBy(hall('W..'), [102])).to.deep.equal([103]);
  });

  it('when the seat left is a double, should not count it as an orphan', () => {
    expect(orphansLeftBy(hall('D..'), [102])).to.deep.equal([103]);
  });

  it('when a seat is across an aisle or unknown, should not count it', () => {
    expect(orphansLeftBy(hall('.. ..'), [102, 999])).to.deep.equal([101]);
    expect(orphansLeftBy(hall('. ..'), [102])).to.deep.equal([103]);
  });
});

// The brute-force oracles: every window of every row, read from the module's contract, not its code.

const capacityOf = (seat: PlanSeat) => (seat.category === 'double' ? 2 : 1);
const areNeighbours = (left: PlanSeat, right: PlanSeat) => right.x === left.x + left.width;
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

function fits(seat: PlanSeat, { category, accessible }: BestRequest): boolean {
  if (!seat.free) return false;
  if (category !== undefined)
    return seat.category === category || (accessible === true && seat.category === 'wheelchair');
  return seat.category !== 'wheelchair' || accessible === true;
}

type Candidate = { row: PlanRow; seats: PlanSeat[]; centre: number; score: number; orphan: boolean };

function focalYOf(rows: PlanRow[], { focalDepth }: SeatingRules): number {
  const ys = rows.map((row) => row.y);
  return Math.min(...ys) + focalDepth * (Math.max(...ys) - Math.min(...ys));
}

/** The free capacity next to seats[from] and onwards in `step` direction, up to an aisle or a seat not free. */
function freeCapacityBeside(seats: PlanSeat[], from: number, step: 1 | -1): number {
  let total = 0;
  for (let index = from + step; index >= 0 && index < seats.length; index += step) {
    const [left, right] = step === 1 ? [seats[index - 1]!, seats[index]!] : [seats[index]!, seats[index + 1]!];
    if (!seats[index]!.free || !areNeighbours(left, right)) break;
    total += capacityOf(seats[index]!);
  }
  return total;
}

/** Every run of neighbouring seats that fit the request with exactly `capacity`, in any row. */
function windows(rows: PlanRow[], request: BestRequest, rules: SeatingRules, capacity: number): Candidate[] {
  const focalY = focalYOf(rows, rules);
  const found: Candidate[] = [];
  for (const row of rows) {
    const all = row.seats;
    if (all.length === 0) continue;
    const rowCentre = (all[0]!.x + all.at(-1)!.x + all.at(-1)!.width) / 2;
    for (let first = 0; first < all.length; first += 1) {
      for (let last = first; last < all.length; last += 1) {
        const seats = all.slice(first, last + 1);
        const contiguous = seats.every((seat, index) => index === 0 || areNeighbours(seats[index - 1]!, seat));
        if (!contiguous || !seats.every((seat) => fits(seat, request))) break;
        if (sum(seats.map(capacityOf)) !== capacity) continue;
        const centre = (seats[0]!.x + seats.at(-1)!.x + seats.at(-1)!.width) / 2;
        const score = rules.rowWeight * Math.abs(row.y - focalY) + Math.abs(centre - rowCentre);
        const strands = (beside: number, step: 1 | -1) =>
          freeCapacityBeside(all, beside, step) === 1 && all[beside + step]!.category !== 'wheelchair';
        const orphan = strands(first, -1) || strands(last, 1);
        found.push({ row, seats, centre, score, orphan });
      }
    }
  }
  return found;
}

const hasWheelchair = (seats: PlanSeat[]) => seats.some((seat) => seat.category === 'wheelchair');

function groupsFor(rows: PlanRow[], request: BestRequest, rules: SeatingRules): Candidate[] {
  return windows(rows, request, rules, request.count).filter(
    (candidate) => !request.accessible || hasWheelchair(candidate.seats),
  );
}

/** Lower y, then lower x of the first seat. */
const byPlace = (a: Candidate, b: Candidate) => a.row.y - b.row.y || a.seats[0]!.x - b.seats[0]!.x;
const byScore = (a: Candidate, b: Candidate) => a.score - b.score || byPlace(a, b);

type SplitCandidate = { parts: [Candidate, Candidate]; score: number };

function splitsFor(rows: PlanRow[], request: BestRequest, rules: SeatingRules): SplitCandidate[] {
  const { count } = request;
  const ys = rows.map((row) => row.y).sort((a, b) => a - b);
  const parts = Array.from({ length: count - 1 }, (_, index) => windows(rows, request, rules, index + 1)).flat();
  const splits: SplitCandidate[] = [];
  for (const one of parts) {
    for (const other of parts) {
      const capacities = sum(one.seats.map(capacityOf)) + sum(other.seats.map(capacityOf));
      if (capacities !== count) continue;
      if (Math.abs(ys.indexOf(one.row.y) - ys.indexOf(other.row.y)) > 1) continue;
      if (one.seats.some((seat) => other.seats.includes(seat))) continue;
      if (request.accessible && !hasWheelchair([...one.seats, ...other.seats])) continue;
      // Each pair comes twice; the one listing its groups in (y, x) order is the option.
      if (byPlace(one, other) > 0) continue;
      splits.push({ parts: [one, other], score: one.score + other.score + Math.abs(one.centre - other.centre) });
    }
  }
  return splits.sort((a, b) => a.score - b.score || byPlace(a.parts[0], b.parts[0]) || byPlace(a.parts[1], b.parts[1]));
}

function orphansOracle(rows: PlanRow[], seatIds: number[]): number[] {
  const taken = new Set(seatIds);
  const runs = (row: PlanRow, free: (seat: PlanSeat) => boolean) => {
    const found: PlanSeat[][] = [];
    row.seats.forEach((seat, index) => {
      if (!free(seat)) return;
      const previous = row.seats[index - 1];
      if (previous && free(previous) && areNeighbours(previous, seat)) found.at(-1)!.push(seat);
      else found.push([seat]);
    });
    return found;
  };
  const orphans: number[] = [];
  for (const row of rows) {
    const before = runs(row, (seat) => seat.free);
    const after = runs(row, (seat) => seat.free && !taken.has(seat.id));
    for (const run of after) {
      if (sum(run.map(capacityOf)) !== 1 || run[0]!.category === 'wheelchair') continue;
      const [seat] = run as [PlanSeat];
      const index = row.seats.indexOf(seat);
      const left = row.seats[index - 1];
      const right = row.seats[index + 1];
      const besideTaken =
        (left !== undefined && taken.has(left.id) && areNeighbours(left, seat)) ||
        (right !== undefined && taken.has(right.id) && areNeighbours(seat, right));
      const aloneBefore = before.some((old) => old.includes(seat) && sum(old.map(capacityOf)) === 1);
      if (besideTaken && !aloneBefore) orphans.push(seat.id);
    }
  }
  return orphans.sort((a, b) => a - b);
}

// Random halls: mostly standard seats with vip, double and wheelchair among them, aisles of 1-3
// positions, and occupancy from empty through fragmented to full.

const categoryArbitrary = fc.oneof(
  { weight: 6, arbitrary: fc.constant<SeatCategory>('standard') },
  { weight: 2, arbitrary: fc.constant<SeatCategory>('vip') },
  { weight: 2, arbitrary: fc.constant<SeatCategory>('double') },
  { weight: 1, arbitrary: fc.constant<SeatCategory>('wheelchair') },
);
const seatArbitrary = fc.record({
  category: categoryArbitrary,
  aisle: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }),
  roll: fc.integer({ min: 0, max: 99 }),
});
// A row may repeat the one before it, seats and occupancy alike, as real halls do: with round focal
// depths that makes rows as good as each other, so the tie-breaks get exercised.
const hallArbitrary = fc
  .record({
    rows: fc.uniqueArray(
      fc.record({
        y: fc.integer({ min: -20, max: 40 }).map((half) => half / 2),
        startX: fc.integer({ min: 0, max: 4 }),
        seats: fc.array(seatArbitrary, { minLength: 1, maxLength: 25 }),
        repeatsPrevious: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, fc.constant(true)),
      }),
      { minLength: 1, maxLength: 12, selector: (row) => row.y },
    ),
    takenPercent: fc.constantFrom(0, 0, 5, 20, 35, 50, 50, 65, 80, 95, 100),
  })
  .map(({ rows, takenPercent }): PlanRow[] => {
    let id = 0;
    let previous = rows[0]!;
    return rows.map((row, rowIndex) => {
      const { startX, seats } = row.repeatsPrevious ? previous : row;
      previous = { ...row, startX, seats };
      let x = startX;
      return {
        label: `R${rowIndex}`,
        y: row.y,
        seats: seats.map(({ category, aisle, roll }, index) => {
          x += index === 0 ? 0 : aisle;
          id += 1;
          const seat = {
            id,
            number: index + 1,
            x,
            width: capacityOf({ category } as PlanSeat),
            category,
            free: roll >= takenPercent,
          };
          x += seat.width;
          return seat;
        }),
      };
    });
  });
// Mostly small parties and plain requests, as at a box office; a category or accessibility narrows the
// eligible seats enough to reach the split and none rungs often.
const requestArbitrary = fc.record({
  count: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 4 }) }, fc.integer({ min: 5, max: 10 })),
  category: fc.constantFrom(undefined, undefined, undefined, 'standard' as const, 'vip' as const, 'double' as const),
  accessible: fc.constantFrom(undefined, false, false, true),
});
// Round depths put the focal point halfway between rows often enough to test the tie to the front.
const rulesArbitrary = fc.record({
  focalDepth: fc.oneof(fc.constantFrom(0, 0.25, 0.5, 0.75, 1), fc.double({ min: 0, max: 1, noNaN: true })),
  rowWeight: fc.double({ min: 0.1, max: 5, noNaN: true }),
  refuseOrphans: fc.boolean(),
});
const caseArbitrary = fc.record({ rows: hallArbitrary, request: requestArbitrary, rules: rulesArbitrary });

const NUM_RUNS = 1000;

/** Where each seat id is: its row, its index in the row and the seat. */
function seatIndex(rows: PlanRow[]): Map<number, { row: PlanRow; index: number; seat: PlanSeat }> {
  return new Map(rows.flatMap((row) => row.seats.map((seat, index) => [seat.id, { row, index, seat }] as const)));
}

/** Asserts `group` is a run of neighbouring seats of one row that fit `request`; answers its capacity. */
function expectGroupInOneRow(rows: PlanRow[], group: SeatGroup, request: BestRequest): number {
  const where = seatIndex(rows);
  expect(group.seatIds).to.not.be.empty;
  expect(
    group.seatIds.filter((id) => !where.has(id)),
    'seats that do not exist',
  ).to.deep.equal([]);
  const places = group.seatIds.map((id) => where.get(id)!);
  const { row, index: firstIndex } = places[0]!;
  expect(group.row).to.equal(row.label);
  places.forEach((place, offset) => {
    expect(place.row, 'one row').to.equal(row);
    expect(place.index, 'consecutive').to.equal(firstIndex + offset);
    expect(fits(place.seat, request), `seat ${place.seat.id} is free and fits`).to.equal(true);
    if (offset > 0) expect(areNeighbours(places[offset - 1]!.seat, place.seat), 'no aisle crossed').to.equal(true);
  });
  expect(group.seatNumbers).to.deep.equal(places.map((place) => place.seat.number));
  return sum(places.map((place) => capacityOf(place.seat)));
}

const idsOf = (candidate: Candidate) => candidate.seats.map((seat) => seat.id);
const seatsIn = (rows: PlanRow[], groups: SeatGroup[]) =>
  rows.flatMap((row) => row.seats).filter((seat) => groups.some((group) => group.seatIds.includes(seat.id)));

describe('best seats, for any hall and request', () => {
  it('when seats are suggested, should suggest free seats that fit the request, exactly the people asked, no group across an aisle', () => {
    fc.assert(
      fc.property(caseArbitrary, ({ rows, request, rules }) => {
        const answer = bestSeats(rows, request, rules);
        if (answer.rule === 'together-no-orphan' || answer.rule === 'together') {
          expect(expectGroupInOneRow(rows, answer.group, request)).to.equal(request.count);
          if (request.accessible) expect(hasWheelchair(seatsIn(rows, [answer.group]))).to.equal(true);
        }
        if (answer.rule === 'split') {
          for (const group of answer.options.flatMap((option) => option.groups))
            expectGroupInOneRow(rows, group, request);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('when a group leaves no orphan, should seat people together by rule 1; with only orphaning groups, by rule 2; split or none only without any group', () => {
    fc.assert(
      fc.property(caseArbitrary, ({ rows, request, rules }) => {
        const answer = bestSeats(rows, request, rules);
        const groups = groupsFor(rows, request, rules);
        const expected = groups.some((group) => !group.orphan)
          ? ['together-no-orphan']
          : groups.length > 0 && !rules.refuseOrphans
            ? ['together']
            : ['split', 'none'];
        expect(answer.rule).to.be.oneOf(expected);
        if (answer.rule === 'together-no-orphan') expect(orphansLeftBy(rows, answer.group.seatIds)).to.deep.equal([]);
        if (answer.rule === 'together') expect(orphansLeftBy(rows, answer.group.seatIds)).to.not.deep.equal([]);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('when a group is chosen, should be the best scored of its rule, ties to the lower y, then the lower x', () => {
    fc.assert(
      fc.property(caseArbitrary, ({ rows, request, rules }) => {
        const answer = bestSeats(rows, request, rules);
        if (answer.rule !== 'together-no-orphan' && answer.rule !== 'together') return;
        const candidates = groupsFor(rows, request, rules).filter(
          (group) => answer.rule === 'together' || !group.orphan,
        );
        const best = candidates.sort(byScore)[0]!;
        expect(answer.group.seatIds).to.deep.equal(idsOf(best));
        expect(answer.group.score).to.equal(Math.round(best.score * 100) / 100);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('when no group fits, should offer the three best splits over one row or neighbouring rows, or none only when no split exists', () => {
    fc.assert(
      fc.property(caseArbitrary, ({ rows, request, rules }) => {
        const answer = bestSeats(rows, request, rules);
        if (answer.rule !== 'split' && answer.rule !== 'none') return;
        const splits = request.count > 1 ? splitsFor(rows, request, rules).slice(0, 3) : [];
        if (answer.rule === 'none') {
          expect(splits).to.deep.equal([]);
          return;
        }
        expect(answer.options.map((option) => option.groups.map((group) => group.seatIds))).to.deep.equal(
          splits.map((split) => split.parts.map(idsOf)),
        );
        expect(answer.options.map((option) => option.score)).to.deep.equal(
          splits.map((split) => Math.round(split.score * 100) / 100),
        );
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('when seats are split, should make each option two disjoint groups for exactly the people asked, in one row or neighbouring rows, with a wheelchair space when asked, best first', () => {
    fc.assert(
      fc.property(caseArbitrary, ({ rows, request, rules }) => {
        const answer = bestSeats(rows, request, rules);
        if (answer.rule !== 'split') return;
        const ys = rows.map((row) => row.y).sort((a, b) => a - b);
        const yOf = new Map(rows.map((row) => [row.label, row.y]));
        expect(answer.options).to.have.length.within(1, 3);
        for (const { groups } of answer.options) {
          expect(groups).to.have.length(2);
          const [one, other] = groups as [SeatGroup, SeatGroup];
          expect(expectGroupInOneRow(rows, one, request) + expectGroupInOneRow(rows, other, request)).to.equal(
            request.count,
          );
          expect(one.seatIds.filter((id) => other.seatIds.includes(id))).to.deep.equal([]);
          expect(Math.abs(ys.indexOf(yOf.get(one.row)!) - ys.indexOf(yOf.get(other.row)!))).to.be.at.most(1);
          if (request.accessible) expect(hasWheelchair(seatsIn(rows, groups))).to.equal(true);
        }
        const scores = answer.options.map((option) => option.score);
        expect(scores).to.deep.equal([...scores].sort((a, b) => a - b));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('when explicit seats are taken, should report exactly the seats they newly leave alone', () => {
    fc.assert(
      fc.property(
        hallArbitrary.chain((rows) =>
          fc.tuple(
            fc.constant(rows),
            fc.subarray(rows.flatMap((row) => row.seats.map((seat) => seat.id))),
            fc.array(fc.integer({ min: 10_000, max: 10_010 }), { maxLength: 2 }),
          ),
        ),
        ([rows, seatIds, unknownIds]) => {
          const order = [...seatIds, ...unknownIds];
          expect(orphansLeftBy(rows, order)).to.deep.equal(orphansOracle(rows, order));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
