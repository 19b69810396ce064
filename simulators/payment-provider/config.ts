import { z } from 'zod';

const rate = z.coerce.number().min(0).max(1);

/**
 * How the simulated processor behaves when it starts (role `payments`); changeable at run time
 * through PUT /api/v1/payment-behaviour.
 */
export const providerSettings = z.object({
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

export type ProviderConfig = z.output<typeof providerSettings>;

/**
 * The simulated faults: random declines, errors and hangs. A deployment in production that runs the
 * simulator (a demo, a staging system) gets none of them unless it asks.
 */
export const PROVIDER_FAULT_SETTINGS = [
  'PROVIDER_DECLINE_RATE',
  'PROVIDER_ERROR_RATE',
  'PROVIDER_TIMEOUT_RATE',
  'PROVIDER_TIMEOUT_AFTER_CHARGE_RATE',
] as const;
