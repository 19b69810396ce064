import CircuitBreaker from 'opossum';
import type { Config } from '../domain/config.js';
import type { ChargeOutcome, ProviderCharge, RefundOutcome } from '../domain/model/payments.js';
import type { Logger, PaymentProvider } from '../domain/ports.js';

type ClientSettings = Pick<
  Config,
  | 'PAYMENT_SERVICE_URL'
  | 'PAYMENT_SERVICE_KEY'
  | 'PAYMENT_TIMEOUT_MS'
  | 'PAYMENT_BREAKER_ERROR_PERCENT'
  | 'PAYMENT_BREAKER_VOLUME'
  | 'PAYMENT_BREAKER_RESET_MS'
>;

/** The breaker's rolling window: its error share is of the calls within it. */
const BREAKER_WINDOW_MS = 10_000;
/** Cards remembered for the breaker's count; more than are charged within one window. */
const MAX_CARDS_COUNTED = 50_000;

/** The service did not give a usable answer: timeout, connection refused, 5xx, or the breaker is open. */
class ProviderFault extends Error {}

/** The parts of the payment service's answers the saga reads (charges, refunds, lists, errors). */
type AnswerBody = {
  id?: string;
  status?: string;
  data?: ProviderCharge[];
  error?: { code?: string; details?: { charge?: { id: string; declineCode: string | null } } };
};
type Answer = { status: number; body: AnswerBody | undefined };

/**
 * The payment service seen through a circuit breaker. While the service keeps failing the breaker
 * opens, and calls fail at once as `unknown` with `providerUnavailable` instead of each waiting for
 * its timeout; after PAYMENT_BREAKER_RESET_MS one trial call decides whether it closes again.
 * Declines and other 4xx answers are answers, not failures: they never open the breaker, and neither
 * does one card the service keeps failing (each card counts once per window: countedForCard).
 */
