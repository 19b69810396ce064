import type { After } from '../db/keyset.js';
import { DomainError } from './errors.js';

export type PageRequest = { limit: number; cursor?: string };
export type Page<T> = { data: T[]; nextCursor: string | null };

function encodeCursor(after: After): string {
  return Buffer.from(JSON.stringify([after.key, after.id])).toString('base64url');
}

/** The sort key of a list ordered by id. */
export const isIdKey = (key: unknown): key is number => Number.isSafeInteger(key);

/** The sort key of a list ordered by an instant: exactly as Date.prototype.toISOString writes it (PostgreSQL has no year 0). */
export const isInstantKey = (key: unknown): key is string =>
  typeof key === 'string' &&
  /^(?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(key) &&
  !Number.isNaN(Date.parse(key)) &&
  new Date(key).toISOString() === key;

/**
 * A cursor whose key is not of the list's kind is refused here: handed to the database it would
 * fail the comparison's cast and surface as a 500.
 */
function decodeCursor(cursor: string, isKey: (key: unknown) => boolean): After {
  try {
    const [key, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if ((typeof key === 'string' || typeof key === 'number') && isKey(key) && Number.isSafeInteger(id)) {
      return { key, id: id as number };
    }
  } catch {
    // falls through to the domain error below
  }
  throw new DomainError('INVALID_CURSOR', 'The cursor is not one this API returned');
}

/**
 * Fetches one row more than asked to learn whether another page follows, without a count query.
 * keyOf gives the sort key of a row, matching the repository's keyset order; isKey recognises such
 * a key when it comes back in a cursor.
 */
export async function paginate<T extends { id: number }>(
  request: PageRequest,
  fetch: (page: { after?: After; limit: number }) => Promise<T[]>,
  keyOf: (row: T) => string | number = (row) => row.id,
  isKey: (key: unknown) => boolean = isIdKey,
): Promise<Page<T>> {
  const after = request.cursor === undefined ? undefined : decodeCursor(request.cursor, isKey);
  const rows = await fetch({ after, limit: request.limit + 1 });
  const data = rows.slice(0, request.limit);
  const last = data.at(-1);
  const nextCursor = rows.length > request.limit && last ? encodeCursor({ key: keyOf(last), id: last.id }) : null;
  return { data, nextCursor };
}
