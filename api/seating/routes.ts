import { z } from 'zod';
import { searchSeatsTogether, suggestBestSeats } from '../../domain/seating/best-available.js';
import { blockSeats, listSeatBlocks, unblockSeat } from '../../domain/seating/seat-blocks.js';
import { date, id, idParams, isoTimestamp, refId, text } from '../http/schemas.js';
import { defineRoute, type Route } from '../http/route.js';

/** The most people one "best N" request seats together: the most seats one order may hold. */
export const MAX_BEST_COUNT = 10;

/** What "best N" asks for, in a body (POST /orders) and in a query string. */
export const bestCategory = z
  .enum(['standard', 'vip', 'double'])
  .describe(
    'Only seats of this category (a double seat holds two people); when absent, the standard seats of a hall that has any',
  );

const bestQuery = {
  count: id
    .pipe(z.number().max(MAX_BEST_COUNT, `at most ${MAX_BEST_COUNT} people`))
    .describe('How many people sit together (a double seat counts as two)'),
  category: bestCategory.optional(),
  accessible: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional()
    .describe('true: the group includes a wheelchair space (never chosen otherwise)'),
};

const suggestedSeat = z.object({
  id: z.number(),
  row: z.string(),
  number: z.number(),
  category: z.string(),
  price: z.number().nullable(),
});

const suggestion = {
  rule: z
    .enum(['together-no-orphan', 'together'])
    .describe('together-no-orphan: leaves no single seat stranded; together: the best there is, stranding one'),
  explanation: z.string().describe('Which rule chose these seats and why, in words'),
  row: z.string(),
  score: z.number().describe("Distance from the hall's focal point (lower is better)"),
  seats: z.array(suggestedSeat),
  total: z.number().nullable().describe('Sum of the seats’ prices in minor units'),
};

const blockList = z.object({
  showingId: z.number(),
  blocks: z.array(
    z.object({ seatId: z.number(), row: z.string(), number: z.number(), reason: z.string(), createdAt: isoTimestamp }),
  ),
});

const NO_TOGETHER =
  'NO_SEATS_TOGETHER (409) carries details.splitOptions: the best ways to split the group, each flagged split; NOT_ENOUGH_SEATS (409) when not even those exist';

export const seatingRoutes: Route[] = [
  defineRoute({
    method: 'get',
    path: '/showings/:id/seats/best',
    tag: 'Seating',
    summary: `The best N seats together in a showing, in one row, never across an aisle, nearest the hall's focal point; ${NO_TOGETHER}`,
    params: idParams,
    query: z.strictObject(bestQuery),
    fastPath: true,
    response: z.object({
      showingId: z.number(),
      version: z.number(),
      count: z.number(),
      currency: z.string(),
      ...suggestion,
    }),
    errors: ['SHOWING_NOT_FOUND', 'SHOWING_NOT_ON_SALE', 'NO_SEATS_TOGETHER', 'NOT_ENOUGH_SEATS'],
    handler: ({ params, query }, deps) => suggestBestSeats(deps, params.id, query),
  }),
  defineRoute({
    method: 'get',
    path: '/search/seats',
    tag: 'Seating',
    summary:
      "Showings of a film in a city on a day (each cinema's local day) that still have N seats together, by start time and seat quality, each with its best seats",
    query: z.strictObject({
      filmId: id,
      cityId: id,
      date: date.describe("A calendar day in each cinema's own time zone"),
      ...bestQuery,
    }),
    fastPath: true,
    response: z.object({
      cityId: z.number(),
      filmId: z.number(),
      date: z.string(),
      count: z.number(),
      showings: z.array(
        z.object({
          showingId: z.number(),
          cinemaId: z.number(),
          cinemaName: z.string(),
          hallId: z.number(),
          hallName: z.string(),
          startsAt: isoTimestamp,
          localStartTime: z.string(),
          currency: z.string(),
          ...suggestion,
        }),
      ),
    }),
    errors: ['CITY_NOT_FOUND'],
    handler: ({ query }, deps) => searchSeatsTogether(deps, query),
  }),
  defineRoute({
    method: 'get',
    path: '/showings/:id/blocks',
    tag: 'Seating',
    summary: "Seats of a showing taken off sale, with their reasons (admin, or the cinema's operator)",
    guard: 'manager',
    params: idParams,
    response: blockList,
    errors: ['SHOWING_NOT_FOUND'],
    handler: ({ params, actor }, deps) => listSeatBlocks(deps, params.id, actor),
  }),
  defineRoute({
    method: 'post',
    path: '/showings/:id/blocks',
    tag: 'Seating',
    summary:
      "Take seats of a showing off sale (a broken seat, staff, a camera) with a reason (admin, or the cinema's operator); all or nothing, never a held or sold seat",
    guard: 'manager',
    params: idParams,
    body: z.strictObject({
      seatIds: z.array(refId).min(1).max(100),
      reason: text(1, 200).describe('Why, for the staff: "broken", "camera position"'),
    }),
    status: 201,
    response: blockList,
    errors: [
      'SHOWING_NOT_FOUND',
      'SHOWING_NOT_ON_SALE',
      'SEAT_NOT_IN_HALL',
      'SEAT_TAKEN',
      'SEAT_BLOCKED',
      'DUPLICATE_SEATS',
    ],
    handler: ({ params, body, actor }, deps) => blockSeats(deps, actor, params.id, body),
  }),
  defineRoute({
    method: 'delete',
    path: '/showings/:id/blocks/:seatId',
    tag: 'Seating',
    summary: "Put a blocked seat back on sale (admin, or the cinema's operator)",
    guard: 'manager',
    params: z.strictObject({ id, seatId: id }),
    status: 204,
    errors: ['SHOWING_NOT_FOUND', 'BLOCK_NOT_FOUND'],
    handler: ({ params, actor }, deps) => unblockSeat(deps, actor, params.id, params.seatId),
  }),
];
