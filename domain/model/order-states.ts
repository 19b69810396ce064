/**
 * The order state machine, as data. Every status an order is written with is either its first
 * (`queued`) or the target of an edge from the status it had (never the status it has already): the
 * test suite records every status PostgreSQL is written with and fails on any write that is not an edge.
 *
 *   queued ──► awaiting_payment ──► confirmed ──► cancelled (all tickets; paid ones refunded)
 *     │              ├──► payment_failed (declined; or unresolved past hold + reconcile window) ──► refunded
 *     │              ├──► expired (no payment had started when the hold ran out)
 *     │              └──► cancelled (by the buyer, or the showing was cancelled)
 *     ├──► cancelled (by the buyer, before the decision)
 *     ├──► confirmed (CONFIRM_WITHOUT_PAYMENT)
 *     └──► rejected (a seat was taken, or the showing is no longer on sale)
 *
 * `payment_failed → refunded`: a charge that went through after the seats were released is paid
 * back. A cancelled order stays cancelled; its refund shows in `paymentStatus`, as does a partial
 * cancellation of a confirmed order.
 */
export const ORDER_TRANSITIONS = {
  queued: ['awaiting_payment', 'confirmed', 'rejected', 'cancelled'],
  awaiting_payment: ['confirmed', 'payment_failed', 'expired', 'cancelled'],
  confirmed: ['cancelled'],
  rejected: [],
  expired: [],
  payment_failed: ['refunded'],
  cancelled: [],
  refunded: [],
} as const;

export type OrderStatus = keyof typeof ORDER_TRANSITIONS;

export const ORDER_STATUSES = Object.keys(ORDER_TRANSITIONS) as [OrderStatus, ...OrderStatus[]];

/** The status every order starts in: durable, not yet decided. */
export const INITIAL_ORDER_STATUS = 'queued' satisfies OrderStatus;

/** Where an order in status `from` may go next. */
export type NextOrderStatus<From extends OrderStatus> = (typeof ORDER_TRANSITIONS)[From][number];

/** What the allocation decides a queued order into (a buyer's cancel is the queue's other way out). */
export type DecidedStatus = Exclude<NextOrderStatus<'queued'>, 'cancelled'>;

export const isOrderTransition = (from: OrderStatus, to: OrderStatus): boolean =>
  (ORDER_TRANSITIONS[from] as readonly OrderStatus[]).includes(to);

/** The statuses an order may be in to move to `to`: a write's guard (`WHERE status IN (...)`). */
export const ORDER_SOURCES: Record<OrderStatus, OrderStatus[]> = Object.fromEntries(
  ORDER_STATUSES.map((to) => [to, ORDER_STATUSES.filter((from) => isOrderTransition(from, to))]),
) as Record<OrderStatus, OrderStatus[]>;
