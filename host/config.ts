import { z } from 'zod';
import { booleanFlag, bookingSettings, DEVELOPMENT_SECRETS, SECRETS, type Config } from '../domain/config.js';
import { OFF_IN_PRODUCTION, ROLES, roleSettings, STAND_IN_ROLES } from './roles.js';

/** A rate limit in requests per minute; 0 switches it off. */
const perMinute = (fallback: number) => z.coerce.number().int().min(0).max(1_000_000).default(fallback);

/** What the process itself needs: its stores, its port, its roles, its logs, its rate limits. */
const processSettings = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgres://postgres@127.0.0.1:5432/cinema'),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(8),
  /**
   * PostgreSQL cancels any statement of a service process running or waiting longer (0: never): a
   * request costly by accident, or one stuck behind a lock, answers 503 instead of holding a pool
   * connection. The longest statements in service (an allocation batch, a showing's cancellation)
   * take well under a second.
   */
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z
    .string()
    .regex(/^[a-z0-9_-]+$/i, 'letters, digits, - and _ only')
    .default('cinema'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** The address to listen on: loopback by default outside production (see the secrets' rule below). */
  HOST: z.string().min(1).optional(),
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
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** One line per HTTP request at info (docs/operations.md); off to measure what it costs. */
  ACCESS_LOG: booleanFlag.default(true),
  /** GET /metrics and what feeds it (docs/operations.md); off to measure what it costs. */
  METRICS: booleanFlag.default(true),
  /** Demo data in an empty database: by default outside production only. */
  SEED_WHEN_EMPTY: booleanFlag.optional(),
  /** Off where a one-shot `npm run migrate` runs before the roles start (compose, Kubernetes). */
  MIGRATE_ON_START: booleanFlag.default(true),
  /**
   * How long a starting process waits for a store that does not answer (restarting, not up yet)
   * before it exits 69; 0 exits at once.
   */
  STORE_WAIT_SECONDS: z.coerce.number().int().min(0).max(3_600).default(30),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** Which proxies' X-Forwarded-For to believe (express's `trust proxy`): where nginx runs. */
  TRUST_PROXY: z.string().min(1).default('loopback'),
  /** Origins whose browser pages may call the REST API; none by default. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url())),
  /** The payment simulator is a stand-in: production runs its role only when this says so. */
  PAYMENT_SIMULATOR_ALLOWED: booleanFlag.default(false),
  /**
   * Requests per minute from one client address (IPv6: per /64) to anything but /healthz, /readyz
   * and /metrics, counted in Redis across every instance (docs/operations.md, Rate limits); 0: none.
   */
  RATE_LIMIT_PER_IP_PER_MINUTE: perMinute(1_200),
  /** Order submissions (POST /api/v1/orders) per minute from one client address; 0: none. */
  RATE_LIMIT_ORDERS_PER_IP_PER_MINUTE: perMinute(60),
  /** Order submissions per minute naming one customer email (lower-cased); 0: none. */
  RATE_LIMIT_ORDERS_PER_EMAIL_PER_MINUTE: perMinute(10),
});

/**
 * The rate limits off: for processes that benchmarks, soak runs and the suite load from one address
 * (scripts/bench, scripts/soak, test/system.ts).
 */
export const RATE_LIMITS_OFF = {
  RATE_LIMIT_PER_IP_PER_MINUTE: '0',
  RATE_LIMIT_ORDERS_PER_IP_PER_MINUTE: '0',
  RATE_LIMIT_ORDERS_PER_EMAIL_PER_MINUTE: '0',
} as const;

const settings = processSettings.extend(bookingSettings.shape).extend(roleSettings.shape);

export type ProcessConfig = Omit<z.output<typeof processSettings>, 'HOST' | 'SEED_WHEN_EMPTY'> & {
  HOST: string;
  SEED_WHEN_EMPTY: boolean;
} & Config &
  z.output<typeof roleSettings>;

export class ConfigError extends Error {}

