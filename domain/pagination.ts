import type { After } from '../db/keyset.js';
import { DomainError } from './errors.js';

export type PageRequest = { limit: number; cursor?: string };
export type Page<T> = { data: T[]; nextCursor: string | null };

function encodeCursor(after: After): string {
  return Buffer.from(JSON.stringify([after.key, after.id])).toString('base64url');
}

function decodeCursor(cursor: string): After {
  try {
    const [key, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if ((typeof key === 'string' || typeof key === 'number') && Number.isSafeInteger(id)) {
      return { key, id: id as number };
    }
  } catch {
    // falls through to the domain error below
  }
  throw new DomainError('INVALID_CURSOR', 'The cursor is not one this API returned');
}

/**
 * Fetches one row more than asked to learn whether another page follows, without a count query.
 * keyOf gives the sort key of a row, matching the repository's keyset order.
 */
export async function paginate<T extends { id: number }>(
  request: PageRequest,
  fetch: (page: { after?: After; limit: number }) => Promise<T[]>,
  keyOf: (row: T) => string | number = (row) => row.id,
): Promise<Page<T>> {
  const after = request.cursor === undefined ? undefined : decodeCursor(request.cursor);
  const rows = await fetch({ after, limit: request.limit + 1 });
  const data = rows.slice(0, request.limit);
  const last = data.at(-1);
  const nextCursor = rows.length > request.limit && last ? encodeCursor({ key: keyOf(last), id: last.id }) : null;
  return { data, nextCursor };
}
