import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Knex } from 'knex';
import { orderQueueRepository } from '../../db/repositories/order-queue.js';
import type { Order, OrderView } from '../../domain/model/orders.js';
import { partitionOf } from '../../domain/model/partitions.js';
import type { ProcessConfig } from '../../host/config.js';
import { makeHall, makeShowing, smallLayout, type Hall, type Showing } from '../factories.js';
import { api, startTestWorkers, sweepRuns, testSystem, type ApiResponse } from '../system.js';

export type Seat = { id: number; row: string; number: number; category: string };

export type { OrderView };

export type PlacedView = OrderView & { accessToken: string };

export type ErrorBody = { error: { code: string; message: string; details?: unknown } };

/** A showing in a hall of its own (so nothing else competes for its seats), with the hall's seats in layout order. */
export async function freshShowing(
  seatsPerRow = 4,
): Promise<{ showing: Showing; hall: Hall; seats: Seat[]; rows: Seat[][] }> {
  const hall = await makeHall({ layout: smallLayout(seatsPerRow) });
  const showing = await makeShowing({ hallId: hall.id });
  const rows = hall.layout.rows.map((row) =>
    row.seats.map((seat) => ({ id: seat.id, row: row.label, number: seat.number, category: seat.category })),
  );
  return { showing, hall, seats: rows.flat(), rows };
}

export const partitionOfShowing = async (showingId: number) =>
  partitionOf(showingId, (await testSystem()).config.ALLOCATION_PARTITIONS);

/**
 * An intake INSERT that has drawn its arrival number and holds its partition's shared arrival lock
 * but has not committed, played by an open transaction: commit or roll it back to let it go.
 */
export async function insertUnderWay(
  showingId: number,
  seatId: number,
): Promise<{ id: string; transaction: Knex.Transaction }> {
  const { deps } = await testSystem();
  const transaction = await deps.db.transaction();
  const id = randomUUID();
  await orderQueueRepository.insertQueued(transaction, [
    {
      id,
      showingId,
      seatIds: [seatId],
      best: null,
      customerEmail: 'inflight@example.com',
      customerName: null,
      paymentToken: null,
      currency: 'RUB',
      idempotencyKey: randomUUID(),
      requestHash: `inflight ${id}`,
      createdAt: new Date(),
      partition: await partitionOfShowing(showingId),
    },
  ]);
  return { id, transaction };
}

export const orderBody = (showingId: number, seatIds: number[], email = 'buyer@example.com', name?: string) => ({
  showingId,
  seatIds,
  customer: { email, ...(name === undefined ? {} : { name }) },
});