const PRODUCTION_SECRET_LENGTH = 32;
const PLACEHOLDER = /change.?me|placeholder|example|secret-here/i;
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Parses the environment once; a bad value stops start-up with every problem listed. */
export function parseConfig(env: NodeJS.ProcessEnv = process.env): ProcessConfig {
  const production = env.NODE_ENV === 'production';
  const given = production ? { ...Object.fromEntries(OFF_IN_PRODUCTION.map((name) => [name, '0'])), ...env } : env;
  const result = settings.safeParse(given);
  const host = env.HOST || (production ? '0.0.0.0' : '127.0.0.1');
  // Every problem at once, the schema's and production's: a secret's stricter production rule
  // replaces the schema's message about it.
  const problems = [
    ...(result.success ? [] : issuesOf(result.error)).filter(
      (problem) => !(production && SECRETS.some((name) => problem.startsWith(`${name}:`))),
    ),
    ...(production ? productionProblems(env) : publicDefaultsOffLoopback(env, host)),
  ];
  if (problems.length > 0 || !result.success) throw configError(problems);
  const parsed = result.data;
  // `npm start` runs the payment simulator in the same process: outside production the workers call this port.
  const paymentServiceUrl = parsed.PAYMENT_SERVICE_URL ?? `http://127.0.0.1:${parsed.PORT}/api/v1`;
  return {
    ...parsed,
    HOST: host,
    SEED_WHEN_EMPTY: parsed.SEED_WHEN_EMPTY ?? !production,
    PAYMENT_SERVICE_URL: paymentServiceUrl.replace(/\/$/, ''),
  };
}

const issuesOf = (error: z.ZodError) => error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);

function configError(problems: string[]): ConfigError {
  return new ConfigError(`Invalid configuration:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
}

/** Production sets its own secrets, names its payment service, and runs stand-ins only when told to. */
function productionProblems(env: NodeJS.ProcessEnv): string[] {
  const problems = SECRETS.flatMap((name) => {
    const value = env[name];
    if (value === undefined) return [`${name}: required in production`];
    if (value.length < PRODUCTION_SECRET_LENGTH) {
      return [`${name}: must be at least ${PRODUCTION_SECRET_LENGTH} characters in production`];
    }
    if (PLACEHOLDER.test(value)) return [`${name}: is a placeholder; generate one (openssl rand -base64 32)`];
    return [];
  });
  if (!env.PAYMENT_SERVICE_URL) {
    problems.push('PAYMENT_SERVICE_URL: required in production (the card processor, e.g. https://pay.example/api/v1)');
  }
  const roles = (env.ROLES ?? ROLES.join(',')).split(',').map((role) => role.trim());
  const standIns = roles.filter((role) => (STAND_IN_ROLES as readonly string[]).includes(role));
  if (standIns.length > 0 && !['true', '1'].includes(env.PAYMENT_SIMULATOR_ALLOWED ?? '')) {
    problems.push(
      `ROLES: ${standIns.join(',')} is the payment simulator, a stand-in for a card processor; ` +
        'set PAYMENT_SIMULATOR_ALLOWED=true to run it in production',
    );
  }
  return problems;
}

/** A secret left at its published default is for a developer's loopback only. */
function publicDefaultsOffLoopback(env: NodeJS.ProcessEnv, host: string): string[] {
  if (LOOPBACK.has(host)) return [];
  return SECRETS.filter((name) => (env[name] ?? DEVELOPMENT_SECRETS[name]) === DEVELOPMENT_SECRETS[name]).map(
    (name) =>
      `${name}: the published development default cannot be used on ${host}; set your own or listen on 127.0.0.1`,
  );
}

/**
 * What the one-shot tasks on the database (`npm run migrate`, `npm run seed`) need: where it is, how
 * much to log, and for the demo showings the gap between two of a hall. No secrets: they serve nobody.
 */
export function parseDataTaskConfig(env: NodeJS.ProcessEnv = process.env) {
  const result = processSettings
    .pick({ DATABASE_URL: true, LOG_LEVEL: true, STORE_WAIT_SECONDS: true })
    .extend(bookingSettings.pick({ CLEANING_GAP_MINUTES: true }).shape)
    .safeParse(env);
  if (!result.success) throw configError(issuesOf(result.error));
  return result.data;
}

export function loadConfigOrExit<T = ProcessConfig>(
  env: NodeJS.ProcessEnv = process.env,
  parse: (env: NodeJS.ProcessEnv) => T = parseConfig as (env: NodeJS.ProcessEnv) => T,
): T {
  try {
    return parse(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}
