import { ordersRepository } from '../../db/repositories/orders.js';
import { paymentsRepository } from '../../db/repositories/payments.js';
import type { Deps } from '../context.js';
import type { PaymentProvider } from '../ports.js';
import { lookUpCharge } from './look-up-charge.js';
import { chargeKey, requestCharges, requestRefunds } from './payment-jobs.js';
import { settleAwaitingOrder, settleCharge } from './settle-charge.js';

const SWEEP_BATCH = 100;
/** Lookups in flight at once: each may wait PAYMENT_TIMEOUT_MS on a hanging service. */
const LOOKUPS_AT_ONCE = 10;

async function inChunks<T>(items: T[], work: (item: T) => Promise<void>) {
  for (let start = 0; start < items.length; start += LOOKUPS_AT_ONCE) {
    await Promise.all(items.slice(start, start + LOOKUPS_AT_ONCE).map(work));
  }
}

/**
 * The saga's safety net, run by the sweeps:
 * - orders whose payment is unsettled past hold TTL + its extension (the reconcile window in an
 *   outage, the grace otherwise) are settled with the payment service's truth (paid → confirmed;
 *   declined, nothing or no answer → seats released);
 * - charges left unknown on orders that no longer wait for them are looked up, and refunded if
 *   they went through;
 * - charge and refund jobs lost with Redis are sent again (their ids dedupe them).
 */
export async function reconcilePayments(deps: Deps, provider: PaymentProvider): Promise<void> {
  const { db, config } = deps;
  await inChunks(
    await ordersRepository.overduePayments(
      db,
      { outageSeconds: config.PAYMENT_RECONCILE_WINDOW_SECONDS, graceSeconds: config.PAYMENT_HOLD_GRACE_SECONDS },
      SWEEP_BATCH,
    ),
    async (orderId) => {
      const outcome = await lookUpCharge(provider, orderId);
      if (outcome && outcome.kind !== 'unknown') await settleCharge(deps, orderId, outcome);
      else await giveUpPayment(deps, orderId);
    },
  );
  // Looked at again every two call timeouts; a charge the service has never heard of is taken as
  // not made only after the reconcile window, since a request may reach the service late.
  const closedCharges = await paymentsRepository.unsettledChargesOfClosedOrders(db, {
    olderThanMs: config.PAYMENT_TIMEOUT_MS * 2,
    giveUpAfterSeconds: config.PAYMENT_RECONCILE_WINDOW_SECONDS,
    limit: SWEEP_BATCH,
  });
  await inChunks(closedCharges, async ({ orderId, givenUp }) => {
    const outcome = await lookUpCharge(provider, orderId);
    const key = chargeKey(orderId);
    if (outcome && outcome.kind !== 'unknown') await settleCharge(deps, orderId, outcome);
    else if (outcome && givenUp)
      await paymentsRepository.settlePayment(db, key, { status: 'failed', failureReason: 'NOT_CHARGED' });
    else
      await paymentsRepository.settlePayment(db, key, {
        status: 'unknown',
        failureReason: outcome ? 'NOT_FOUND_YET' : 'LOOKUP_FAILED',
      });
  });
  const stalledAfterMs = Math.max(config.PAYMENT_RETRY_MAX_MS, config.PAYMENT_TIMEOUT_MS) * 2;
  const stalled = await ordersRepository.stalledPayments(db, stalledAfterMs, SWEEP_BATCH);
  await requestCharges(deps, stalled);
  await requestRefunds(deps, await paymentsRepository.unsettledRefunds(db, stalledAfterMs, SWEEP_BATCH));
}

/**
 * The payment stayed unresolved past the hold and its extension: the seats go back on sale.
 * The charge stays recorded as unsettled, so if the service later shows it went through, the
 * reconcile sweep refunds it.
 */
const giveUpPayment = (deps: Deps, orderId: string) =>
  settleAwaitingOrder(deps, orderId, 'released', {
    status: 'payment_failed',
    failureReason: 'PAYMENT_UNRESOLVED',
    paymentStatus: 'unresolved',
    endHold: true,
  });
