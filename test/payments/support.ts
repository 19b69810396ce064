import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { PaymentBehaviour } from '../../simulators/payment-provider/behaviour.js';
import { api, testSystem, type ApiResponse } from '../system.js';
import {
  eventually,
  getOrder,
  orderBody,
  overrideConfig,
  submit,
  workerControl,
  type OrderView,
  type PlacedView,
} from '../orders/support.js';

export type ProviderCharge = { id: string; status: string; amount: number; reference: string; refundedAmount: number };

/** POST /orders/:id/cancel as the buyer sends it: the whole order, or `{ ticketIds }`. */
export const cancel = (
  order: { id: string; accessToken: string },
  body?: unknown,
  token: string | null = order.accessToken,
) => api('POST', `/api/v1/orders/${order.id}/cancel`, { body, token });

/** A buyer's order with a card token, as the payment form would send it; accepted (202 or 200). */
export async function placePaying(showingId: number, seatIds: number[], token: string): Promise<PlacedView> {
  const response = await submit({ ...orderBody(showingId, seatIds), payment: { token } }, { key: randomUUID() });
  expect(response.status, JSON.stringify(response.body)).to.be.oneOf([200, 202]);
  return response.body;
}

/** Polls GET /orders/:id until `done` holds for the order. */
export function untilOrder(
  order: PlacedView,
  what: string,
  done: (view: OrderView) => boolean,
  timeoutMs = 10_000,
): Promise<OrderView> {
  return eventually(
    `order ${order.id} to be ${what}`,
    async () => {
      const response = await getOrder(order.id, order.accessToken);
      return done(response.body) ? response.body : undefined;
    },
    timeoutMs,
  );
}

async function asPaymentService<T>(
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
): Promise<ApiResponse<T>> {
  const { config } = await testSystem();
  return api<T>(method, `/api/v1${path}`, { body, headers, token: config.PAYMENT_SERVICE_KEY });
}

/** What the payment service itself holds for an order: its truth, not ours. */
export async function providerCharges(orderId: string): Promise<ProviderCharge[]> {
  const response = await asPaymentService<{ data: ProviderCharge[] }>('GET', `/charges?reference=${orderId}`);
  expect(response.status, JSON.stringify(response.body)).to.equal(200);
  return response.body.data;
}

/** Charges at the payment service directly, as a late attempt of ours that landed after all would. */
export function chargeDirectly(orderId: string, amount: number, idempotencyKey: string) {
  return asPaymentService<ProviderCharge>(
    'POST',
    '/charges',
    { amount, currency: 'RUB', reference: orderId, token: 'tok_ok' },
    { 'idempotency-key': idempotencyKey },
  );
}

/** Switches the payment service's fault modes; returns a function restoring the previous ones. */
export async function switchBehaviour(change: Partial<PaymentBehaviour>): Promise<() => Promise<void>> {
  const before = await asPaymentService<PaymentBehaviour>('GET', '/payment-behaviour');
  expect(before.status, JSON.stringify(before.body)).to.equal(200);
  const changed = await asPaymentService('PUT', '/payment-behaviour', change);
  expect(changed.status, JSON.stringify(changed.body)).to.equal(200);
  return async () => {
    await asPaymentService('PUT', '/payment-behaviour', before.body);
  };
}

/** Our own record of an order's charges and refunds. */
export async function paymentRows(
  orderId: string,
): Promise<{ kind: string; status: string; amount: number; idempotencyKey: string }[]> {
  const { deps } = await testSystem();
  return deps
    .db('payments')
    .select('kind', 'status', 'amount', 'idempotency_key as idempotencyKey')
    .where('order_id', orderId)
    .orderBy('created_at');
}

/** Mocha hooks for a suite of paying buyers: payment required, workers running for the whole suite. */
export function withPaymentWorkers(): ReturnType<typeof workerControl> {
  const workers = workerControl();
  let restore: () => void = () => {};
  before(async () => {
    restore = await overrideConfig({ CONFIRM_WITHOUT_PAYMENT: false });
    await workers.start();
  });
  after(async () => {
    await workers.stop();
    restore();
  });
  return workers;
}
