import type { BestRequest, PlanRow, PlanSeat, SeatingRules } from '../model/seating.js';

/**
 * "Best available seats": N people seated together, the way seating-chart products choose them.
 *
 * The contract, in the terms the functions below use:
 * - Capacity: a 'double' seat holds 2 people, every other seat 1. A request's `count` is people, and a
 *   group's capacity equals it exactly.
 * - Neighbours: two seats of one row are neighbours when the second's x is the first's x + width; a jump
 *   in x is an aisle or a gap, and no group crosses one. Groups are always within one row.
 * - Eligible seat: free, and of the requested category (any but 'wheelchair' when none is requested);
 *   a wheelchair space is eligible only for an accessible request, which needs at least one in its group.
 * - Group: consecutive neighbouring eligible seats of one row whose capacity is `count`.
 * - Free run: a maximal run of neighbouring free seats of a row, of any category.
 * - Orphan: a group placed in its free run leaves the free seats before and after it in that run; it
 *   leaves an orphan when either side holds exactly one person, unless that one seat is a wheelchair
 *   space (sold on its own).
 * - Score, lower is better: the focal row is at focalY = minY + focalDepth * (maxY - minY) over the y of
 *   every row (with or without seats). A row's centre spans all its seats, free or not; a group's centre
 *   spans its seats: (first x + last x + last width) / 2. Score = rowWeight * |row y - focalY| +
 *   |group centre - row centre|; ties go to the lower y, then the lower x of the group's first seat.
 * - The ladder: 'together-no-orphan', the best group leaving no orphan; else 'together', the best group
 *   (skipped when the hall's rules refuse orphans); else 'split', never silently: up to 3 options of exactly two disjoint groups (any capacities adding up
 *   to `count`), in one row or in two rows next to each other in y order (empty rows count), scored as
 *   the two groups' scores + the distance between their centres; an accessible split needs a wheelchair
 *   space in either group, and orphans are not considered. A split option lists its groups by y, then x;
 *   options tie on their groups' (y, x) in that order. One person is never split. Else 'none'.
 * Reported scores are rounded to 2 decimals; every comparison uses the exact value.
 */

export type SeatGroup = { row: string; seatIds: number[]; seatNumbers: number[]; score: number };
export type SplitOption = { groups: SeatGroup[]; score: number };
export type BestAnswer =
  | { rule: 'together-no-orphan' | 'together'; group: SeatGroup; explanation: string }
  /** `options`: 1 to 3, best first. */
  | { rule: 'split'; options: SplitOption[]; explanation: string }
  | { rule: 'none'; explanation: string };

const MAX_SPLIT_OPTIONS = 3;

function seatCapacity(seat: PlanSeat): number {
  return seat.category === 'double' ? 2 : 1;
}

function isEligible(seat: PlanSeat, request: BestRequest): boolean {
  if (!seat.free) return false;
  if (seat.category === 'wheelchair') return request.accessible === true;
  return request.category === undefined || seat.category === request.category;
}

function areNeighbours(left: PlanSeat, right: PlanSeat): boolean {
  return right.x === left.x + left.width;
}

function centreOf(first: PlanSeat, last: PlanSeat): number {
  return (first.x + last.x + last.width) / 2;
}

/** The index of the last seat of the free run that starts at seats[start]. */
function freeRunEnd(seats: PlanSeat[], start: number): number {
  let end = start;
  while (end + 1 < seats.length && seats[end + 1]!.free && areNeighbours(seats[end]!, seats[end + 1]!)) end += 1;
  return end;
}

function capacityOf(seats: PlanSeat[], first: number, last: number): number {
  let capacity = 0;
  for (let index = first; index <= last; index += 1) capacity += seatCapacity(seats[index]!);
  return capacity;
}

/** The seats first..last (indices) of `row`, scored; kept as indices so the search allocates nothing. */
type Pick = { row: PlanRow | undefined; first: number; last: number; score: number };

const noPick = (): Pick => ({ row: undefined, first: -1, last: -1, score: Infinity });

function beats(score: number, row: PlanRow, first: number, pick: Pick): boolean {
  if (pick.row === undefined || score < pick.score) return true;
  if (score > pick.score) return false;
  if (row.y !== pick.row.y) return row.y < pick.row.y;
  return row.seats[first]!.x < pick.row.seats[pick.first]!.x;
}

