import type { ProviderConfig } from './config.js';
import { providerError } from './errors.js';

/** How the simulated card processor behaves: its latency and how often each fault happens. */
export type PaymentBehaviour = {
  latencyMedianMs: number;
  latencyP99Ms: number;
  declineRate: number;
  /** A 5xx answer at once; nothing was charged. */
  errorRate: number;
  /** No answer for hangMs, then a 5xx; nothing was charged. */
  timeoutRate: number;
  /** The charge went through, but the answer comes only after hangMs. */
  timeoutAfterChargeRate: number;
  hangMs: number;
};

/**
 * The behaviour in force, kept in the memory of one process: a soak test or a chaos run switches it
 * at run time (PUT /payment-behaviour), on every instance it wants to change.
 */
export type PaymentBehaviourSwitch = {
  current: () => PaymentBehaviour;
  change: (changes: Partial<PaymentBehaviour>) => PaymentBehaviour;
};

export function createPaymentBehaviour(config: ProviderConfig): PaymentBehaviourSwitch {
  let behaviour: PaymentBehaviour = {
    latencyMedianMs: config.PROVIDER_LATENCY_MEDIAN_MS,
    latencyP99Ms: config.PROVIDER_LATENCY_P99_MS,
    declineRate: config.PROVIDER_DECLINE_RATE,
    errorRate: config.PROVIDER_ERROR_RATE,
    timeoutRate: config.PROVIDER_TIMEOUT_RATE,
    timeoutAfterChargeRate: config.PROVIDER_TIMEOUT_AFTER_CHARGE_RATE,
    hangMs: config.PROVIDER_HANG_MS,
  };
  return {
    current: () => behaviour,
    change: (changes) => {
      behaviour = { ...behaviour, ...changes };
      return behaviour;
    },
  };
}

/** The 99th percentile of the standard normal distribution. */
const Z_99 = 2.326_347_874;

/**
 * A latency from the log-normal distribution with the given median and 99th percentile, the usual
 * shape of network and processor latency: most answers near the median, a long tail. A p99 at or
 * below the median gives the median every time.
 */
export function sampleLatencyMs(
  { latencyMedianMs, latencyP99Ms }: Pick<PaymentBehaviour, 'latencyMedianMs' | 'latencyP99Ms'>,
  random: () => number = Math.random,
): number {
  if (latencyMedianMs <= 0) return 0;
  const sigma = Math.max(0, Math.log(latencyP99Ms / latencyMedianMs) / Z_99);
  // Box-Muller; 1 - random() is in (0, 1], so the logarithm stays finite.
  const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return latencyMedianMs * Math.exp(sigma * normal);
}

/**
 * Unref'd: a request hanging on purpose must not keep a stopping process alive (the server cuts
 * its connection at the shutdown deadline anyway).
 */
export const pause = (ms: number): Promise<void> =>
  ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms).unref()) : Promise.resolve();

export const unavailable = () =>
  providerError(
    'PROVIDER_UNAVAILABLE',
    'The payment provider is unavailable; nothing was done, retry with the same Idempotency-Key',
  );

/** What every charge and refund meets first: the provider's latency, then its outages. */
export async function throughProvider(behaviour: PaymentBehaviour, random: () => number = Math.random): Promise<void> {
  await pause(sampleLatencyMs(behaviour, random));
  if (random() < behaviour.errorRate) throw unavailable();
}

export const DECLINE_CODES = ['card_declined', 'insufficient_funds'] as const;
export type DeclineCode = (typeof DECLINE_CODES)[number];

/** How a new charge ends; `hang` delays the answer by hangMs. */
export type ChargeOutcome =
  | { kind: 'succeeded'; hang: boolean }
  | { kind: 'declined'; declineCode: DeclineCode }
  | { kind: 'unavailable'; hang: boolean };

/** Card tokens with a fixed outcome, so that tests and demos can ask for each case. */
const SPECIAL_TOKENS = new Map<string, ChargeOutcome>([
  ['tok_decline', { kind: 'declined', declineCode: 'card_declined' }],
  ['tok_insufficient_funds', { kind: 'declined', declineCode: 'insufficient_funds' }],
  ['tok_error', { kind: 'unavailable', hang: false }],
  ['tok_timeout', { kind: 'unavailable', hang: true }],
  ['tok_timeout_after_charge', { kind: 'succeeded', hang: true }],
]);

export function chargeOutcome(
  token: string,
  behaviour: PaymentBehaviour,
  random: () => number = Math.random,
): ChargeOutcome {
  const special = SPECIAL_TOKENS.get(token);
  if (special) return special;
  if (random() < behaviour.timeoutRate) return { kind: 'unavailable', hang: true };
  if (random() < behaviour.timeoutAfterChargeRate) return { kind: 'succeeded', hang: true };
  if (random() < behaviour.declineRate) return { kind: 'declined', declineCode: 'card_declined' };
  return { kind: 'succeeded', hang: false };
}
