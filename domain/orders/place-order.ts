import { createHash, createHmac, randomUUID } from 'node:crypto';
import { saleCatalogRepository } from '../../db/repositories/sale-catalog.js';
import type { Deps } from '../context.js';
import { DomainError } from '../errors.js';
import { accessTokenFor } from './access-token.js';
import { getOrderView } from './get-order.js';
import type { OrderView } from '../model/orders.js';
import { toOrderView } from './view.js';
import type { BestRequest } from '../model/seating.js';

/** Either seat ids, or `best`: the allocation chooses the best seats together at the order's turn. */
export type OrderRequest = {
  showingId: number;
  seatIds?: number[];
  best?: BestRequest;
  customer: { email: string; name?: string };
  /** The buyer's card token; without it the seats are held until the hold expires. */
  payment?: { token: string };
};

export type PlacedOrder = { order: OrderView; accessToken: string; decided: boolean };

/**
 * The key as stored: the client's key within its customer's (the email's) own space, so a key another
 * customer happens to send, or guesses, finds nothing of this customer's orders (no refusal that
 * tells the key is in use, no replay that hands out the order and its token).
 */
export function scopedIdempotencyKey(key: string, email: string): string {
  return createHash('sha256').update(`${email.toLowerCase()}\n${key}`).digest('base64url');
}

/**
 * The client address an order came from, as the cap on seats held per address compares it: a keyed
 * digest, so that the orders table holds no address (and no list of addresses could be matched to it).
 */
const clientKey = (address: string, secret: string) =>
  createHmac('sha256', secret).update(address).digest('base64url').slice(0, 22);

