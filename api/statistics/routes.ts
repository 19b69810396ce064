import { z } from 'zod';
import { GROUP_KEYS, SALES_FIGURES, STATISTICS_GROUPS } from '../../domain/model/statistics.js';
import {
  hallHeatmap,
  occupancyStatistics,
  salesStatistics,
  showingStatistics,
} from '../../domain/statistics/statistics.js';
import { defineRoute, type Route } from '../http/route.js';
import { date, id, idParams, isoTimestamp } from '../http/schemas.js';

const accepts = z.object({
  accept: z
    .string()
    .max(1000)
    .optional()
    .describe('text/csv for the table as CSV (a header row, one line per row), for spreadsheets; JSON otherwise'),
});

const range = {
  from: date.describe('First local day (each cinema in its own time zone)'),
  to: date.describe('Last local day, included; at most 400 days after from'),
};
const report = z.strictObject({
  ...range,
  groupBy: z.enum(STATISTICS_GROUPS).default('day'),
  cityId: id.optional(),
  cinemaId: id.optional(),
  filmId: id.optional(),
});

const groupKey = {
  day: z.string().optional(),
  week: z.string().optional().describe('The Monday of the ISO week'),
  filmId: z.number().optional(),
  title: z.string().optional(),
  cinemaId: z.number().optional(),
  cityId: z.number().optional(),
  hallId: z.number().optional(),
  name: z.string().optional(),
};
const salesFigures = Object.fromEntries(SALES_FIGURES.map((figure) => [figure, z.number()])) as Record<
  (typeof SALES_FIGURES)[number],
  z.ZodNumber
>;
const salesLine = z.object({
  currency: z.string(),
  ...salesFigures,
  averageOrderSize: z.number().nullable().describe('Tickets sold per order confirmed'),
});

/** What a use case answers: the table a CSV is made of. */
type Answer<UseCase extends (...args: never[]) => Promise<unknown>> = Awaited<ReturnType<UseCase>>;

const STATS_ERRORS = ['VALIDATION_FAILED' as const];

