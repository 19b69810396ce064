import type { ChargeOutcome } from '../model/payments.js';
import type { PaymentProvider } from '../ports.js';

/**
 * What the provider knows of the order's charge, asked by reference; null when it cannot tell (yet):
 * it does not answer, or an attempt is still processing there. `unknown`: it has no charge at all.
 */
export async function lookUpCharge(provider: PaymentProvider, orderId: string): Promise<ChargeOutcome | null> {
  let charges;
  try {
    charges = await provider.chargesFor(orderId);
  } catch {
    return null;
  }
  const succeeded = charges.find((charge) => charge.status === 'succeeded');
  if (succeeded) return { kind: 'succeeded', chargeId: succeeded.id };
  if (charges.some((charge) => charge.status === 'processing')) return null;
  const declined = charges.find((charge) => charge.status === 'declined');
  return declined
    ? { kind: 'declined', chargeId: declined.id, declineCode: declined.declineCode ?? 'card_declined' }
    : { kind: 'unknown', reason: 'no charge', providerUnavailable: false };
}
