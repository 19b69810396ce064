import { hallsRepository } from '../../db/repositories/halls.js';
import { statisticsRepository, type SalesRow } from '../../db/repositories/statistics.js';
import { SALES_FIGURES, type SalesSums, type StatisticsGroup } from '../model/statistics.js';
import type { Deps } from '../context.js';
import { DomainError, foundOr } from '../errors.js';
import type { Actor } from '../model/actors.js';
import { ensureManages, operatorScope } from '../operators/acting.js';

/** A report's range of local days, both included, and what narrows it. */
export type ReportQuery = { from: string; to: string; cityId?: number; cinemaId?: number; filmId?: number };

const MAX_RANGE_DAYS = 400;
const DAY_MS = 86_400_000;

function checkRange({ from, to }: { from: string; to: string }): void {
  const days = (Date.parse(to) - Date.parse(from)) / DAY_MS;
  if (days < 0 || days > MAX_RANGE_DAYS) {
    throw new DomainError('VALIDATION_FAILED', 'The request is not valid', [
      { in: 'query', path: 'to', message: `must be on or after from, within ${MAX_RANGE_DAYS} days of it` },
    ]);
  }
}

/** Tickets per confirmed order, to two decimals; null without orders. */
const averageOrderSize = (sums: SalesSums) =>
  sums.orders > 0 ? Math.round((sums.ticketsSold / sums.orders) * 100) / 100 : null;

/** The sums of rows of one currency each, per currency: amounts are never added across currencies. */
function totalsPerCurrency(rows: SalesRow[]) {
  const totals = new Map<string, SalesSums>();
  for (const row of rows) {
    const total =
      totals.get(row.currency) ?? (Object.fromEntries(SALES_FIGURES.map((figure) => [figure, 0])) as SalesSums);
    for (const figure of SALES_FIGURES) total[figure] += row[figure];
    totals.set(row.currency, total);
  }
  return [...totals].map(([currency, sums]) => ({ currency, ...sums, averageOrderSize: averageOrderSize(sums) }));
}

/**
 * Sales, cancellations, refunds, payment failures and lost demand per group and currency, on the
 * local days (each cinema's own) [from, to] on which they happened, from the figures kept as sales
 * happen (migration 011). An operator sees its own cinemas alone.
 */
export async function salesStatistics({ db }: Deps, viewer: Actor, query: ReportQuery & { groupBy: StatisticsGroup }) {
  checkRange(query);
  const rows = await statisticsRepository.sales(db, { ...query, operatorId: operatorScope(viewer) }, query.groupBy);
  return {
    groupBy: query.groupBy,
    from: query.from,
    to: query.to,
    rows: rows.map((row) => ({ ...row, averageOrderSize: averageOrderSize(row) })),
    totals: totalsPerCurrency(rows),
  };
}

/** Average and peak occupancy of the showings that start on the local days [from, to], per group. */
export async function occupancyStatistics(
  { db }: Deps,
  viewer: Actor,
  query: ReportQuery & { groupBy: StatisticsGroup },
) {
  checkRange(query);
  const rows = await statisticsRepository.occupancy(db, { ...query, operatorId: operatorScope(viewer) }, query.groupBy);
  return { groupBy: query.groupBy, from: query.from, to: query.to, rows };
}

/**
 * One showing: its seats sold, held, blocked and free now, revenue, sales per day since it went on
 * sale, and the demand it could not serve (orders rejected and the seats they asked for).
 */
export async function showingStatistics({ db }: Deps, viewer: Actor, showingId: number) {
  await ensureManages(db, viewer, { showingId });
  const figures = foundOr(await statisticsRepository.showing(db, showingId), 'SHOWING_NOT_FOUND', 'Showing', showingId);
  const sold = figures.ticketsSold - figures.ticketsCancelled;
  let cumulative = 0;
  const days = (await statisticsRepository.salesDays(db, showingId)).map((day) => {
    cumulative += day.ticketsSold - day.ticketsCancelled;
    return { ...day, soldSoFar: cumulative };
  });
  return {
    showingId,
    status: figures.cancelledAt ? 'cancelled' : 'scheduled',
    onSaleSince: figures.onSaleSince,
    startsAt: figures.startsAt,
    currency: figures.currency,
    occupancy: {
      seatCount: figures.seatCount,
      sold,
      held: figures.takenSeats - sold - figures.blocked,
      blocked: figures.blocked,
      free: figures.seatCount - figures.takenSeats,
      rate: Math.round((sold / figures.seatCount) * 10_000) / 10_000,
    },
    revenue: {
      gross: figures.revenue,
      cancelled: figures.cancelledAmount,
      net: figures.revenue - figures.cancelledAmount,
      refunded: figures.refundedAmount,
    },
    orders: figures.orders,
    refunds: figures.refunds,
    paymentFailures: figures.paymentFailures,
    lostDemand: { ordersRejected: figures.ordersRejected, seatsRejected: figures.seatsRejected },
    salesOverTime: days,
  };
}

/**
 * Every seat of the hall with how often it sold over the hall's showings on the local days [from,
 * to], and how long after a showing went on sale on average. `rank` orders the seats sold by how
 * soon they sell, how often counting too: the mean over the showings of the time to its sale, a
 * showing where it did not sell counting as its whole time on sale. 1 sells first; ties by seat id.
 */
export async function hallHeatmap({ db }: Deps, viewer: Actor, hallId: number, range: { from: string; to: string }) {
  checkRange(range);
  await ensureManages(db, viewer, { hallId });
  foundOr(await hallsRepository.get(db, hallId), 'HALL_NOT_FOUND', 'Hall', hallId);
  const [rows, sales] = await Promise.all([
    hallsRepository.layout(db, hallId),
    statisticsRepository.hallSeatSales(db, hallId, range.from, range.to),
  ]);
  const bySeat = new Map(sales.seats.map((seat) => [seat.seatId, seat]));
  const timeToSell = (seat: (typeof sales.seats)[number]) =>
    seat.averageLeadSeconds * seat.sold + (sales.windowSeconds - seat.soldWindowSeconds);
  const ranked = [...sales.seats].sort((a, b) => timeToSell(a) - timeToSell(b) || a.seatId - b.seatId);
  const rankOf = new Map(ranked.map((seat, index) => [seat.seatId, index + 1]));
  return {
    hallId,
    from: range.from,
    to: range.to,
    showings: sales.showings,
    seats: rows.flatMap((row) =>
      row.seats.map((seat) => {
        const sold = bySeat.get(seat.id);
        return {
          seatId: seat.id,
          row: row.label,
          number: seat.number,
          x: seat.x,
          y: row.y,
          category: seat.category,
          sold: sold?.sold ?? 0,
          sellRate: sales.showings > 0 ? Math.round(((sold?.sold ?? 0) / sales.showings) * 10_000) / 10_000 : 0,
          averageLeadHours: sold === undefined ? null : Math.round((sold.averageLeadSeconds / 3600) * 100) / 100,
          rank: rankOf.get(seat.id) ?? null,
        };
      }),
    ),
  };
}
