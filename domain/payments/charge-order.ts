import { ordersRepository } from '../../db/repositories/orders.js';
import { paymentsRepository } from '../../db/repositories/payments.js';
import type { Deps } from '../context.js';
import { publishOrderUpdates } from '../orders/publish-orders.js';
import type { PaymentProvider } from '../ports.js';
import { lookUpCharge } from './look-up-charge.js';
import { chargeKey, PaymentPending } from './payment-jobs.js';
import { settleAwaitingOrder, settleCharge } from './settle-charge.js';

/**
 * The charge job of the payment saga. Seats are held first (allocation); then the order is charged
 * with `charge:<orderId>` as the idempotency key, so however often it is retried it is one charge.
 * Our payments row is written before the call, so a charge that may have happened is never
 * unrecorded. A known outcome is settled at once; an unknown one (timeout, 5xx, breaker open) is
 * looked up by reference, and otherwise the job is retried later with the same key.
 */
export async function chargeOrder(deps: Deps, provider: PaymentProvider, orderId: string): Promise<void> {
  const order = await ordersRepository.payable(deps.db, orderId);
  // Cancelled, expired or settled meanwhile: nothing to charge. A charge that might have gone
  // through on an earlier attempt is still recorded and the reconcile sweep looks it up.
  if (!order || order.status !== 'awaiting_payment' || !order.paymentToken || order.total === null) return;
  if (order.total === 0) return confirmFreeOrder(deps, orderId);
  const idempotencyKey = chargeKey(orderId);
  await paymentsRepository.recordChargeAttempt(deps.db, {
    orderId,
    idempotencyKey,
    amount: order.total,
    currency: order.currency,
  });
  const outcome = await provider.charge({
    amount: order.total,
    currency: order.currency,
    reference: orderId,
    token: order.paymentToken,
    idempotencyKey,
  });
  const lookUp = outcome.kind === 'unknown' && !outcome.providerUnavailable;
  const known = lookUp ? ((await lookUpCharge(provider, orderId)) ?? outcome) : outcome;
  if (known.kind !== 'unknown') return settleCharge(deps, orderId, known);

  await paymentsRepository.settlePayment(deps.db, idempotencyKey, { status: 'unknown', failureReason: known.reason });
  const paymentStatus = known.providerUnavailable ? 'provider_unavailable' : 'retrying';
  if (await ordersRepository.setPaymentInFlightStatus(deps.db, orderId, paymentStatus)) {
    await publishOrderUpdates(deps, [orderId]);
  }
  throw new PaymentPending(`charge of order ${orderId}: ${known.reason}`);
}

/** Free seats (price 0) need no charge. */
const confirmFreeOrder = (deps: Deps, orderId: string) =>
  settleAwaitingOrder(deps, orderId, 'sold', { status: 'confirmed', paymentStatus: 'paid', endHold: true });
