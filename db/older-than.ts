/** A `whereRaw` condition: `column` is more than `ms` milliseconds in the past, by the database's clock. */
export const olderThan = (column: string, ms: number) =>
  [`${column} < now() - make_interval(secs => ?)`, [ms / 1000]] as const;
