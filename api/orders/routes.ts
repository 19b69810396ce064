import { z } from 'zod';
import { cancelOrder } from '../../domain/cancellation/cancel-order.js';
import { cancelShowing } from '../../domain/cancellation/cancel-showing.js';
import { ORDER_STATUSES } from '../../domain/model/order-states.js';
import { PAYMENT_STATUSES } from '../../domain/model/payments.js';
import { SEAT_STATUSES, TICKET_STATUSES } from '../../domain/model/tickets.js';
import { getOrder } from '../../domain/orders/get-order.js';
import { placeOrder } from '../../domain/orders/place-order.js';
import { getSeatMap } from '../../domain/orders/seat-maps.js';
import { listTicketsOfShowing } from '../../domain/orders/showing-tickets.js';
import { payOrder } from '../../domain/payments/pay-order.js';
import { bearerToken } from '../http/auth.js';
import { API_BASE } from '../http/base.js';
import { defineRoute, Reply, tagged, taggedHeaders, type Route } from '../http/route.js';
import { bestCategory, MAX_BEST_COUNT } from '../seating/routes.js';
import { conditional, idParams, isoTimestamp, page, pageQuery, refId, text } from '../http/schemas.js';

const cardToken = text(1, 200).describe('Card token from the payment form (tok_...)');

const bestRequest = z.strictObject({
  count: z.number().int().min(1).max(MAX_BEST_COUNT).describe('How many people (a double seat counts as two)'),
  category: bestCategory.optional(),
  accessible: z.boolean().optional().describe('true: the group includes a wheelchair space'),
});

const orderBody = z.strictObject({
  showingId: refId,
  seatIds: z
    .array(refId)
    .min(1)
    .max(10)
    .optional()
    .describe('1 to 10 seat ids of the showing’s hall; all or nothing. Give either seatIds or best'),
  best: bestRequest
    .optional()
    .describe(
      'Instead of seatIds: the best seats together free at the order’s turn (GET /showings/{id}/seats/best previews them); refused NO_SEATS_TOGETHER rather than split',
    ),
  customer: z.strictObject({ email: z.email().max(254), name: text(1, 200).optional() }),
  payment: z
    .strictObject({ token: cardToken })
    .optional()
    .describe('With a token the order is charged as soon as its seats are held; without one the hold simply expires'),
});

const order = z.object({
  id: z.uuid(),
  status: z.enum(ORDER_STATUSES),
  showingId: z.number(),
  best: bestRequest.nullable().describe('What a "best N" order asked for; its seats appear once chosen'),
  seats: z.array(
    z.object({
      seatId: z.number(),
      row: z.string(),
      number: z.number(),
      price: z.number().nullable(),
      ticketId: z.number().nullable().describe('Once the seat is held for this order'),
      ticketStatus: z.enum(TICKET_STATUSES).nullable(),
    }),
  ),
  total: z.number().nullable(),
  currency: z.string(),
  holdExpiresAt: isoTimestamp.nullable(),
  rejectedSeatIds: z
    .array(z.number())
    .describe(
      'For a rejected order: the requested seats that were taken or blocked, or (ORPHAN_SEAT) the seats it would have left alone',
    ),
  reason: z
    .string()
    .nullable()
    .describe(
      'SEAT_TAKEN, SEAT_BLOCKED, ORPHAN_SEAT, NO_SEATS_TOGETHER, NOT_ENOUGH_SEATS, HOLD_LIMIT, ADDRESS_HOLD_LIMIT, SHOWING_NOT_ON_SALE, HOLD_EXPIRED, CARD_DECLINED, PAYMENT_UNRESOLVED, ...',
    ),
  paymentStatus: z.enum(PAYMENT_STATUSES).nullable(),
  refundedTotal: z.number(),
  createdAt: isoTimestamp,
  decidedAt: isoTimestamp.nullable(),
  updatedAt: isoTimestamp,
  version: z
    .number()
    .describe('Grows with every change of the order: of two views (a poll, a pushed update), the higher is the newer'),
});

const submitHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe('Required. A replay with the same body returns the same order'),
  prefer: z
    .string()
    .max(200)
    .optional()
    .describe(
      'RFC 7240 preferences; wait=N holds the response up to N seconds for the decision (200), else 202 as usual',
    ),
  'x-request-id': z
    .string()
    .optional()
    .describe(
      'Optional. Up to 128 of A-Z a-z 0-9 . _ -, else one is made up; the answer returns it, and every log line about the order carries it',
    ),
});