function take(pick: Pick, score: number, row: PlanRow, first: number, last: number): void {
  pick.row = row;
  pick.first = first;
  pick.last = last;
  pick.score = score;
}

function focalYOf(rows: PlanRow[], rules: SeatingRules): number {
  let minY = Infinity;
  let maxY = -Infinity;
  for (const row of rows) {
    if (row.y < minY) minY = row.y;
    if (row.y > maxY) maxY = row.y;
  }
  return minY + rules.focalDepth * (maxY - minY);
}

/**
 * One pass over every free run with a window of eligible seats: capacities are positive, so each
 * start seat has at most one window of capacity `count`, and the window's end only moves right.
 */
function searchTogether(rows: PlanRow[], request: BestRequest, rules: SeatingRules, focalY: number) {
  const { count } = request;
  const accessible = request.accessible === true;
  const best = noPick();
  const bestWithoutOrphan = noPick();
  let eligibleCapacity = 0;
  for (const row of rows) {
    const seats = row.seats;
    const n = seats.length;
    if (n === 0) continue;
    const rowCentre = centreOf(seats[0]!, seats[n - 1]!);
    const rowDistance = rules.rowWeight * Math.abs(row.y - focalY);
    let runStart = 0;
    while (runStart < n) {
      if (!seats[runStart]!.free) {
        runStart += 1;
        continue;
      }
      const runEnd = freeRunEnd(seats, runStart);
      const runCapacity = capacityOf(seats, runStart, runEnd);

      // The window is seats first..end-1, all eligible; `before` is the run's capacity left of it.
      let end = runStart;
      let capacity = 0;
      let wheelchairs = 0;
      let before = 0;
      for (let first = runStart; first <= runEnd; first += 1) {
        if (end < first) {
          end = first;
          capacity = 0;
          wheelchairs = 0;
        }
        while (capacity < count && end <= runEnd && isEligible(seats[end]!, request)) {
          capacity += seatCapacity(seats[end]!);
          if (seats[end]!.category === 'wheelchair') wheelchairs += 1;
          end += 1;
        }
        if (capacity === count && (!accessible || wheelchairs > 0)) {
          const score = rowDistance + Math.abs(centreOf(seats[first]!, seats[end - 1]!) - rowCentre);
          if (beats(score, row, first, best)) take(best, score, row, first, end - 1);
          const after = runCapacity - before - count;
          // A side holding one person strands them; a lone wheelchair space is sold on its own.
          const strandsLeft = before === 1 && seats[first - 1]!.category !== 'wheelchair';
          const strandsRight = after === 1 && seats[end]!.category !== 'wheelchair';
          if (!strandsLeft && !strandsRight && beats(score, row, first, bestWithoutOrphan))
            take(bestWithoutOrphan, score, row, first, end - 1);
        }
        const seat = seats[first]!;
        if (end > first) {
          capacity -= seatCapacity(seat);
          if (seat.category === 'wheelchair') wheelchairs -= 1;
          eligibleCapacity += seatCapacity(seat);
        }
        before += seatCapacity(seat);
      }
      runStart = runEnd + 1;
    }
  }
  return { best, bestWithoutOrphan, eligibleCapacity };
}

const rounded = (score: number) => Math.round(score * 100) / 100;

function groupOf(row: PlanRow, first: number, last: number, score: number): SeatGroup {
  const seats = row.seats.slice(first, last + 1);
  return {
    row: row.label,
    seatIds: seats.map((seat) => seat.id),
    seatNumbers: seats.map((seat) => seat.number),
    score: rounded(score),
  };
}

/** "seats 7-10", or the numbers one by one where they do not follow each other. */
function seatsOf(group: SeatGroup): string {
  const numbers = group.seatNumbers;
  if (numbers.length === 1) return `seat ${numbers[0]}`;
  const consecutive = numbers.every((number, index) => index === 0 || number === numbers[index - 1]! + 1);
  return `seats ${consecutive ? `${numbers[0]}-${numbers.at(-1)}` : numbers.join(', ')}`;
}

/** A group for a split: any capacity below the request's, scored on its own. */
type Part = { row: PlanRow; first: number; last: number; centre: number; score: number; wheelchair: boolean };
type Split = { parts: [Part, Part]; score: number };

