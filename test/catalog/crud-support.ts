import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { z } from 'zod';
import { addDays } from '../../domain/time.js';
import { insertOrderRow, insertTicketRows } from '../direct-writes.js';
import { api, testSystem, type ApiResponse } from '../system.js';

/** Shared helpers of crud.test.ts, relations.test.ts and errors.test.ts. */

export const BASE = '/api/v1';

let counter = 0;
/** A name no other test (nor an earlier run against the same database) uses. */
export const uniqueName = (prefix: string) => `${prefix} ${randomBytes(3).toString('hex')}-${(counter += 1)}`;

/**
 * Waits until PostgreSQL's clock is past the entity's updatedAt by a millisecond, the precision the API
 * shows: a write from then on is stamped (now(), its transaction's start) visibly later. A check of the
 * database's own clock instead of a pause on ours; it usually holds at once.
 */
export async function untilDbClockPasses(entity: object): Promise<void> {
  const { updatedAt } = entity as { updatedAt?: string };
  expect(updatedAt, 'the entity as the API answered it, with updatedAt').to.be.a('string');
  const { deps } = await testSystem();
  const deadline = Date.now() + 5_000;
  for (;;) {
    const { rows } = await deps.db.raw(
      `SELECT clock_timestamp() >= ?::timestamptz + interval '1 millisecond' AS past`,
      [updatedAt!],
    );
    if (rows[0].past) return;
    if (Date.now() > deadline) expect.fail(`the database clock did not pass ${updatedAt} within 5 s`);
  }
}

/** The error body every failure answers with, and nothing more. */
const errorEnvelope = z.strictObject({
  error: z.strictObject({ code: z.string().min(1), message: z.string().min(1), details: z.unknown().optional() }),
});

/** Asserts the status, the error code and the exact envelope shape; returns the error for more checks. */
export function expectError(response: ApiResponse, status: number, code: string) {
  const context = `${status} ${code} expected, got ${response.status} ${JSON.stringify(response.body)}`;
  expect(response.status, context).to.equal(status);
  expect(response.headers.get('content-type'), context).to.match(/^application\/json/);
  const parsed = errorEnvelope.safeParse(response.body);
  expect(parsed.success, `error envelope: ${JSON.stringify(response.body)}`).to.equal(true);
  expect(response.body.error.code, context).to.equal(code);
  return response.body.error as { code: string; message: string; details?: unknown };
}

/** The validation problems of a 400 VALIDATION_FAILED, as { in, path, message }. */
export function validationProblems(response: ApiResponse): { in: string; path: string; message: string }[] {
  const error = expectError(response, 400, 'VALIDATION_FAILED');
  expect(error.details, 'details').to.be.an('array');
  expect((error.details as unknown[]).length, 'number of problems').to.be.greaterThan(0);
  return error.details as { in: string; path: string; message: string }[];
}

/** Every item of a list endpoint, following nextCursor (bounded, so a pagination bug cannot hang the run). */
export async function listAll<T = any>(path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages += 1) {
    const separator = path.includes('?') ? '&' : '?';
    const url: string = `${path}${separator}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const response: ApiResponse = await api('GET', url, { token: null });
    expect(response.status, `GET ${url}: ${JSON.stringify(response.body)}`).to.equal(200);
    items.push(...response.body.data);
    cursor = response.body.nextCursor;
    if (cursor === null) return items;
  }
  throw new Error(`GET ${path} did not end after 100 pages`);
}

/** Ids of the `data` of one list page answered with 200. */
export function idsOf(response: ApiResponse): number[] {
  expect(response.status, JSON.stringify(response.body)).to.equal(200);
  return (response.body.data as { id: number }[]).map((item) => item.id);
}

const todayUtc = () => new Date().toISOString().slice(0, 10);

/** A calendar date `days` after today (UTC); far enough ahead, any time on it is in the future. */
export const futureDate = (days: number) => addDays(todayUtc(), days);

/** An instant at HH:MM local time on a date, for a zone with a fixed offset like "+09:00". */
export const at = (date: string, time: string, offset = '+00:00') => `${date}T${time}:00${offset}`;

/** Inserts a confirmed order for a showing straight into the database, as the tickets side would. */
export async function insertOrder(showingId: number, seatIds: number[]): Promise<string> {
  const { deps } = await testSystem();
  return insertOrderRow(deps.db, { showingId, seatIds, status: 'confirmed', total: 45_000 * seatIds.length });
}

/** Inserts an order and one sold ticket per seat straight into the database. */
export async function insertSoldTickets(showing: { id: number; hallId: number }, seatIds: number[]): Promise<string> {
  const orderId = await insertOrder(showing.id, seatIds);
  const { deps } = await testSystem();
  await insertTicketRows(
    deps.db,
    seatIds.map((seatId) => ({
      orderId,
      showingId: showing.id,
      hallId: showing.hallId,
      seatId,
      price: 45_000,
      status: 'sold',
    })),
  );
  return orderId;
}
