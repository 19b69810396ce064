import { paymentsRepository, type OrderChange } from '../../db/repositories/payments.js';
import type { SeatDelta } from '../../db/repositories/seat-versions.js';
import type { Deps } from '../context.js';
import { DomainError } from '../errors.js';
import { checkOrderAccess, getOrderView, orderNotFound, publishOrderUpdates } from '../orders/get-order.js';
import type { OrderView } from '../orders/view.js';
import type { ChargeOutcome, PaymentClient } from './client.js';

/**
 * The payment saga. Seats are held first (allocation); then the order is charged, with the order
 * id as the idempotency key, so however often a charge is retried it is one charge:
 * - succeeded: tickets sold and order confirmed, in one transaction;
 * - declined: seats released, order payment_failed with the decline code;
 * - unknown (timeout, 5xx, breaker open): looked up by reference, otherwise retried with backoff.
 * A charge that succeeds for an order that lost its seats meanwhile (cancelled, given up) is refunded.
 */

const chargeKey = (orderId: string) => `charge:${orderId}`;

/** Thrown to have the payment job retried later (with backoff); not a failure of the order. */
export class PaymentPending extends Error {}

const FULL_REFUND = 'order';

// The order or refund row is committed before its job is sent: a job lost with Redis is re-sent by
// the reconcile sweep, so a failed send is logged, not thrown.

export async function requestCharges(deps: Deps, orderIds: string[]) {
  if (orderIds.length === 0) return;
  await deps.queues
    .requestCharges(orderIds)
    .catch((error: unknown) => deps.log.warn({ err: error }, 'charge jobs not sent; the sweep will'));
}

export async function requestRefunds(deps: Deps, paymentIds: string[]) {
  if (paymentIds.length === 0) return;
  await deps.queues
    .requestRefunds(paymentIds)
    .catch((error: unknown) => deps.log.warn({ err: error }, 'refund jobs not sent; the sweep will'));
}

/**
 * The buyer pays a held order (one placed without a card token). Sending the same token again while
 * its payment is under way is answered with the order as it stands; another token is refused.
 */
export async function payOrder(
  deps: Deps,
  orderId: string,
  accessToken: string | undefined,
  paymentToken: string,
): Promise<OrderView> {
  checkOrderAccess(deps, orderId, accessToken);
  if (await paymentsRepository.attachPaymentToken(deps.db, orderId, paymentToken)) {
    await requestCharges(deps, [orderId]);
    const [view] = await publishOrderUpdates(deps, [orderId]);
    return view!;
  }
  const order = await paymentsRepository.payableOrder(deps.db, orderId);
  if (!order) throw orderNotFound(orderId);
  if (order.paymentToken === paymentToken) return getOrderView(deps, orderId);
  throw new DomainError(
    'ORDER_NOT_PAYABLE',
    order?.status === 'awaiting_payment'
      ? 'A payment for this order is under way'
      : `An order that is ${order.status} cannot be paid`,
    {
      status: order.status,
      paymentStatus: order.paymentStatus,
    },
  );
}

export async function chargeOrder(deps: Deps, payments: PaymentClient, orderId: string): Promise<void> {
  const order = await paymentsRepository.payableOrder(deps.db, orderId);
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
  const outcome = await payments.charge({
    amount: order.total,
    currency: order.currency,
    reference: orderId,
    token: order.paymentToken,
    idempotencyKey,
  });
  const lookUp = outcome.kind === 'unknown' && !outcome.providerUnavailable;
  const known = lookUp ? ((await lookUpCharge(payments, orderId)) ?? outcome) : outcome;
  if (known.kind !== 'unknown') return settleCharge(deps, orderId, known);

  await paymentsRepository.settlePayment(deps.db, idempotencyKey, { status: 'unknown', failureReason: known.reason });
  const paymentStatus = known.providerUnavailable ? 'provider_unavailable' : 'retrying';
  if (await paymentsRepository.setPaymentInFlightStatus(deps.db, orderId, paymentStatus))
    await publishOrderUpdates(deps, [orderId]);
  throw new PaymentPending(`charge of order ${orderId}: ${known.reason}`);
}

/** Sells or releases the seats of an order still waiting for its payment; nothing once it moved on. */
async function settleAwaitingOrder(
  deps: Deps,
  orderId: string,
  ticketStatus: 'sold' | 'released',
  change: OrderChange,
): Promise<void> {
  const seats = await deps.db.transaction(async (trx) => {
    const order = await paymentsRepository.payableOrder(trx, orderId, { lock: true });
    if (order?.status !== 'awaiting_payment') return null;
    return paymentsRepository.settleOrder(trx, orderId, ticketStatus, change);
  });
  if (seats) await publishOrderUpdates(deps, [orderId], seats);
}

/** Free seats (price 0) need no charge. */
const confirmFreeOrder = (deps: Deps, orderId: string) =>
  settleAwaitingOrder(deps, orderId, 'sold', { status: 'confirmed', paymentStatus: 'paid', endHold: true });