/** POST /orders as a buyer would send it: no admin token, a fresh Idempotency-Key unless told otherwise. */
export function submit<T = PlacedView>(
  body: unknown,
  {
    key = randomUUID(),
    wait,
    headers = {},
  }: { key?: string | null; wait?: number; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const all: Record<string, string> = { ...headers };
  if (key !== null) all['idempotency-key'] = key;
  if (wait !== undefined) all.prefer = `wait=${wait}`;
  return api<T>('POST', '/api/v1/orders', { body, token: null, headers: all });
}

/** Submits and expects acceptance (202 queued, or 200 when decided within a Prefer: wait). */
export async function place(
  showingId: number,
  seatIds: number[],
  options: Parameters<typeof submit>[1] = {},
): Promise<PlacedView> {
  const response = await submit(orderBody(showingId, seatIds), options);
  expect(response.status, JSON.stringify(response.body)).to.be.oneOf([200, 202]);
  return response.body;
}

/**
 * An order as the buyer learns its outcome: seats taken when it arrived are refused at once (409
 * SEAT_TAKEN, nothing stored), which reads here as the rejection the queue would have decided.
 */
export async function attempt(
  showingId: number,
  seatIds: number[],
  options: Parameters<typeof submit>[1] = {},
): Promise<Pick<PlacedView, 'status' | 'reason' | 'rejectedSeatIds'> & Partial<PlacedView>> {
  const response = await submit<PlacedView & ErrorBody>(orderBody(showingId, seatIds), options);
  if (response.status === 409 && response.body.error.code === 'SEAT_TAKEN') {
    const { seatIds: taken } = response.body.error.details as { seatIds: number[] };
    return { status: 'rejected', reason: 'SEAT_TAKEN', rejectedSeatIds: taken };
  }
  expect(response.status, JSON.stringify(response.body)).to.be.oneOf([200, 202]);
  return response.body;
}

/**
 * Two orders for one seat of a showing nobody ordered before, sent at once: both are queued (neither
 * is known taken yet), and the allocation gives the seat to the first and rejects the second.
 */
export async function raceForSeat(
  showingId: number,
  seatId: number,
): Promise<{ winner: PlacedView; loser: PlacedView }> {
  const both = await Promise.all([place(showingId, [seatId], { wait: 5 }), place(showingId, [seatId], { wait: 5 })]);
  const loser = both.find((order) => order.status === 'rejected');
  expect(loser, JSON.stringify(both)).to.not.equal(undefined);
  return { winner: both.find((order) => order !== loser)!, loser: loser! };
}

export function getOrder(
  id: string,
  token: string | null,
  how: 'bearer' | 'query' = 'bearer',
): Promise<ApiResponse<OrderView & ErrorBody>> {
  if (how === 'query')
    return api('GET', `/api/v1/orders/${id}${token === null ? '' : `?token=${encodeURIComponent(token)}`}`, {
      token: null,
    });
  return api('GET', `/api/v1/orders/${id}`, { token });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns a value other than undefined/false; fails with `what` after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 8_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) expect.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * Resolves once `runs` runs of the named periodic task of this process (a sweep of the in-process
 * workers: 'order sweeps', 'payment reconcile') have ended after the call. With the default of two, at
 * least one whole run started after the call: what was due by then had its chance.
 */
export async function sweepsEnded(name: string, runs = 2, timeoutMs = 8_000): Promise<void> {
  let ended = 0;
  let done = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  const onEnded = (task: string) => {
    if (task === name && (ended += 1) >= runs) done();
  };
  sweepRuns.on('ended', onEnded);
  const stop = () => sweepRuns.off('ended', onEnded);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      finished,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${runs} runs of ${name}`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    stop();
  }
}

/**
 * A barrier for "nothing more is published about the orders decided so far in this showing's
 * partition": places an order for `seatId` (free, so it is decided by a later drain than theirs) and
 * resolves once its decision was published. A partition's drains run one at a time and each publishes
 * before it ends; listeners get publications in the order they were made.
 */
export async function laterDecisionPublished(showingId: number, seatId: number): Promise<OrderView> {
  const { deps } = await testSystem();
  const published = new Map<string, OrderView>();
  const unlisten = await deps.events.listen(({ orders }) => {
    // Its decision, not the intake's publication of it as queued.
    for (const order of orders) if (order.status !== 'queued') published.set(order.id, order);
  });
  try {
    const later = await place(showingId, [seatId]);
    return await eventually(`the decision of the later order ${later.id} to be published`, async () =>
      published.get(later.id),
    );
  } finally {
    unlisten();
  }
}

/** The columns the tests read of an order. */
export type OrderRow = Pick<
  Order,
  | 'id'
  | 'seq'
  | 'showingId'
  | 'status'
  | 'seatIds'
  | 'rejectedSeatIds'
  | 'failureReason'
  | 'holdExpiresAt'
  | 'decidedAt'
  | 'createdAt'
  | 'updatedAt'
>;

export type TicketRow = {
  id: number;
  orderId: string;
  showingId: number;
  seatId: number;
  status: string;
  price: number;
  updatedAt: Date;
};

export async function orderRows(ids: string[]): Promise<OrderRow[]> {
  const { deps } = await testSystem();
  return deps
    .db('orders')
    .select(
      'id',
      'seq',
      'showing_id as showingId',
      'status',
      'seat_ids as seatIds',
      'rejected_seat_ids as rejectedSeatIds',
      'failure_reason as failureReason',
      'hold_expires_at as holdExpiresAt',
      'decided_at as decidedAt',
      'created_at as createdAt',
      'updated_at as updatedAt',
    )
    .whereIn('id', ids)
    .orderBy('seq');
}

export async function ticketsOfShowing(showingId: number): Promise<TicketRow[]> {
  const { deps } = await testSystem();
  return deps
    .db('tickets')
    .select(
      'id',
      'order_id as orderId',
      'showing_id as showingId',
      'seat_id as seatId',
      'status',
      'price',
      'updated_at as updatedAt',
    )
    .where('showing_id', showingId)
    .orderBy('id');
}

/** Waits until none of these orders is queued any more; returns their rows in seq order. */
export async function decided(ids: string[], timeoutMs = 8_000): Promise<OrderRow[]> {
  return eventually(
    `${ids.length} orders to be decided`,
    async () => {
      const rows = await orderRows(ids);
      return rows.length === ids.length && rows.every((row) => row.status !== 'queued') ? rows : undefined;
    },
    timeoutMs,
  );
}

/** Every (showing, seat) with more than one held or sold ticket, anywhere in the database. */
export async function doubleBookedSeats(): Promise<{ showing_id: number; seat_id: number; count: number }[]> {
  const { deps } = await testSystem();
  const { rows } = await deps.db.raw(
    `SELECT showing_id, seat_id, count(*)::int AS count FROM tickets
     WHERE status IN ('held', 'sold') GROUP BY showing_id, seat_id HAVING count(*) > 1`,
  );
  return rows;
}

/** Whether some backend of the test database is blocked on a lock while running a query like `pattern`. */
export async function someoneWaitsOnLock(pattern: string): Promise<boolean> {
  const { deps } = await testSystem();
  const { rows } = await deps.db.raw(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE ?`,
    [pattern],
  );
  return rows[0].n > 0;
}

/** In-process allocation workers that a test starts and stops; stop() is safe to call twice. */
export function workerControl() {
  let stop: (() => Promise<void>) | undefined;
  return {
    async start() {
      stop ??= await startTestWorkers();
    },
    async stop() {
      const stopping = stop;
      stop = undefined;
      await stopping?.();
    },
    get running() {
      return stop !== undefined;
    },
  };
}

/** Sets config values for the in-process system until the returned function restores them. */
export async function overrideConfig(values: Partial<ProcessConfig>): Promise<() => void> {
  const { deps } = await testSystem();
  const config = deps.config as Record<string, unknown>;
  const previous = Object.fromEntries(Object.keys(values).map((key) => [key, config[key]]));
  Object.assign(config, values);
  return () => Object.assign(config, previous);
}

export async function killChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** A small deterministic PRNG (mulberry32), so a failing random scenario can be replayed. */
export function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** How many rows of `table` match `where`. */
export async function countRows(table: 'orders' | 'tickets', where: Record<string, unknown>): Promise<number> {
  const { deps } = await testSystem();
  const row = await deps.db(table).where(where).count({ count: '*' }).first();
  return Number(row?.count ?? 0);
}
