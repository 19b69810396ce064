import { ordersRepository } from '../../db/repositories/orders.js';
import { paymentsRepository } from '../../db/repositories/payments.js';
import type { Deps } from '../context.js';
import { publishOrderUpdates } from '../orders/publish-orders.js';
import type { PaymentProvider } from '../ports.js';
import { PaymentPending } from './payment-jobs.js';

/**
 * The refund job: sends a recorded refund to the provider with its own idempotency key, and counts
 * it on its order once it went through. Given up (and logged as an error) only when the provider
 * says it can never be made; any other answer is retried.
 */
export async function refundPayment(deps: Deps, provider: PaymentProvider, paymentId: string): Promise<void> {
  const refund = await paymentsRepository.payment(deps.db, paymentId);
  if (!refund || refund.kind !== 'refund' || refund.status === 'succeeded' || refund.status === 'failed') return;
  const charge = await paymentsRepository.succeededCharge(deps.db, refund.orderId);
  if (!charge?.providerReference) throw new Error(`refund ${paymentId}: the order has no successful charge to refund`);
  const outcome = await provider.refund({
    chargeId: charge.providerReference,
    amount: refund.amount,
    reason: 'cancelled',
    idempotencyKey: refund.idempotencyKey,
  });
  if (outcome.kind === 'succeeded') {
    await deps.db.transaction(async (trx) => {
      // The order first, as every writer of an order and its showing does: completing the refund
      // counts it in the showing's sales, which locks the showing's row.
      await ordersRepository.payable(trx, refund.orderId, { lock: true });
      const done = await paymentsRepository.completeRefund(trx, paymentId, outcome.refundId);
      if (done) await ordersRepository.addRefund(trx, done.orderId, done.amount);
    });
    await publishOrderUpdates(deps, [refund.orderId]);
    return;
  }
  if (outcome.kind === 'refused') {
    // A refund the service refuses (more than was charged) is a bug on our side: keep it visible.
    await paymentsRepository.markPayment(deps.db, paymentId, 'failed', outcome.code);
    deps.log.error({ paymentId, code: outcome.code }, 'refund refused by the payment service');
    return;
  }
  await paymentsRepository.markPayment(deps.db, paymentId, 'unknown', outcome.reason);
  throw new PaymentPending(`refund ${paymentId}: ${outcome.reason}`);
}