function inFrontOf(a: Part, b: Part): boolean {
  return a.row.y !== b.row.y ? a.row.y < b.row.y : a.row.seats[a.first]!.x < b.row.seats[b.first]!.x;
}

function splitBeats(candidate: Split, other: Split): boolean {
  if (candidate.score !== other.score) return candidate.score < other.score;
  for (const index of [0, 1] as const) {
    const a = candidate.parts[index];
    const b = other.parts[index];
    if (a.row !== b.row || a.first !== b.first) return inFrontOf(a, b);
  }
  return false;
}

/** Every group of each capacity 1..count-1 in `row`, by capacity (none: no list), each list best first. */
function partsOf(row: PlanRow, request: BestRequest, rowDistance: number): (Part[] | undefined)[] {
  const byCapacity: (Part[] | undefined)[] = [];
  const seats = row.seats;
  if (seats.length === 0) return byCapacity;
  const rowCentre = centreOf(seats[0]!, seats.at(-1)!);
  for (let first = 0; first < seats.length; first += 1) {
    let capacity = 0;
    let wheelchair = false;
    for (let last = first; last < seats.length; last += 1) {
      const seat = seats[last]!;
      if (!isEligible(seat, request) || (last > first && !areNeighbours(seats[last - 1]!, seat))) break;
      capacity += seatCapacity(seat);
      if (capacity >= request.count) break;
      wheelchair ||= seat.category === 'wheelchair';
      const centre = centreOf(seats[first]!, seat);
      const score = rowDistance + Math.abs(centre - rowCentre);
      (byCapacity[capacity] ??= []).push({ row, first, last, centre, score, wheelchair });
    }
  }
  for (const parts of byCapacity) parts?.sort((a, b) => a.score - b.score);
  return byCapacity;
}

/**
 * The best splits: pairs of rows (one row twice, or two neighbours) by their rows' distances from the
 * focal row, each row's groups by score, so that a pair whose scores alone exceed the third best option
 * ends the walk; a row's groups are listed only when a pair reaches it.
 */
function searchSplits(rows: PlanRow[], request: BestRequest, rules: SeatingRules, focalY: number): Split[] {
  const { count } = request;
  const accessible = request.accessible === true;
  const byY = [...rows].sort((a, b) => a.y - b.y);
  const distances = byY.map((row) => rules.rowWeight * Math.abs(row.y - focalY));
  const parts: (Part[] | undefined)[][] = [];
  const partsAt = (index: number) => (parts[index] ??= partsOf(byY[index]!, request, distances[index]!));
  const best: Split[] = [];
  const bar = () => (best.length < MAX_SPLIT_OPTIONS ? Infinity : best.at(-1)!.score);

  const consider = (one: Part, other: Part) => {
    if (one.row === other.row && !(one.last < other.first || other.last < one.first)) return;
    if (accessible && !one.wheelchair && !other.wheelchair) return;
    const [front, back] = inFrontOf(one, other) ? [one, other] : [other, one];
    const split: Split = {
      parts: [front, back],
      score: front.score + back.score + Math.abs(front.centre - back.centre),
    };
    if (best.length === MAX_SPLIT_OPTIONS && !splitBeats(split, best.at(-1)!)) return;
    const at = best.findIndex((option) => splitBeats(split, option));
    best.splice(at === -1 ? best.length : at, 0, split);
    best.length = Math.min(best.length, MAX_SPLIT_OPTIONS);
  };
  const pairUp = (ones: Part[] | undefined, others: Part[] | undefined, sameList: boolean) => {
    if (!ones || !others) return;
    for (let i = 0; i < ones.length; i += 1) {
      const one = ones[i]!;
      const from = sameList ? i + 1 : 0;
      if (from >= others.length || one.score + others[from]!.score > bar()) break;
      for (let j = from; j < others.length; j += 1) {
        const other = others[j]!;
        if (one.score + other.score > bar()) break;
        consider(one, other);
      }
    }
  };

  const rowPairs = byY
    .flatMap((_, index) =>
      index + 1 < byY.length ? [[index, index] as const, [index, index + 1] as const] : [[index, index] as const],
    )
    .map(([front, back]) => ({ front, back, bound: distances[front]! + distances[back]! }))
    .sort((a, b) => a.bound - b.bound);
  for (const { front, back, bound } of rowPairs) {
    if (bound > bar()) break;
    const ones = partsAt(front);
    const others = partsAt(back);
    for (let capacity = 1; capacity < count; capacity += 1) {
      const other = count - capacity;
      if (front !== back) pairUp(ones[capacity], others[other], false);
      else if (capacity >= other) pairUp(ones[capacity], ones[other], capacity === other);
    }
  }
  return best;
}

