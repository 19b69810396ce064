/** How a report groups its figures: by local day, ISO week (from Monday), film, cinema, city or hall. */
export const STATISTICS_GROUPS = ['day', 'week', 'film', 'cinema', 'city', 'hall'] as const;
export type StatisticsGroup = (typeof STATISTICS_GROUPS)[number];

/** The fields naming a group in a report's rows, per grouping. */
export const GROUP_KEYS: Record<StatisticsGroup, string[]> = {
  day: ['day'],
  week: ['week'],
  film: ['filmId', 'title'],
  cinema: ['cinemaId', 'name'],
  city: ['cityId', 'name'],
  hall: ['hallId', 'name', 'cinemaId'],
};

/** The sales figures of a group, every amount in minor units of one currency. */
export const SALES_FIGURES = [
  'ticketsSold',
  'revenue',
  'orders',
  'ticketsCancelled',
  'cancelledAmount',
  'refunds',
  'refundedAmount',
  'paymentFailures',
  'ordersRejected',
  'seatsRejected',
] as const;
export type SalesSums = Record<(typeof SALES_FIGURES)[number], number>;
