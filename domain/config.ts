import { z } from 'zod';

// `payments` is the payment service: a stand-in for an external card processor, with that
// processor's faults (see PROVIDER_*). `realtime` is the Socket.IO server.
export const ROLES = ['catalog', 'tickets', 'workers', 'payments', 'realtime'] as const;
export type Role = (typeof ROLES)[number];

const rate = z.coerce.number().min(0).max(1);

const booleanFlag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgres://postgres@127.0.0.1:5432/cinema'),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(8),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z
    .string()
    .regex(/^[a-z0-9_-]+$/i, 'letters, digits, - and _ only')
    .default('cinema'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  ROLES: z
    .string()
    .default(ROLES.join(','))
    .transform((value) =>
      value
        .split(',')
        .map((role) => role.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(ROLES)).min(1)),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').default('dev-admin-token-change-me'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CLEANING_GAP_MINUTES: z.coerce.number().int().min(0).max(240).default(15),
  SEED_WHEN_EMPTY: booleanFlag.default(true),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  ORDER_TOKEN_SECRET: z.string().min(16, 'must be at least 16 characters').default('dev-order-token-secret-change-me'),
  ALLOCATION_PARTITIONS: z.coerce.number().int().min(1).max(256).default(4),
  ALLOCATION_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(200),
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
  /** Longest `Prefer: wait=N` a client may ask for, in seconds. */
  MAX_DECISION_WAIT_SECONDS: z.coerce.number().int().min(0).max(60).default(10),
  /** A seat delta that arrives ahead of a missing version waits this long for it before going out anyway. */
  REALTIME_REORDER_WAIT_MS: z.coerce.number().int().min(0).max(10_000).default(500),
  /** Buyers cannot cancel within this many minutes of the start. */
  CANCELLATION_CUTOFF_MINUTES: z.coerce.number().int().min(0).max(10_080).default(60),

  // The payment saga (workers) and its view of the payment service.
  /** Defaults to this process's own port: `npm start` runs the payment service in the same process. */
  PAYMENT_SERVICE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** The payment service accepts only requests bearing this key. */
  PAYMENT_SERVICE_KEY: z
    .string()
    .min(16, 'must be at least 16 characters')
    .default('dev-payment-service-key-change-me'),
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
   * A hold whose payment is in flight or waiting for the provider does not expire at its TTL; past
   * TTL + this window the order is settled with whatever the provider says (see README, holds).
   */
  PAYMENT_RECONCILE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(600),

  // The payment service's simulated provider behaviour (role `payments`); changeable at run time
  // through PUT /api/v1/payment-behaviour.
  PROVIDER_LATENCY_MEDIAN_MS: z.coerce.number().min(0).default(300),
  PROVIDER_LATENCY_P99_MS: z.coerce.number().min(0).default(3_000),
  PROVIDER_DECLINE_RATE: rate.default(0.05),
  /** A 5xx answer; nothing was charged. */
  PROVIDER_ERROR_RATE: rate.default(0.02),
  /** No answer for PROVIDER_HANG_MS; nothing was charged. */
  PROVIDER_TIMEOUT_RATE: rate.default(0.01),
  /** The charge went through, but the answer comes only after PROVIDER_HANG_MS. */
  PROVIDER_TIMEOUT_AFTER_CHARGE_RATE: rate.default(0.01),
  PROVIDER_HANG_MS: z.coerce.number().int().min(0).default(30_000),
});

export type Config = Omit<z.output<typeof configSchema>, 'PAYMENT_SERVICE_URL'> & { PAYMENT_SERVICE_URL: string };

export class ConfigError extends Error {}

/** Parses the environment once; a bad value stops start-up with every problem listed. */
export function parseConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  const missingSecrets = ['ADMIN_TOKEN', 'ORDER_TOKEN_SECRET', 'PAYMENT_SERVICE_KEY'].filter(
    (name) => env[name] === undefined,
  );
  if (result.data.NODE_ENV === 'production' && missingSecrets.length > 0) {
    throw new ConfigError(
      `Invalid configuration:\n${missingSecrets.map((name) => `  ${name}: required in production`).join('\n')}`,
    );
  }
  const paymentServiceUrl = result.data.PAYMENT_SERVICE_URL ?? `http://127.0.0.1:${result.data.PORT}/api/v1`;
  return { ...result.data, PAYMENT_SERVICE_URL: paymentServiceUrl.replace(/\/$/, '') };
}

export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}
