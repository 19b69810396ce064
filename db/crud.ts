import type { Knex } from 'knex';
import type { Db } from './connection.js';
import { pageAfter, type After } from './keyset.js';

/** camelCase API field -> snake_case column, for the fields a caller may write. */
type ColumnMap<Write> = { [K in keyof Write]-?: string };

/** A list filter: a column equal to the value, or a condition of its own (one through another table). */
type FilterMap<Filter> = { [K in keyof Filter]-?: string | ((query: Knex.QueryBuilder, value: Filter[K]) => void) };

/**
 * The plain row operations every catalog table shares. Columns are selected under their API
 * names, so rows leave the repository already shaped for the domain.
 */
export function crudRepository<Row, Write extends object, Filter extends object = object>(spec: {
  table: string;
  columns: string[];
  writable: ColumnMap<Write>;
  filters?: FilterMap<Filter>;
}) {
  const { table, columns, writable, filters } = spec;

  const toColumns = (values: Partial<Write>, map: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(values)
        .filter(([field, value]) => value !== undefined && field in map)
        .map(([field, value]) => [map[field], isJson(value) ? JSON.stringify(value) : value]),
    );

  return {
    list: (
      db: Db,
      { after, limit, filter }: { after?: After; limit: number; filter?: Partial<Filter> },
    ): Promise<Row[]> => {
      const query = db(table).select(columns);
      for (const [field, value] of Object.entries(filter ?? {})) {
        const condition = (filters as Record<string, FilterMap<Filter>[keyof Filter]> | undefined)?.[field];
        if (value === undefined || condition === undefined) continue;
        if (typeof condition === 'string') query.where(condition, value);
        else condition(query, value as never);
      }
      return pageAfter(query, { sortColumn: 'id', idColumn: 'id', after, limit });
    },

    get: (db: Db, id: number): Promise<Row | undefined> => db(table).select(columns).where({ id }).first(),

    insert: async (db: Db, values: Write): Promise<Row> => {
      const [row] = await db(table).insert(toColumns(values, writable)).returning(columns);
      return row;
    },

    update: async (db: Db, id: number, changes: Partial<Write>): Promise<Row | undefined> => {
      const values = toColumns(changes, writable);
      if (Object.keys(values).length === 0) return db(table).select(columns).where({ id }).first();
      const [row] = await db(table).where({ id }).update(values).returning(columns);
      return row;
    },

    delete: async (db: Db, id: number): Promise<boolean> => (await db(table).where({ id }).delete()) > 0,
  };
}

function isJson(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !(value instanceof Date) && !Array.isArray(value);
}