export function createPaymentClient(
  config: ClientSettings,
  log: Logger,
): PaymentProvider & { breakerOpen(): boolean; close(): void } {
  const call = async (
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    idempotencyKey?: string,
  ): Promise<Answer> => {
    let response: Response;
    try {
      response = await fetch(`${config.PAYMENT_SERVICE_URL}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${config.PAYMENT_SERVICE_KEY}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(config.PAYMENT_TIMEOUT_MS),
      });
    } catch (error) {
      throw new ProviderFault(
        error instanceof Error && error.name === 'TimeoutError'
          ? 'timeout'
          : `unreachable: ${(error as Error).message}`,
      );
    }
    const text = await response.text().catch(() => '');
    if (response.status >= 500) throw new ProviderFault(`answered ${response.status}`);
    try {
      return { status: response.status, body: text ? (JSON.parse(text) as AnswerBody) : undefined };
    } catch {
      throw new ProviderFault(`answered ${response.status} with a body that is not JSON`);
    }
  };

  const breaker = new CircuitBreaker(call, {
    // The fetch above has its own timeout; the breaker only counts.
    timeout: false,
    errorThresholdPercentage: config.PAYMENT_BREAKER_ERROR_PERCENT,
    volumeThreshold: config.PAYMENT_BREAKER_VOLUME,
    resetTimeout: config.PAYMENT_BREAKER_RESET_MS,
    rollingCountTimeout: BREAKER_WINDOW_MS,
  });
  breaker.on('open', () => log.warn('payment service breaker open: payments wait for it'));
  breaker.on('halfOpen', () => log.info('payment service breaker half-open: trying one call'));
  breaker.on('close', () => log.info('payment service breaker closed'));

  const fire = (...args: Parameters<typeof call>) => breaker.fire(...args);
  const cardsCounted = new Map<string, number>();
  /**
   * Whether this charge is one the breaker counts: a card's first within the breaker's window. The
   * others with that card (its order's retries, other orders paying with it) go past the breaker's
   * count, so a card the service keeps failing weighs as one failure however often it is tried,
   * while an outage fails one card after another and opens the breaker as before.
   */
  const countedForCard = (token: string) => {
    const now = Date.now();
    const countedAt = cardsCounted.get(token);
    if (countedAt !== undefined && now - countedAt < BREAKER_WINDOW_MS) return false;
    // Re-inserted, so the oldest-counted cards are the first in line when the map is full.
    cardsCounted.delete(token);
    if (cardsCounted.size >= MAX_CARDS_COUNTED) cardsCounted.delete(cardsCounted.keys().next().value!);
    cardsCounted.set(token, now);
    return true;
  };
  const faultReason = (error: unknown) => (error instanceof Error ? error.message : String(error));
  const isOpen = (error: unknown) => (error as { code?: string }).code === 'EOPENBREAKER';

  return {
    async charge(request: {
      amount: number;
      currency: string;
      reference: string;
      token: string;
      idempotencyKey: string;
    }): Promise<ChargeOutcome> {
      const counted = countedForCard(request.token);
      if (!counted && breaker.opened) return { kind: 'unknown', reason: 'breaker open', providerUnavailable: true };
      let answer: Answer;
      try {
        answer = await (counted ? fire : call)(
          'POST',
          '/charges',
          { amount: request.amount, currency: request.currency, reference: request.reference, token: request.token },
          request.idempotencyKey,
        );
      } catch (error) {
        return {
          kind: 'unknown',
          reason: isOpen(error) ? 'breaker open' : faultReason(error),
          providerUnavailable: isOpen(error),
        };
      }
      if ((answer.status === 201 || answer.status === 200) && answer.body?.id && answer.body.status === 'succeeded') {
        return { kind: 'succeeded', chargeId: answer.body.id };
      }
      const declined = answer.status === 402 ? answer.body?.error?.details?.charge : undefined;
      if (declined)
        return { kind: 'declined', chargeId: declined.id, declineCode: declined.declineCode ?? 'card_declined' };
      // 409 REQUEST_IN_PROGRESS: an earlier attempt with this key is still being processed.
      if (answer.status === 409) return { kind: 'unknown', reason: 'request in progress', providerUnavailable: false };
      throw new Error(`payment service refused the charge: ${answer.status} ${JSON.stringify(answer.body)}`);
    },

    /**
     * Every charge the service has for this reference; throws when the service cannot tell right now.
     * Lookups bypass the breaker (it counts what charging does), and callers skip them while it is open.
     */
    async chargesFor(reference: string): Promise<ProviderCharge[]> {
      if (breaker.opened) throw new ProviderFault('breaker open');
      const answer = await call('GET', `/charges?reference=${encodeURIComponent(reference)}`);
      if (answer.status !== 200 || !answer.body?.data)
        throw new Error(`payment service answered ${answer.status} to a charge lookup`);
      return answer.body.data;
    },

    async refund(request: {
      chargeId: string;
      amount: number;
      reason: string;
      idempotencyKey: string;
    }): Promise<RefundOutcome> {
      let answer: Answer;
      try {
        answer = await fire(
          'POST',
          '/refunds',
          { chargeId: request.chargeId, amount: request.amount, reason: request.reason },
          request.idempotencyKey,
        );
      } catch (error) {
        return { kind: 'unknown', reason: faultReason(error) };
      }
      if ((answer.status === 201 || answer.status === 200) && answer.body?.id)
        return { kind: 'succeeded', refundId: answer.body.id };
      const code = answer.body?.error?.code;
      // Only these say the refund can never be made; anything else (a key rotated, a 429) is tried again.
      if (code === 'REFUND_EXCEEDS_CHARGE' || code === 'CHARGE_NOT_REFUNDABLE') return { kind: 'refused', code };
      return { kind: 'unknown', reason: `answered ${answer.status} ${code ?? ''}`.trim() };
    },

    /** For the payment_breaker_open gauge. */
    breakerOpen: () => breaker.opened,
    close: () => breaker.shutdown(),
  };
}
