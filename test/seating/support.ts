import { makeHall, makeShowing, type Hall, type Overrides, type Showing } from '../factories.js';
import { api, type ApiResponse } from '../system.js';
import { orderBody, submit, type ErrorBody, type PlacedView, type Seat } from '../orders/support.js';

/** Rows A.. of `perRow` standard seats, an aisle after seat `aisleAfter` when given. */
export function gridLayout(rows: number, perRow: number, { aisleAfter }: { aisleAfter?: number } = {}) {
  return {
    rows: Array.from({ length: rows }, (_, rowIndex) => ({
      label: String.fromCharCode(65 + rowIndex),
      seats: Array.from({ length: perRow }, (_, index) => ({
        number: index + 1,
        ...(aisleAfter !== undefined && index === aisleAfter ? { x: index + 1 } : {}),
      })),
    })),
  };
}

/** A showing in a hall of its own with this layout, and the hall's seats by row label. */
export async function showingWithLayout(
  layout: object,
  hallOverrides: Overrides = {},
): Promise<{ showing: Showing; hall: Hall; rows: Map<string, Seat[]>; seat: (label: string) => Seat }> {
  const hall = await makeHall({ layout, ...hallOverrides });
  const showing = await makeShowing({ hallId: hall.id });
  const rows = new Map(
    hall.layout.rows.map((row) => [
      row.label,
      row.seats.map((seat) => ({ id: seat.id, row: row.label, number: seat.number, category: seat.category })),
    ]),
  );
  const seat = (label: string) => {
    const [row, number] = [label.replace(/\d+$/, ''), Number(label.match(/\d+$/)![0])];
    return rows.get(row)!.find((candidate) => candidate.number === number)!;
  };
  return { showing, hall, rows, seat };
}

export type BestBody = {
  showingId: number;
  count: number;
  rule: string;
  explanation: string;
  row: string;
  score: number;
  seats: { id: number; row: string; number: number; category: string; price: number | null }[];
  total: number | null;
};

export const getBest = (showingId: number, query: string) =>
  api<BestBody & ErrorBody>('GET', `/api/v1/showings/${showingId}/seats/best?${query}`, { token: null });

export type SeatMapBody = {
  version: number;
  freeSeats: number;
  rows: { label: string; seats: { id: number; number: number; status: string }[] }[];
};

export const seatMap = (showingId: number) =>
  api<SeatMapBody>('GET', `/api/v1/showings/${showingId}/seats`, { token: null });

export const statusesOf = (map: SeatMapBody) =>
  new Map(map.rows.flatMap((row) => row.seats.map((seat) => [seat.id, seat.status])));

export const block = (showingId: number, seatIds: number[], reason = 'broken seat') =>
  api('POST', `/api/v1/showings/${showingId}/blocks`, { body: { seatIds, reason } });

export const unblock = (showingId: number, seatId: number) =>
  api('DELETE', `/api/v1/showings/${showingId}/blocks/${seatId}`);

/** A "best N" order, waiting up to 5 s for its decision. */
export const orderBest = (
  showingId: number,
  best: object,
  email = 'group@example.com',
): Promise<ApiResponse<PlacedView & ErrorBody>> => submit({ showingId, best, customer: { email } }, { wait: 5 });

/** An order for named seats, waiting for its decision; a refusal at the door reads as its error body. */
export const orderSeats = (showingId: number, seatIds: number[]) =>
  submit<PlacedView & ErrorBody>(orderBody(showingId, seatIds), { wait: 5 });
