/**
 * What the domain needs from the world outside PostgreSQL, in its own words. The process host
 * (host/deps.ts) builds one implementation of each from infra/; tests may build others.
 */
import type { DecidedStatus } from './model/order-states.js';
import type { OrderView } from './model/orders.js';
import type { ChargeOutcome, ProviderCharge, RefundOutcome } from './model/payments.js';
import type { SeatDelta } from './model/tickets.js';

type LogFn = { (message: string): void; (fields: object, message?: string): void };

/** Structured logging: fields first, then the message. */
export type Logger = { debug: LogFn; info: LogFn; warn: LogFn; error: LogFn };

/**
 * What the process measures for its operators (infra/metrics.ts: Prometheus, or nothing when
 * METRICS=false). Each call is cheap and never throws: it sits on the hot paths.
 */
export type Metrics = {
  /** An HTTP request answered: its route's pattern ('unmatched' for none), its status, how long it took. */
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  /**
   * The allocation decided an order: `waitedSeconds` from its arrival to the start of the batch that
   * decided it, `tookSeconds` from its arrival to that batch's commit.
   */
  orderDecided(outcome: DecidedStatus, waitedSeconds: number, tookSeconds: number): void;
  /** A decision reached a buyer's socket this long after its commit. */
  decisionPushed(seconds: number): void;
};

/**
 * Background work, queued durably. Every job is safe to run twice: a wake-up drains what is queued
 * in PostgreSQL, and charges and refunds carry idempotency keys.
 */
export type Jobs = {
  /** Asks the partition's worker to decide its queued orders; wake-ups of one partition coalesce. */
  wakePartition(partition: number): Promise<unknown>;
  requestCharges(orderIds: string[]): Promise<unknown>;
  requestRefunds(paymentIds: string[]): Promise<unknown>;
  /** One drain at a time per partition, across every process; set again by each sweep in case the queue's store forgot. */
  enforceSerialPartitions(): Promise<unknown>;
};

/**
 * What follows a publication for the operators, not for buyers: the request id each order was
 * submitted with (by order id, for the logs of every process that handles it), and for a batch of
 * decisions the time it committed (ms since the epoch, on the deciding worker's clock).
 */
export type Trace = { requestIds?: Record<string, string>; decidedAt?: number };

/** What one committed transaction changed: the orders as buyers see them, and the seat-map deltas. */
export type SaleEvent = { orders: OrderView[]; seats: SeatDelta[]; trace?: Trace };

/** One publication per committed transaction, heard by every process that listens. */
export type SaleEvents = {
  publish(orders: OrderView[], seats?: SeatDelta[], trace?: Trace): Promise<void>;
  /**
   * Registers interest in an order before it exists (call it before the insert, so no update can
   * slip by), and gives a promise of its decision (its first update past queued), or null after
   * `timeoutMs` or on cancel.
   */
  waitFor(orderId: string, timeoutMs: number): Promise<{ decided: Promise<OrderView | null>; cancel: () => void }>;
  /** Resolves once listening; returns the function that stops it. */
  listen(listener: (event: SaleEvent) => void): Promise<() => void>;
};

/**
 * A fixed-window counter shared by every instance (a rate limit): a hit is let through or not, with
 * the time until the window lets the key in again; rejects when its store cannot answer.
 */
export type RateCounter = {
  limit: number;
  windowSeconds: number;
  hit(key: string): Promise<{ allowed: boolean; retryAfterMs: number }>;
};

export type Cache<K, V> = { get(key: K): Promise<V>; forget(key: K): void };

/** A cache whose entries live about `ttlMs`; concurrent misses of one key share one load. */
export type CacheFactory = <K, V>(ttlMs: number, load: (key: K) => Promise<V>) => Cache<K, V>;

export type Batcher<T, R> = { add(item: T): Promise<R>; drain(): Promise<void> };

/** Calls arriving within `windowMs` share one `flush`, which returns one result per item, in order. */
export type BatcherFactory = <T, R>(
  flush: (items: T[]) => Promise<R[]>,
  options: { windowMs: number; maxSize: number; maxInFlight?: number },
) => Batcher<T, R>;

/** The card processor, as the payment saga needs it; calls never throw for the processor's faults. */
export type PaymentProvider = {
  charge(request: {
    amount: number;
    currency: string;
    reference: string;
    token: string;
    idempotencyKey: string;
  }): Promise<ChargeOutcome>;
  /** Every charge the provider has for this reference; throws when it cannot tell right now. */
  chargesFor(reference: string): Promise<ProviderCharge[]>;
  refund(request: { chargeId: string; amount: number; reason: string; idempotencyKey: string }): Promise<RefundOutcome>;
};
