import type { Knex } from 'knex';

/** Position after which the next page starts: the sort value of the last row seen, and its id. */
export type After = { key: string | number; id: number };

/** Keyset pagination over (sortColumn, idColumn): stable under inserts, and an index range scan. */
export function pageAfter<T extends object>(
  query: Knex.QueryBuilder<T>,
  { sortColumn, idColumn, after, limit }: { sortColumn: string; idColumn: string; after?: After; limit: number },
): Knex.QueryBuilder<T> {
  if (after) {
    query.whereRaw('(??, ??) > (?, ?)', [sortColumn, idColumn, after.key, after.id]);
  }
  const order = sortColumn === idColumn ? [idColumn] : [sortColumn, idColumn];
  return query.orderBy(order.map((column) => ({ column, order: 'asc' }))).limit(limit);
}
