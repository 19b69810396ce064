import type { Deps } from '../context.js';
import { warnThrottled } from '../throttled-log.js';

/** The idempotency key of an order's charge: however often it is retried, it is one charge. */
export const chargeKey = (orderId: string) => `charge:${orderId}`;

/** Thrown to have a payment job retried later (with backoff); not a failure of the order. */
export class PaymentPending extends Error {}

// The order or refund row is committed before its job is sent: a job lost with Redis is re-sent by
// the reconcile sweep, so a failed send is logged, not thrown.

/** Sends the jobs; a failed send is left to the sweep, with one warning per few seconds while it lasts. */
async function sendOrLeaveToSweep(deps: Deps, kind: 'charge' | 'refund', send: () => Promise<unknown>) {
  await send().catch((error: unknown) =>
    warnThrottled(
      deps.log,
      `${kind}-jobs`,
      { reason: (error as Error).message },
      `${kind} jobs not sent; the sweep will`,
    ),
  );
}

export async function requestCharges(deps: Deps, orderIds: string[]) {
  if (orderIds.length > 0) await sendOrLeaveToSweep(deps, 'charge', () => deps.jobs.requestCharges(orderIds));
}

export async function requestRefunds(deps: Deps, paymentIds: string[]) {
  if (paymentIds.length > 0) await sendOrLeaveToSweep(deps, 'refund', () => deps.jobs.requestRefunds(paymentIds));
}
