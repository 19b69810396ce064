import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { chargeOutcome, pause, throughProvider, unavailable, type PaymentBehaviourSwitch } from './behaviour.js';
import { providerError } from './errors.js';
import {
  providerStorage as repository,
  type ChargeRequest,
  type ChargeRow,
  type RefundRequest,
  type RefundRow,
} from './storage.js';

/** What the simulator's use cases touch: its tables and the behaviour in force in this process. */
export type ProviderDeps = { db: Knex; behaviour: PaymentBehaviourSwitch };

/** Returns the row, or throws CHARGE_NOT_FOUND. */
function found<T>(row: T | undefined, id: string): T {
  if (row === undefined) throw providerError('CHARGE_NOT_FOUND', `Charge ${id} does not exist`);
  return row;
}

export const CHARGE_STATUSES = ['processing', 'succeeded', 'declined'] as const;

export type ChargeView = {
  id: string;
  status: ChargeRow['status'];
  amount: number;
  currency: string;
  reference: string;
  declineCode: string | null;
  refundedAmount: number;
  createdAt: string;
};

export type RefundView = {
  id: string;
  chargeId: string;
  amount: number;
  reason: string | null;
  status: 'succeeded';
  createdAt: string;
};

/**
 * Past the longest planned hang, a processing row is given this long before a retry may take it
 * over: an attempt that outlives its lease (a stalled database) then charges nothing.
 */
const LEASE_MARGIN_MS = 30_000;

const toChargeView = (row: ChargeRow): ChargeView => ({
  id: row.id,
  status: row.status,
  amount: row.amount,
  currency: row.currency,
  reference: row.reference,
  declineCode: row.declineCode,
  refundedAmount: row.refundedAmount,
  createdAt: row.createdAt.toISOString(),
});

const toRefundView = (row: RefundRow): RefundView => ({ ...row, createdAt: row.createdAt.toISOString() });

function requireKey(idempotencyKey: string | undefined): string {
  if (!idempotencyKey)
    throw providerError(
      'IDEMPOTENCY_KEY_REQUIRED',
      'Send an Idempotency-Key header so that a retry cannot charge twice',
    );
  return idempotencyKey;
}

const keyReused = () =>
  providerError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request');

/** A declined charge is an answer, not an outage: 402 with the stored charge. */
function declined(row: ChargeRow): never {
  throw providerError('CARD_DECLINED', `The card was declined (${row.declineCode})`, { charge: toChargeView(row) });
}

const sameCharge = (row: ChargeRow, request: ChargeRequest) =>
  row.amount === request.amount &&
  row.currency === request.currency &&
  row.reference === request.reference &&
  row.token === request.token;

/**
 * Charges the card once per Idempotency-Key, across every instance: the key's unique row is claimed
 * first ('processing'), then completed. A replay of a finished charge gets the stored outcome with
 * none of the token's faults; a request that charged nothing frees the key for a fresh attempt.
 */
export async function createCharge(
  deps: ProviderDeps,
  request: ChargeRequest,
  idempotencyKey: string | undefined,
): Promise<ChargeView> {
  const key = requireKey(idempotencyKey);
  const behaviour = deps.behaviour.current();
  await throughProvider(behaviour);
  const id = randomUUID();
  const claimed = await repository.claimCharge(deps.db, {
    ...request,
    id,
    idempotencyKey: key,
    leaseMs: behaviour.hangMs + LEASE_MARGIN_MS,
  });
  if (!claimed) return replayCharge(deps, key, request);

  const outcome = chargeOutcome(request.token, behaviour);
  if (outcome.kind === 'unavailable') {
    if (outcome.hang) await pause(behaviour.hangMs);
    await repository.releaseCharge(deps.db, id);
    throw unavailable();
  }
  const row = await repository.completeCharge(deps.db, id, outcome.kind === 'declined' ? outcome.declineCode : null);
  // The lease ran out and a retry took the key over: this attempt charged nothing.
  if (!row) throw unavailable();
  if (outcome.kind === 'declined') declined(row);
  // Stored before the hang: a retry meanwhile finds the charge succeeded.
  if (outcome.hang) await pause(behaviour.hangMs);
  return toChargeView(row);
}

async function replayCharge(deps: ProviderDeps, key: string, request: ChargeRequest): Promise<ChargeView> {
  const existing = await repository.chargeByKey(deps.db, key);
  if (existing && !sameCharge(existing, request)) throw keyReused();
  // Missing: the attempt that held the key charged nothing and freed it just now; a retry is a fresh attempt.
  if (!existing || existing.status === 'processing') {
    throw providerError(
      'REQUEST_IN_PROGRESS',
      'A request with this Idempotency-Key is still being processed; retry later',
    );
  }
  if (existing.status === 'declined') declined(existing);
  return toChargeView(existing);
}

export const getCharge = async ({ db }: ProviderDeps, id: string): Promise<ChargeView> =>
  toChargeView(found(await repository.charge(db, id), id));

/** Every charge of a reference (an order), newest first, unfinished ones included. */
export const listCharges = async ({ db }: ProviderDeps, reference: string): Promise<{ data: ChargeView[] }> => ({
  data: (await repository.chargesByReference(db, reference)).map(toChargeView),
});

/**
 * Refunds part or all of a succeeded charge, once per Idempotency-Key. The charge row is locked for
 * the decision, so concurrent refunds never add up to more than was charged.
 */
export async function createRefund(
  deps: ProviderDeps,
  request: { chargeId: string; amount: number; reason?: string },
  idempotencyKey: string | undefined,
): Promise<RefundView> {
  const key = requireKey(idempotencyKey);
  await throughProvider(deps.behaviour.current());
  const refund: RefundRequest = { chargeId: request.chargeId, amount: request.amount, reason: request.reason ?? null };
  const row = await deps.db.transaction(async (trx) => {
    const charge = found(await repository.lockCharge(trx, refund.chargeId), refund.chargeId);
    // Read under the lock: a replay racing its original sees it committed.
    const existing = await repository.refundByKey(trx, key);
    if (existing) {
      if (
        existing.chargeId !== refund.chargeId ||
        existing.amount !== refund.amount ||
        existing.reason !== refund.reason
      )
        throw keyReused();
      return existing;
    }
    if (charge.status !== 'succeeded') {
      throw providerError(
        'CHARGE_NOT_REFUNDABLE',
        `Charge ${charge.id} is ${charge.status}; only a succeeded charge can be refunded`,
      );
    }
    const refundable = charge.amount - charge.refundedAmount;
    if (refund.amount > refundable) {
      throw providerError('REFUND_EXCEEDS_CHARGE', `At most ${refundable} of charge ${charge.id} is left to refund`, {
        amount: charge.amount,
        refundedAmount: charge.refundedAmount,
        refundable,
      });
    }
    const inserted = await repository.insertRefund(trx, { ...refund, id: randomUUID(), idempotencyKey: key });
    // Only a refund of another charge can have taken the key meanwhile: this charge is locked.
    if (!inserted) throw keyReused();
    return inserted;
  });
  return toRefundView(row);
}

export async function listRefunds({ db }: ProviderDeps, chargeId: string): Promise<{ data: RefundView[] }> {
  found(await repository.charge(db, chargeId), chargeId);
  return { data: (await repository.refundsOfCharge(db, chargeId)).map(toRefundView) };
}