/**
 * Where and when to poll an undecided order: its resource, and a second (RFC 9110 Retry-After takes
 * whole seconds; decisions usually take a few milliseconds, and a Socket.IO subscription hears them at once).
 */
const pollHere = (orderId: string) => ({ location: `${API_BASE}/orders/${orderId}`, 'retry-after': '1' });

/** The `wait` preference in seconds (RFC 7240: `Prefer: respond-async, wait=5`), 0 when absent. */
const preferredWaitSeconds = (prefer: string | undefined) =>
  Number(prefer?.match(/(?:^|[,;\s])wait=(\d{1,4})\b/i)?.[1] ?? 0);

/** An order's version as its entity tag: what a poll sends back in If-None-Match. */
const orderTag = (view: { version: number }) => ({ etag: `"${view.version}"` });
const ORDER_TAG =
  "The order's version; If-None-Match with it on GET /orders/{id} is answered 304 while the order is unchanged";

const bearer = z.object({ authorization: z.string().optional().describe('Bearer <accessToken of the order>') });
const orderToken = z.strictObject({ token: z.string().max(200).optional() });
const tokenOf = (query: { token?: string }, headers: { authorization?: string }) =>
  query.token ?? bearerToken(headers.authorization);

export const orderRoutes: Route[] = [
  defineRoute({
    method: 'post',
    path: '/orders',
    tag: 'Orders',
    summary: 'Submit an order for one or more seats of a showing (queued; decided first come, first served)',
    body: orderBody,
    headers: submitHeaders,
    response: order.extend({ accessToken: z.string().describe('The only key to this order: keep it') }),
    status: 202,
    alsoStatus: [200],
    responseHeaders: {
      202: { Location: 'Where to poll the order', 'Retry-After': 'Seconds to wait before polling', ETag: ORDER_TAG },
      200: { ETag: ORDER_TAG },
    },
    fastPath: true,
    errors: [
      'IDEMPOTENCY_KEY_REQUIRED',
      'IDEMPOTENCY_KEY_REUSED',
      'SHOWING_NOT_FOUND',
      'SHOWING_NOT_ON_SALE',
      'SEAT_NOT_IN_HALL',
      'SEAT_TAKEN',
      'SEAT_BLOCKED',
      'NOT_ENOUGH_SEATS',
      'DUPLICATE_SEATS',
      'TOO_MANY_SEATS',
    ],
    handler: async ({ body, headers, client }, deps) => {
      const waitSeconds = Math.min(preferredWaitSeconds(headers.prefer), deps.config.MAX_DECISION_WAIT_SECONDS);
      const placed = await placeOrder(deps, body, {
        idempotencyKey: headers['idempotency-key'],
        waitMs: waitSeconds * 1000,
        requestId: headers['x-request-id'],
        client,
      });
      const answer = { ...placed.order, accessToken: placed.accessToken };
      // The version as the ETag, so the first poll can already be answered 304.
      const etag = orderTag(placed.order);
      return placed.decided
        ? new Reply(200, answer, etag)
        : new Reply(202, answer, { ...etag, ...pollHere(placed.order.id) });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/orders/:id',
    orderToken: true,
    tag: 'Orders',
    summary:
      'Read an order with its access token (Authorization: Bearer <token> or ?token=); its version is the ETag, and an undecided order says when to ask again',
    params: z.strictObject({ id: z.uuid() }),
    query: orderToken,
    headers: bearer.extend(conditional.shape),
    response: order,
    responseHeaders: {
      200: {
        ETag: ORDER_TAG,
        'Retry-After': 'While the order is queued: seconds to wait before polling again',
      },
    },
    fastPath: true,
    errors: ['ORDER_NOT_FOUND'],
    handler: async ({ params, query, headers }, deps) => {
      const view = await getOrder(deps, params.id, tokenOf(query, headers));
      return new Reply(200, view, {
        ...orderTag(view),
        ...(view.status === 'queued' ? { 'retry-after': pollHere(view.id)['retry-after'] } : {}),
      });
    },
  }),
  defineRoute({
    method: 'post',
    path: '/orders/:id/payment',
    orderToken: true,
    tag: 'Orders',
    summary:
      'Pay a held order that was placed without a card token (with its access token); the charge runs in the background',
    params: z.strictObject({ id: z.uuid() }),
    query: orderToken,
    headers: bearer,
    body: z.strictObject({ token: cardToken }),
    response: order,
    errors: ['ORDER_NOT_FOUND', 'ORDER_NOT_PAYABLE'],
    responseHeaders: { 200: { ETag: ORDER_TAG } },
    handler: async ({ params, query, headers, body }, deps) => {
      const view = await payOrder(deps, params.id, tokenOf(query, headers), body.token);
      return new Reply(200, view, orderTag(view));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/orders/:id/cancel',
    orderToken: true,
    tag: 'Orders',
    summary: 'Cancel the order, or some tickets of a paid order, with its access token; paid tickets are refunded',
    params: z.strictObject({ id: z.uuid() }),
    query: orderToken,
    headers: bearer,
    body: z
      .strictObject({
        ticketIds: z.array(refId).min(1).max(10).optional().describe('Cancel only these tickets (a paid order)'),
      })
      .optional(),
    response: order,
    errors: ['ORDER_NOT_FOUND', 'ORDER_NOT_CANCELLABLE', 'CANCELLATION_CLOSED', 'TICKET_NOT_IN_ORDER'],
    responseHeaders: { 200: { ETag: ORDER_TAG } },
    handler: async ({ params, query, headers, body }, deps) => {
      const view = await cancelOrder(deps, params.id, tokenOf(query, headers), body?.ticketIds);
      return new Reply(200, view, orderTag(view));
    },
  }),
];

const seatStatus = z.enum(SEAT_STATUSES);

export const showingSalesRoutes: Route[] = [
  defineRoute({
    method: 'get',
    path: '/showings/:id/seats',
    tag: 'Showings',
    summary:
      'Seat map of a showing: every seat with position, category, price and status (free, held, sold, or blocked by the cinema); exact as of the request, with an ETag',
    params: idParams,
    headers: conditional,
    responseHeaders: taggedHeaders,
    fastPath: true,
    response: z.object({
      showingId: z.number(),
      version: z.number().describe('Seat-map version of this snapshot; live seats:update deltas continue from it'),
      hallId: z.number(),
      currency: z.string(),
      freeSeats: z.number(),
      rows: z.array(
        z.object({
          label: z.string(),
          y: z.number(),
          seats: z.array(
            z.object({
              id: z.number(),
              number: z.number(),
              x: z.number(),
              width: z.number(),
              category: z.string(),
              price: z.number().nullable(),
              status: seatStatus,
            }),
          ),
        }),
      ),
    }),
    errors: ['SHOWING_NOT_FOUND'],
    handler: async ({ params }, deps) => tagged(await getSeatMap(deps, params.id)),
  }),
  defineRoute({
    method: 'get',
    path: '/showings/:id/tickets',
    tag: 'Showings',
    summary: "Tickets of a showing, cancelled and released ones included (admin, or the cinema's operator)",
    guard: 'manager',
    params: idParams,
    query: z.strictObject({ ...pageQuery, status: z.enum(TICKET_STATUSES).optional() }),
    response: page(
      z.object({
        id: z.number(),
        orderId: z.string(),
        seatId: z.number(),
        row: z.string(),
        number: z.number(),
        price: z.number(),
        status: z.enum(TICKET_STATUSES),
        createdAt: isoTimestamp,
        cancelledAt: isoTimestamp.nullable(),
      }),
    ),
    errors: ['SHOWING_NOT_FOUND', 'INVALID_CURSOR'],
    handler: ({ params, query, actor }, deps) => listTicketsOfShowing(deps, params.id, query, actor),
  }),
  defineRoute({
    method: 'post',
    path: '/showings/:id/cancel',
    tag: 'Showings',
    summary:
      "Cancel a showing (admin, or the cinema's operator): it leaves sale; every order holding or owning its seats is cancelled and refunded",
    guard: 'manager',
    params: idParams,
    response: z.object({ showingId: z.number(), cancelledOrders: z.number(), refundsRequested: z.number() }),
    errors: ['SHOWING_NOT_FOUND', 'SHOWING_ALREADY_CANCELLED'],
    handler: ({ params, actor }, deps) => cancelShowing(deps, actor, params.id),
  }),
];