/** What the payment service knows of the order's charge; null when it cannot tell (yet). */
async function lookUpCharge(payments: PaymentClient, orderId: string): Promise<ChargeOutcome | null> {
  let charges;
  try {
    charges = await payments.chargesFor(orderId);
  } catch {
    return null;
  }
  const succeeded = charges.find((charge) => charge.status === 'succeeded');
  if (succeeded) return { kind: 'succeeded', chargeId: succeeded.id };
  if (charges.some((charge) => charge.status === 'processing')) return null;
  const declined = charges.find((charge) => charge.status === 'declined');
  return declined
    ? { kind: 'declined', chargeId: declined.id, declineCode: declined.declineCode ?? 'card_declined' }
    : { kind: 'unknown', reason: 'no charge', providerUnavailable: false };
}

/** Applies a known outcome of the order's charge; running it again changes nothing. */
async function settleCharge(
  deps: Deps,
  orderId: string,
  outcome: Exclude<ChargeOutcome, { kind: 'unknown' }>,
): Promise<void> {
  const changed = await deps.db.transaction(
    async (trx): Promise<{ refundIds: string[]; seats: SeatDelta[] } | null> => {
      const order = await paymentsRepository.payableOrder(trx, orderId, { lock: true });
      // null: the order as buyers see it did not change, nothing to publish.
      if (!order) return null;
      const idempotencyKey = chargeKey(orderId);
      if (outcome.kind === 'declined') {
        await paymentsRepository.settlePayment(trx, idempotencyKey, {
          status: 'failed',
          providerReference: outcome.chargeId,
          failureReason: outcome.declineCode,
        });
        if (order.status !== 'awaiting_payment') return null;
        const seats = await paymentsRepository.settleOrder(trx, orderId, 'released', {
          status: 'payment_failed',
          failureReason: outcome.declineCode.toUpperCase(),
          paymentStatus: 'declined',
          endHold: true,
        });
        return { refundIds: [], seats };
      }
      const before = await paymentsRepository.settlePayment(trx, idempotencyKey, {
        status: 'succeeded',
        providerReference: outcome.chargeId,
      });
      if (order.status === 'awaiting_payment') {
        const seats = await paymentsRepository.settleOrder(trx, orderId, 'sold', {
          status: 'confirmed',
          paymentStatus: 'paid',
          endHold: true,
        });
        return { refundIds: [], seats };
      }
      if (before === 'succeeded' || order.status === 'confirmed') return null;
      // Paid, but the seats are gone (cancelled, or released when the payment stayed unresolved): pay it all back.
      const amount = (order.total ?? 0) - order.refundedTotal;
      if (amount <= 0) return null;
      const refundId = await paymentsRepository.recordRefund(trx, {
        orderId,
        idempotencyKey: `refund:${orderId}:${FULL_REFUND}`,
        amount,
        currency: order.currency,
        ticketIds: null,
      });
      await paymentsRepository.updateOrder(trx, orderId, {
        ...(order.status === 'cancelled' ? {} : { status: 'refunded', failureReason: 'PAID_AFTER_SEATS_RELEASED' }),
        paymentStatus: 'refund_pending',
      });
      return { refundIds: [refundId], seats: [] };
    },
  );
  if (!changed) return;
  await publishOrderUpdates(deps, [orderId], changed.seats);
  await requestRefunds(deps, changed.refundIds);
}

/**
 * The payment stayed unresolved past the hold and the reconcile window: the seats go back on sale.
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

export async function refundPayment(deps: Deps, payments: PaymentClient, paymentId: string): Promise<void> {
  const refund = await paymentsRepository.payment(deps.db, paymentId);
  if (!refund || refund.kind !== 'refund' || refund.status === 'succeeded' || refund.status === 'failed') return;
  const charge = await paymentsRepository.succeededCharge(deps.db, refund.orderId);
  if (!charge?.providerReference) throw new Error(`refund ${paymentId}: the order has no successful charge to refund`);
  const outcome = await payments.refund({
    chargeId: charge.providerReference,
    amount: refund.amount,
    reason: 'cancelled',
    idempotencyKey: refund.idempotencyKey,
  });
  if (outcome.kind === 'succeeded') {
    await deps.db.transaction((trx) => paymentsRepository.completeRefund(trx, paymentId, outcome.refundId));
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
 * - orders whose payment is unsettled past hold TTL + reconcile window are settled with the payment
 *   service's truth (paid → confirmed; declined, nothing or no answer → seats released);
 * - charges left unknown on orders that no longer wait for them are looked up, and refunded if
 *   they went through;
 * - charge and refund jobs lost with Redis are sent again (their ids dedupe them).
 */
export async function reconcilePayments(deps: Deps, payments: PaymentClient): Promise<void> {
  const { db, config } = deps;
  await inChunks(
    await paymentsRepository.overduePayments(db, config.PAYMENT_RECONCILE_WINDOW_SECONDS, SWEEP_BATCH),
    async (orderId) => {
      const outcome = await lookUpCharge(payments, orderId);
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
    const outcome = await lookUpCharge(payments, orderId);
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
  const stalled = await paymentsRepository.stalledPaymentOrders(db, stalledAfterMs, SWEEP_BATCH);
  await requestCharges(deps, stalled);
  await requestRefunds(deps, await paymentsRepository.unsettledRefunds(db, stalledAfterMs, SWEEP_BATCH));
}
