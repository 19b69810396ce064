/**
 * Where an order's money stands, shown to the buyer as `paymentStatus` (null before a payment
 * starts): in flight (processing, retrying, provider_unavailable), settled (paid, declined,
 * unresolved), or being paid back (refund_pending, refunded, partially_refunded).
 */
export const PAYMENT_STATUSES = [
  'processing',
  'retrying',
  'provider_unavailable',
  'paid',
  'declined',
  'unresolved',
  'refund_pending',
  'refunded',
  'partially_refunded',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** The payment statuses of an order whose charge is under way: its hold is kept meanwhile. */
export const IN_FLIGHT_PAYMENT_STATUSES = [
  'processing',
  'retrying',
  'provider_unavailable',
] as const satisfies readonly PaymentStatus[];
export type InFlightPaymentStatus = (typeof IN_FLIGHT_PAYMENT_STATUSES)[number];

/**
 * Our own record of each charge and refund we asked the provider for. `unknown`: asked, no answer
 * we can trust yet (looked up and retried with the same key). Nothing leaves `succeeded`.
 */
export const PAYMENT_RECORD_STATUSES = ['pending', 'succeeded', 'failed', 'unknown'] as const;
export type PaymentRecordStatus = (typeof PAYMENT_RECORD_STATUSES)[number];

/**
 * What a call to the payment provider ended in. `unknown` is never a failure: the provider may have
 * charged (a timeout after the charge, a 5xx after it) or not; only looking it up tells.
 */
export type ChargeOutcome =
  | { kind: 'succeeded'; chargeId: string }
  | { kind: 'declined'; chargeId: string; declineCode: string }
  | { kind: 'unknown'; reason: string; providerUnavailable: boolean };

export type KnownChargeOutcome = Exclude<ChargeOutcome, { kind: 'unknown' }>;

export type RefundOutcome =
  { kind: 'succeeded'; refundId: string } | { kind: 'refused'; code: string } | { kind: 'unknown'; reason: string };

/** A charge as the provider reports it when asked by reference. */
export type ProviderCharge = {
  id: string;
  status: 'processing' | 'succeeded' | 'declined';
  declineCode: string | null;
  amount: number;
};