function splitOptionOf(split: Split): SplitOption {
  return {
    groups: split.parts.map((part) => groupOf(part.row, part.first, part.last, part.score)),
    score: rounded(split.score),
  };
}

/** Seats `request.count` people by the ladder in the module comment; never throws on an empty or full hall. */
export function bestSeats(rows: PlanRow[], request: BestRequest, rules: SeatingRules): BestAnswer {
  const { count } = request;
  const people = count === 1 ? '1 person' : `${count} people`;
  const focalY = focalYOf(rows, rules);
  const { best, bestWithoutOrphan, eligibleCapacity } = searchTogether(rows, request, rules, focalY);

  if (bestWithoutOrphan.row) {
    const { row, first, last, score } = bestWithoutOrphan;
    const group = groupOf(row, first, last, score);
    return {
      rule: 'together-no-orphan',
      group,
      explanation: `Row ${group.row}, ${seatsOf(group)}: the closest group to the hall's focal point that leaves no single seat stranded (score ${group.score})`,
    };
  }
  if (best.row && !rules.refuseOrphans) {
    const group = groupOf(best.row, best.first, best.last, best.score);
    return {
      rule: 'together',
      group,
      explanation: `Row ${group.row}, ${seatsOf(group)}: the closest group to the hall's focal point; every place for ${people} together leaves a single seat stranded (score ${group.score})`,
    };
  }
  if (eligibleCapacity < count) {
    return {
      rule: 'none',
      explanation: `Not enough free seats: room for ${eligibleCapacity} of ${people} among the seats that fit the request`,
    };
  }
  const splits = count > 1 ? searchSplits(rows, request, rules, focalY) : [];
  if (splits.length === 0) {
    return {
      rule: 'none',
      explanation: `No place for ${people} together, nor for two groups in one row or in neighbouring rows`,
    };
  }
  const options = splits.map(splitOptionOf);
  const [front, back] = options[0]!.groups;
  return {
    rule: 'split',
    options,
    explanation: `No place for ${people} together; the best split is row ${front!.row}, ${seatsOf(front!)} with row ${back!.row}, ${seatsOf(back!)} (score ${options[0]!.score})`,
  };
}

/**
 * The request as a hall answers it: without a category, its standard seats where it has any (vip and
 * double seats cost more, and a buyer asks for them by name), else any seat.
 */
export function withDefaultCategory(rows: PlanRow[], request: BestRequest): BestRequest {
  if (request.category !== undefined) return request;
  const hasStandard = rows.some((row) => row.seats.some((seat) => seat.category === 'standard'));
  return hasStandard ? { ...request, category: 'standard' } : request;
}

/**
 * The free seats that would become orphans if `seatIds` were taken: a seat left alone, with capacity 1
 * and not a wheelchair space,
 * in a free run next to a seat of the order, which was not alone already (an orphan from before is not
 * this order's fault). Unknown ids are ignored; the answer is sorted ascending, [] if none.
 */
export function orphansLeftBy(rows: PlanRow[], seatIds: number[]): number[] {
  const taking = new Set(seatIds);
  const orphans: number[] = [];
  for (const row of rows) {
    const seats = row.seats;
    let runStart = 0;
    while (runStart < seats.length) {
      if (!seats[runStart]!.free) {
        runStart += 1;
        continue;
      }
      const runEnd = freeRunEnd(seats, runStart);
      // Within a run that was not a lone seat, whatever the order leaves between its seats and the
      // run's ends is a new run next to one of its seats.
      if (capacityOf(seats, runStart, runEnd) > 1) {
        let left = runStart;
        for (let index = runStart; index <= runEnd + 1; index += 1) {
          if (index <= runEnd && !taking.has(seats[index]!.id)) continue;
          const alone = seats[left]!;
          if (index - left === 1 && seatCapacity(alone) === 1 && alone.category !== 'wheelchair')
            orphans.push(alone.id);
          left = index + 1;
        }
      }
      runStart = runEnd + 1;
    }
  }
  return orphans.sort((a, b) => a - b);
}
