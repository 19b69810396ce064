import { z } from 'zod';
import { defineRoute, type Route } from '../../api/http/route.js';
import { isoTimestamp, patchOf, text } from '../../api/http/schemas.js';
import { DECLINE_CODES } from './behaviour.js';
import {
  CHARGE_STATUSES,
  createCharge,
  createRefund,
  getCharge,
  listCharges,
  listRefunds,
  type ProviderDeps,
} from './charges.js';
import { documented } from './errors.js';

const TAG = 'Payment service';

/** PostgreSQL's integer: a larger amount is a 400, not a failed insert. */
const amount = z.number().int().min(1).max(2_147_483_647).describe('In minor units (kopecks, cents)');

const idempotencyKey = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe('Required. A replay with the same body gets the stored outcome; with another body, 422'),
});

const charge = z.object({
  id: z.uuid(),
  status: z.enum(CHARGE_STATUSES),
  amount: z.number(),
  currency: z.string(),
  reference: z.string(),
  declineCode: z.enum(DECLINE_CODES).nullable(),
  refundedAmount: z.number(),
  createdAt: isoTimestamp,
});

const refund = z.object({
  id: z.uuid(),
  chargeId: z.uuid(),
  amount: z.number(),
  reason: z.string().nullable(),
  status: z.literal('succeeded'),
  createdAt: isoTimestamp,
});

const ms = z.number().min(0).max(600_000);
const rate = z.number().min(0).max(1);
const behaviourFields = {
  latencyMedianMs: ms,
  latencyP99Ms: ms.describe('Latency is log-normal with this median and 99th percentile'),
  declineRate: rate,
  errorRate: rate.describe('Share of charges and refunds answered 503 at once, with nothing done'),
  timeoutRate: rate.describe('Share of new charges answered 503 only after hangMs, with nothing charged'),
  timeoutAfterChargeRate: rate.describe('Share of new charges that succeed but are answered only after hangMs'),
  hangMs: ms.int(),
};
const behaviour = z.object(behaviourFields);

/** The simulator's HTTP API, served by the `payments` role on the process's port, under /api/v1. */
export const providerRoutes = (provider: ProviderDeps): Route[] => [
  defineRoute({
    method: 'post',
    path: '/charges',
    tag: TAG,
    summary:
      'Charge a card, once per Idempotency-Key (402 CARD_DECLINED carries the declined charge in details.charge)',
    guard: 'serviceKey',
    headers: idempotencyKey,
    body: z.strictObject({
      amount,
      currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as RUB'),
      reference: text(1, 200).describe('The caller’s reference, such as an order id; charges can be listed by it'),
      token: text(1, 200).describe(
        'Card token. tok_decline, tok_insufficient_funds, tok_error, tok_timeout and tok_timeout_after_charge ask for that outcome',
      ),
    }),
    response: charge,
    status: 201,
    errors: documented(
      'IDEMPOTENCY_KEY_REQUIRED',
      'IDEMPOTENCY_KEY_REUSED',
      'REQUEST_IN_PROGRESS',
      'CARD_DECLINED',
      'PROVIDER_UNAVAILABLE',
    ),
    handler: ({ body, headers }) => createCharge(provider, body, headers['idempotency-key']),
  }),
  defineRoute({
    method: 'get',
    path: '/charges/:id',
    tag: TAG,
    summary: 'A charge',
    guard: 'serviceKey',
    params: z.strictObject({ id: z.uuid() }),
    response: charge,
    errors: documented('CHARGE_NOT_FOUND'),
    handler: ({ params }) => getCharge(provider, params.id),
  }),
  defineRoute({
    method: 'get',
    path: '/charges',
    tag: TAG,
    summary: 'Charges of a reference, newest first (processing ones included)',
    guard: 'serviceKey',
    query: z.strictObject({ reference: text(1, 200) }),
    response: z.object({ data: z.array(charge) }),
    handler: ({ query }) => listCharges(provider, query.reference),
  }),
  defineRoute({
    method: 'post',
    path: '/refunds',
    tag: TAG,
    summary: 'Refund part or all of a succeeded charge, once per Idempotency-Key',
    guard: 'serviceKey',
    headers: idempotencyKey,
    body: z.strictObject({ chargeId: z.uuid(), amount, reason: text(1, 200).optional() }),
    response: refund,
    status: 201,
    errors: documented(
      'IDEMPOTENCY_KEY_REQUIRED',
      'IDEMPOTENCY_KEY_REUSED',
      'CHARGE_NOT_FOUND',
      'CHARGE_NOT_REFUNDABLE',
      'REFUND_EXCEEDS_CHARGE',
      'PROVIDER_UNAVAILABLE',
    ),
    handler: ({ body, headers }) => createRefund(provider, body, headers['idempotency-key']),
  }),
  defineRoute({
    method: 'get',
    path: '/refunds',
    tag: TAG,
    summary: 'Refunds of a charge, newest first',
    guard: 'serviceKey',
    query: z.strictObject({ chargeId: z.uuid() }),
    response: z.object({ data: z.array(refund) }),
    errors: documented('CHARGE_NOT_FOUND'),
    handler: ({ query }) => listRefunds(provider, query.chargeId),
  }),
  defineRoute({
    method: 'get',
    path: '/payment-behaviour',
    tag: TAG,
    summary: 'The simulated provider behaviour in force in this instance',
    guard: 'serviceKey',
    response: behaviour,
    handler: async () => provider.behaviour.current(),
  }),
  defineRoute({
    method: 'put',
    path: '/payment-behaviour',
    tag: TAG,
    summary: 'Change the simulated provider behaviour of this instance (fields left out stay); until restart',
    guard: 'serviceKey',
    body: patchOf(behaviourFields),
    response: behaviour,
    handler: async ({ body }) => provider.behaviour.change(body),
  }),
];
