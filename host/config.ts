import { z } from 'zod';
import { booleanFlag, bookingSettings, SECRETS, type Config } from '../domain/config.js';
import { ROLES, roleSettings } from './roles.js';

/** What the process itself needs: its stores, its port, its roles, its logs. */
const processSettings = z.object({
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
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SEED_WHEN_EMPTY: booleanFlag.default(true),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
});

const settings = processSettings.extend(bookingSettings.shape).extend(roleSettings.shape);

export type ProcessConfig = z.output<typeof processSettings> & Config & z.output<typeof roleSettings>;

export class ConfigError extends Error {}

/** Parses the environment once; a bad value stops start-up with every problem listed. */
export function parseConfig(env: NodeJS.ProcessEnv = process.env): ProcessConfig {
  const result = settings.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  const missingSecrets = SECRETS.filter((name) => env[name] === undefined);
  if (result.data.NODE_ENV === 'production' && missingSecrets.length > 0) {
    throw new ConfigError(
      `Invalid configuration:\n${missingSecrets.map((name) => `  ${name}: required in production`).join('\n')}`,
    );
  }
  // `npm start` runs the payment simulator in the same process: by default the workers call this port.
  const paymentServiceUrl = result.data.PAYMENT_SERVICE_URL ?? `http://127.0.0.1:${result.data.PORT}/api/v1`;
  return { ...result.data, PAYMENT_SERVICE_URL: paymentServiceUrl.replace(/\/$/, '') };
}

export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): ProcessConfig {
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