/** Same key, same request: the hash ignores the order in which seats are listed. */
function requestHash(request: OrderRequest): string {
  const canonical = JSON.stringify([
    request.showingId,
    [...(request.seatIds ?? [])].sort((a, b) => a - b),
    request.best ? [request.best.count, request.best.category ?? null, request.best.accessible ?? false] : null,
    request.customer.email.toLowerCase(),
    request.customer.name ?? null,
    request.payment?.token ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('base64url');
}

/**
 * Checks what needs no queue, makes the order durable as `queued`, wakes its partition, and, when
 * the buyer is willing to wait, returns the decision pushed by the allocation worker.
 */
export async function placeOrder(
  deps: Deps,
  request: OrderRequest,
  {
    idempotencyKey: givenKey,
    waitMs,
    requestId,
    client,
  }: { idempotencyKey: string | undefined; waitMs: number; requestId?: string; client?: string },
): Promise<PlacedOrder> {
  const { config, saleCatalog, orderInserts, events } = deps;
  if (!givenKey) {
    throw new DomainError(
      'IDEMPOTENCY_KEY_REQUIRED',
      'Send an Idempotency-Key header (a UUID is a good choice) so a retry cannot buy twice',
    );
  }
  const idempotencyKey = scopedIdempotencyKey(givenKey, request.customer.email);
  const seatIds = request.seatIds ?? [];
  const namesSeats = seatIds.length > 0;
  if (namesSeats === (request.best !== undefined)) {
    throw new DomainError('VALIDATION_FAILED', 'Give either seatIds or best, one of the two', [
      { in: 'body', path: 'seatIds', message: 'give either seatIds or best, one of the two' },
    ]);
  }
  if ((request.best?.count ?? seatIds.length) > config.MAX_SEATS_PER_ORDER) {
    throw new DomainError('TOO_MANY_SEATS', `At most ${config.MAX_SEATS_PER_ORDER} seats per order`);
  }
  if (new Set(seatIds).size !== seatIds.length) {
    throw new DomainError('DUPLICATE_SEATS', 'A seat is listed more than once', { seatIds });
  }
  const showing = await saleCatalog.showing(request.showingId);
  if (!showing) throw new DomainError('SHOWING_NOT_FOUND', `Showing ${request.showingId} does not exist`);
  if (showing.cancelledAt || showing.startsAt.getTime() <= Date.now()) {
    throw new DomainError('SHOWING_NOT_ON_SALE', `Showing ${request.showingId} is not on sale`, {
      reason: showing.cancelledAt ? 'cancelled' : 'started',
    });
  }
  if (request.best) await refuseWhenTooFewFree(deps, request.showingId, request.best.count);
  const hallSeats = await saleCatalog.hallSeats(showing.hallId);
  const foreign = seatIds.filter((seatId) => !hallSeats.has(seatId));
  if (foreign.length > 0) {
    throw new DomainError('SEAT_NOT_IN_HALL', "Some seats are not in the showing's hall", { seatIds: foreign });
  }

  const winner = await orderThatTookTheSeats(deps, request, idempotencyKey);
  if (winner) return replay(deps, winner, requestHash(request), waitMs);

  const hash = requestHash(request);
  const id = randomUUID();
  const createdAt = new Date();
  // How buyers see the order once it is durable: queued (published with its INSERT's batch).
  const queued = toOrderView(
    {
      id,
      status: 'queued',
      showingId: request.showingId,
      best: request.best ?? null,
      total: null,
      currency: showing.currency,
      holdExpiresAt: null,
      rejectedSeatIds: null,
      failureReason: null,
      paymentStatus: null,
      refundedTotal: 0,
      createdAt,
      decidedAt: null,
      updatedAt: createdAt,
      version: 1,
    },
    seatIds.map((seatId) => {
      const seat = hallSeats.get(seatId)!;
      return { seatId, row: seat.row, number: seat.number, price: null, ticketId: null, ticketStatus: null };
    }),
  );
  const waiting = waitMs > 0 ? await events.waitFor(id, waitMs) : undefined;
  const inserted = await orderInserts
    .insert(
      {
        id,
        showingId: request.showingId,
        seatIds,
        best: request.best ?? null,
        customerEmail: request.customer.email,
        customerName: request.customer.name ?? null,
        currency: showing.currency,
        idempotencyKey,
        requestHash: hash,
        paymentToken: request.payment?.token ?? null,
        requestId: requestId ?? null,
        clientKey: client === undefined ? null : clientKey(client, config.ORDER_TOKEN_SECRET),
        createdAt,
      },
      queued,
    )
    .catch((error: unknown) => {
      waiting?.cancel();
      throw error;
    });

  if (!inserted) {
    waiting?.cancel();
    return replay(deps, await orderInserts.orderWithKey(idempotencyKey), hash, waitMs);
  }
  deps.orderViews.keep(queued);
  const decided = waiting ? await waiting.decided : null;
  return {
    order: decided ?? queued,
    accessToken: accessTokenFor(id, config.ORDER_TOKEN_SECRET),
    decided: decided !== null,
  };
}

/**
 * A "best N" order for a showing with fewer than N free seats is refused at once (NOT_ENOUGH_SEATS)
 * instead of going through the queue to the same end. Asked of the database only when the seat map
 * this process holds shows too few free: a sold-out showing's retries cost one indexed read each.
 */
async function refuseWhenTooFewFree(deps: Deps, showingId: number, count: number): Promise<void> {
  const held = deps.seatMaps.heldFreeSeats(showingId);
  if (held === undefined || held >= count) return;
  const free = await saleCatalogRepository.freeSeats(deps.db, showingId);
  if (free < count) {
    throw new DomainError('NOT_ENOUGH_SEATS', `Showing ${showingId} has ${free} free seats, fewer than ${count}`, {
      freeSeats: free,
    });
  }
}

/**
 * Seats the cinema blocked are refused at once (SEAT_BLOCKED), and so are seats taken as of this
 * request (SEAT_TAKEN): the queue would reject the order
 * anyway. Asked of the database only when the seat map this process holds (a version behind at most)
 * shows one taken. A retry of the order that got these very seats gets that order, to replay, instead
 * of a refusal; its key is asked after the seats, and an order's row commits before its tickets, so
 * tickets seen mean its key is seen too.
 */
async function orderThatTookTheSeats(deps: Deps, request: OrderRequest, idempotencyKey: string) {
  const seatIds = request.seatIds ?? [];
  if (seatIds.length === 0 || deps.seatMaps.heldTaken(request.showingId, seatIds).length === 0) return undefined;
  const { taken, blocked } = await deps.orderInserts.unavailableSeats(request.showingId, seatIds);
  if (blocked.length > 0) {
    throw new DomainError('SEAT_BLOCKED', 'Some of these seats are not on sale for this showing', {
      seatIds: blocked,
      takenSeatIds: taken,
    });
  }
  if (taken.length === 0) return undefined;
  const existing = await deps.orderInserts.orderWithKey(idempotencyKey);
  if (!existing) throw new DomainError('SEAT_TAKEN', 'Some of these seats are taken', { seatIds: taken });
  return existing;
}

/**
 * The key was used before: the same request gets its order back (waiting for its decision like
 * the first request would have), a different one is refused.
 */
async function replay(
  deps: Deps,
  existing: { id: string; requestHash: string } | undefined,
  hash: string,
  waitMs: number,
): Promise<PlacedOrder> {
  if (!existing || existing.requestHash !== hash) {
    throw new DomainError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request');
  }
  // Listen before reading, so a decision published in between is not missed.
  const waiting = waitMs > 0 ? await deps.events.waitFor(existing.id, waitMs) : undefined;
  let order: OrderView;
  try {
    const current = await getOrderView(deps, existing.id);
    order = current.status === 'queued' && waiting ? ((await waiting.decided) ?? current) : current;
  } finally {
    waiting?.cancel();
  }
  return {
    order,
    accessToken: accessTokenFor(existing.id, deps.config.ORDER_TOKEN_SECRET),
    decided: order.status !== 'queued',
  };
}
