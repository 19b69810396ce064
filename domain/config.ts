import { z } from 'zod';

/** Settings given as environment variables: "true"/"1" or "false"/"0". */
export const booleanFlag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

/**
 * The published defaults of the secrets: fine on a developer's loopback, refused anywhere else
 * (host/config.ts), since anyone can read them here (a token forged with this order secret reads any order).
 */
export const DEVELOPMENT_SECRETS = {
  ADMIN_TOKEN: 'dev-admin-token-change-me',
  ORDER_TOKEN_SECRET: 'dev-order-token-secret-change-me',
  PAYMENT_SERVICE_KEY: 'dev-payment-service-key-change-me',
} as const;

/**
 * The booking system's settings, read from the environment once at start-up by the process host
 * (host/config.ts), which adds its own (stores, port, roles) and refuses to start on any bad value.
 */
export const bookingSettings = z.object({
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').default(DEVELOPMENT_SECRETS.ADMIN_TOKEN),
  CLEANING_GAP_MINUTES: z.coerce.number().int().min(0).max(240).default(15),
  ORDER_TOKEN_SECRET: z
    .string()
    .min(16, 'must be at least 16 characters')
    .default(DEVELOPMENT_SECRETS.ORDER_TOKEN_SECRET),
  ALLOCATION_PARTITIONS: z.coerce.number().int().min(1).max(256).default(4),
  ALLOCATION_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(500),
  /** How long a crashed worker's job may block its partition: lock duration, then the stalled check. */
  ALLOCATION_LOCK_MS: z.coerce.number().int().min(500).default(10_000),
  ALLOCATION_STALLED_CHECK_MS: z.coerce.number().int().min(200).default(5_000),
  /** Inserts of orders arriving within this window share one multi-row INSERT. */
  ORDER_INSERT_WINDOW_MS: z.coerce.number().min(0).max(50).default(5),
  /** Order INSERTs one process runs at once; a window closing while they run waits and joins the next. */
  ORDER_INSERTS_IN_FLIGHT: z.coerce.number().int().min(1).max(64).default(1),
  HOLD_TTL_SECONDS: z.coerce.number().int().min(5).max(86_400).default(600),
  /** Skips payment: held seats are sold at once. For measuring the allocation alone, never in service. */
  CONFIRM_WITHOUT_PAYMENT: booleanFlag.default(false),
  /** Orders still queued after this long get their partition woken again (lost wake-up, Redis wiped). */
  REQUEUE_AFTER_MS: z.coerce.number().int().min(100).default(3_000),
  SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(2_000),
  MAX_SEATS_PER_ORDER: z.coerce.number().int().min(1).max(10).default(10),
  /**
   * Seats one customer (email) may hold unpaid in one showing at a time, across all their orders: an
   * order past it is rejected HOLD_LIMIT (anti-scalping; 0: no cap). Paid seats do not count.
   */
  MAX_HELD_SEATS_PER_CUSTOMER: z.coerce.number().int().min(0).max(1000).default(10),
  /**
   * Seats the orders from one client address (IPv6: its /64) may hold unpaid in one showing at a
   * time, whatever emails they name: an order past it is rejected ADDRESS_HOLD_LIMIT (0: no cap).
   * Higher than the customer's cap: a household, an office or a mobile carrier shares an address.
   */
  MAX_HELD_SEATS_PER_ADDRESS: z.coerce.number().int().min(0).max(10_000).default(40),
  /** Longest `Prefer: wait=N` a client may ask for, in seconds. */
  MAX_DECISION_WAIT_SECONDS: z.coerce.number().int().min(0).max(60).default(10),
  /** A seat delta that arrives ahead of a missing version waits this long for it before going out anyway. */
  REALTIME_REORDER_WAIT_MS: z.coerce.number().int().min(0).max(10_000).default(500),
  /** Buyers cannot cancel within this many minutes of the start. */
  CANCELLATION_CUTOFF_MINUTES: z.coerce.number().int().min(0).max(10_080).default(60),

  // The payment saga (workers) and its view of the payment service.
  /** Where the workers find the payment service; the host defaults it to its own port. */
  PAYMENT_SERVICE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** The payment service accepts only requests bearing this key. */
  PAYMENT_SERVICE_KEY: z
    .string()
    .min(16, 'must be at least 16 characters')
    .default(DEVELOPMENT_SECRETS.PAYMENT_SERVICE_KEY),
  /** A charge not answered within this is an unknown outcome: looked up and retried, never assumed failed. */
  PAYMENT_TIMEOUT_MS: z.coerce.number().int().min(50).default(5_000),
  /** Charges and refunds in flight at once per worker process: calls wait on the service, not on CPU (Little: 100 charges/s × 0.5 s mean latency = 50 busy). */
  PAYMENT_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(200),
  PAYMENT_RETRY_BASE_MS: z.coerce.number().int().min(10).default(1_000),
  PAYMENT_RETRY_MAX_MS: z.coerce.number().int().min(10).default(30_000),
  /** The breaker opens when this share of calls in its window failed (declines are not failures)... */
  PAYMENT_BREAKER_ERROR_PERCENT: z.coerce.number().int().min(1).max(100).default(50),
  /** ...and at least this many calls were made; it tries again after PAYMENT_BREAKER_RESET_MS. */
  PAYMENT_BREAKER_VOLUME: z.coerce.number().int().min(1).default(10),
  PAYMENT_BREAKER_RESET_MS: z.coerce.number().int().min(50).default(10_000),
  /**
   * A hold whose payment waits for the provider (its breaker open: an outage) does not expire at its
   * TTL; past TTL + this window the order is settled with whatever the provider says (docs/payments.md,
   * the hold rule). A charge still unknown is looked up for this long.
   */
  PAYMENT_RECONCILE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(600),
  /**
   * A hold whose payment is in flight or keeps failing while the provider answers (a card that fails
   * or hangs) ends this long after its TTL: time for the charge under way to answer, not more.
   */
  PAYMENT_HOLD_GRACE_SECONDS: z.coerce.number().int().min(1).default(30),
});

export type Config = Omit<z.output<typeof bookingSettings>, 'PAYMENT_SERVICE_URL'> & { PAYMENT_SERVICE_URL: string };

/** Settings whose defaults are public: a production deployment must set its own. */
export const SECRETS = Object.keys(DEVELOPMENT_SECRETS) as (keyof typeof DEVELOPMENT_SECRETS)[];