export const statisticsRoutes: Route[] = [
  defineRoute({
    method: 'get',
    path: '/stats/sales',
    tag: 'Statistics',
    summary:
      'Tickets sold, revenue, orders, cancellations, refunds, payment failures and lost demand per group and currency, on the local days they happened (admin; an operator sees its own cinemas)',
    guard: 'manager',
    query: report,
    headers: accepts,
    csv: (answer: Answer<typeof salesStatistics>) => ({
      rows: answer.rows,
      columns: [...GROUP_KEYS[answer.groupBy], 'currency', ...SALES_FIGURES, 'averageOrderSize'],
      filename: `sales-by-${answer.groupBy}-${answer.from}-${answer.to}`,
    }),
    response: z.object({
      groupBy: z.enum(STATISTICS_GROUPS),
      from: z.string(),
      to: z.string(),
      rows: z.array(salesLine.extend(groupKey)),
      totals: z.array(salesLine).describe('Per currency: amounts are never added across currencies'),
    }),
    errors: STATS_ERRORS,
    handler: ({ query, actor }, deps) => salesStatistics(deps, actor, query),
  }),
  defineRoute({
    method: 'get',
    path: '/stats/occupancy',
    tag: 'Statistics',
    summary:
      'Average and peak occupancy of the showings starting on the local days from-to, per group (admin; an operator sees its own cinemas)',
    guard: 'manager',
    query: report,
    headers: accepts,
    csv: (answer: Answer<typeof occupancyStatistics>) => ({
      rows: answer.rows,
      columns: [
        ...GROUP_KEYS[answer.groupBy],
        'showings',
        'seats',
        'sold',
        'averageOccupancy',
        'peakOccupancy',
        'peakShowingId',
      ],
      filename: `occupancy-by-${answer.groupBy}-${answer.from}-${answer.to}`,
    }),
    response: z.object({
      groupBy: z.enum(STATISTICS_GROUPS),
      from: z.string(),
      to: z.string(),
      rows: z.array(
        z.object({
          ...groupKey,
          showings: z.number(),
          seats: z.number(),
          sold: z.number(),
          averageOccupancy: z.number().describe('The mean of the showings’ sold / seats, 0-1'),
          peakOccupancy: z.number(),
          peakShowingId: z.number(),
        }),
      ),
    }),
    errors: STATS_ERRORS,
    handler: ({ query, actor }, deps) => occupancyStatistics(deps, actor, query),
  }),
  defineRoute({
    method: 'get',
    path: '/stats/showings/:id',
    tag: 'Statistics',
    summary:
      "A showing's seats sold, held, blocked and free, revenue, sales per day since it went on sale, and the demand it could not serve (admin, or the cinema's operator)",
    guard: 'manager',
    params: idParams,
    headers: accepts,
    csv: (answer: Answer<typeof showingStatistics>) => ({
      rows: answer.salesOverTime,
      columns: ['day', 'ticketsSold', 'revenue', 'ticketsCancelled', 'orders', 'soldSoFar'],
      filename: `showing-${answer.showingId}-sales`,
    }),
    response: z.object({
      showingId: z.number(),
      status: z.enum(['scheduled', 'cancelled']),
      onSaleSince: isoTimestamp,
      startsAt: isoTimestamp,
      currency: z.string(),
      occupancy: z.object({
        seatCount: z.number(),
        sold: z.number(),
        held: z.number(),
        blocked: z.number(),
        free: z.number(),
        rate: z.number().describe('sold / seatCount'),
      }),
      revenue: z.object({
        gross: z.number(),
        cancelled: z.number().describe('Of tickets sold, then cancelled'),
        net: z.number(),
        refunded: z.number().describe('Refunds that went through'),
      }),
      orders: z.number(),
      refunds: z.number(),
      paymentFailures: z.number(),
      lostDemand: z.object({ ordersRejected: z.number(), seatsRejected: z.number() }),
      salesOverTime: z.array(
        z.object({
          day: z.string(),
          ticketsSold: z.number(),
          revenue: z.number(),
          ticketsCancelled: z.number(),
          orders: z.number(),
          soldSoFar: z.number(),
        }),
      ),
    }),
    errors: ['SHOWING_NOT_FOUND'],
    handler: ({ params, actor }, deps) => showingStatistics(deps, actor, params.id),
  }),
  defineRoute({
    method: 'get',
    path: '/stats/halls/:id/heatmap',
    tag: 'Statistics',
    summary:
      "Every seat of a hall: how often it sold over the hall's showings on the local days from-to, and how soon after they went on sale (admin, or the cinema's operator)",
    guard: 'manager',
    params: idParams,
    query: z.strictObject(range),
    headers: accepts,
    csv: (answer: Answer<typeof hallHeatmap>) => ({
      rows: answer.seats,
      columns: ['seatId', 'row', 'number', 'x', 'y', 'category', 'sold', 'sellRate', 'averageLeadHours', 'rank'],
      filename: `hall-${answer.hallId}-heatmap-${answer.from}-${answer.to}`,
    }),
    response: z.object({
      hallId: z.number(),
      from: z.string(),
      to: z.string(),
      showings: z.number().describe('Showings of the hall in the range, cancelled ones left out'),
      seats: z.array(
        z.object({
          seatId: z.number(),
          row: z.string(),
          number: z.number(),
          x: z.number(),
          y: z.number(),
          category: z.string(),
          sold: z.number(),
          sellRate: z.number().describe('sold / showings'),
          averageLeadHours: z.number().nullable().describe('Hours from going on sale to the sale, on average'),
          rank: z
            .number()
            .nullable()
            .describe(
              'Seats sold, by how soon and how often they sell (a showing where the seat did not sell counts as its whole time on sale): 1 sells first; null: never sold',
            ),
        }),
      ),
    }),
    errors: ['HALL_NOT_FOUND', ...STATS_ERRORS],
    handler: ({ params, query, actor }, deps) => hallHeatmap(deps, actor, params.id, query),
  }),
];
