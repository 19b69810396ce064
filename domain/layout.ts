import { DomainError } from './errors.js';
import type { LayoutRow, SeatCategory } from './model/layout.js';

export const MAX_SEATS_PER_HALL = 2000;

export type LayoutInput = {
  rows: {
    label: string;
    /** Drawing position of the row; defaults to its index. */
    y?: number;
    seats: {
      number: number;
      /** Drawing position in the row; defaults to right after the previous seat, so only aisles need an x. */
      x?: number;
      category?: SeatCategory;
    }[];
  }[];
};

/** A double (love) seat spans two positions; everything else one. */
export function seatWidth(category: SeatCategory): number {
  return category === 'double' ? 2 : 1;
}

/**
 * Turns an admin's layout into rows of positioned seats, refusing anything a front end could not
 * draw unambiguously: repeated row labels or positions, repeated seat numbers, overlapping seats.
 */
export function normalizeLayout(input: LayoutInput): LayoutRow[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const labels = new Set<string>();
  const ys = new Set<number>();

  const rows = input.rows.map((row, rowIndex) => {
    const y = row.y ?? rowIndex;
    if (labels.has(row.label))
      problems.push({ path: ['rows', rowIndex, 'label'], message: `row label "${row.label}" repeats` });
    if (ys.has(y)) problems.push({ path: ['rows', rowIndex, 'y'], message: `another row is already at y=${y}` });
    labels.add(row.label);
    ys.add(y);

    const numbers = new Set<number>();
    let nextX = 0;
    const seats = row.seats.map((seat, seatIndex) => {
      const category = seat.category ?? 'standard';
      const width = seatWidth(category);
      const x = seat.x ?? nextX;
      const path = ['rows', rowIndex, 'seats', seatIndex];
      if (numbers.has(seat.number))
        problems.push({
          path: [...path, 'number'],
          message: `seat number ${seat.number} repeats in row "${row.label}"`,
        });
      numbers.add(seat.number);
      nextX = x + width;
      return { number: seat.number, x, width, category };
    });

    const byX = [...seats].sort((a, b) => a.x - b.x);
    byX.forEach((seat, index) => {
      const previous = byX[index - 1];
      if (previous && previous.x + previous.width > seat.x) {
        problems.push({
          path: ['rows', rowIndex, 'seats'],
          message: `seats ${previous.number} and ${seat.number} of row "${row.label}" overlap at x=${seat.x}`,
        });
      }
    });
    return { label: row.label, y, seats: byX };
  });

  const seatCount = countSeats(rows);
  if (seatCount === 0) problems.push({ path: ['rows'], message: 'a hall needs at least one seat' });
  if (seatCount > MAX_SEATS_PER_HALL)
    problems.push({ path: ['rows'], message: `at most ${MAX_SEATS_PER_HALL} seats per hall` });

  if (problems.length > 0) {
    // Reported like VALIDATION_FAILED's details: the place in the request body as a dotted path.
    const details = problems.map(({ path, message }) => ({ in: 'body', path: ['layout', ...path].join('.'), message }));
    throw new DomainError('INVALID_LAYOUT', 'The seat layout is not valid', details);
  }
  return rows.sort((a, b) => a.y - b.y);
}

export function countSeats(rows: { seats: unknown[] }[]): number {
  return rows.reduce((sum, row) => sum + row.seats.length, 0);
}
