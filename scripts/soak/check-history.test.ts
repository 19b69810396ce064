import { expect } from 'chai';
import { scopedIdempotencyKey } from '../../domain/orders/place-order.js';
import { CHECK_RULES, checkHistory, type CheckRule, type DatabaseSnapshot } from './check-history.js';
import { pairOperations, type Answer, type HistoryEntry, type Invocation, type OperationName } from './history.js';

/** The customer of every submit in these histories. */
const EMAIL = 'buyer@example.com';

const SECOND = 1_000;
const LIMITS = {
  holdTtlMs: 30 * SECOND,
  reconcileWindowMs: 30 * SECOND,
  paymentTimeoutMs: 3 * SECOND,
  graceMs: 15 * SECOND,
};
/** The database's clock at the check: ten minutes after the run began. */
const T0 = 1_800_000_000_000;
const CHECKED_AT = T0 + 600 * SECOND;

/** A history written as a run would: each operation an invoke and its completion. */
function historyOf(steps: [OperationName, Invocation[OperationName], 'ok' | 'fail' | 'info', Answer][]) {
  const entries: HistoryEntry[] = steps.flatMap(([f, invocation, type, answer], index) => [
    { op: index + 1, type: 'invoke', f, process: 'buyer-1', time: index * 10, at: T0 + index * 10, value: invocation },
    { op: index + 1, type, f, process: 'buyer-1', time: index * 10 + 5, at: T0 + index * 10 + 5, value: answer },
  ]);
  return pairOperations(entries);
}

const seen = (id: string, status: string, seatIds: number[], version = 1) => ({
  id,
  status,
  version,
  showingId: 1,
  seats: seatIds.map((seatId) => ({ seatId, ticketStatus: status === 'confirmed' ? 'sold' : 'held' })),
  paymentStatus: status === 'confirmed' ? 'paid' : 'processing',
});

/**
 * A good run, in small: A buys seat 11 by card and is confirmed; B, later, asks for seat 11 too and
 * is refused; C holds seat 12 without a card, pays later and is confirmed; D buys seat 13, is
 * confirmed, cancels and is refunded; E's submit got no answer, and its hold (seat 14) expired.
 */
function goodRun() {
  const steps: Parameters<typeof historyOf>[0] = [
    [
      'submit',
      { key: 'ka', email: EMAIL, showingId: 1, seatIds: [11], token: 'tok' },
      'ok',
      { http: 200, order: seen('A', 'awaiting_payment', [11]) },
    ],
    [
      'submit',
      { key: 'kb', email: EMAIL, showingId: 1, seatIds: [11], token: 'tok' },
      'ok',
      { http: 202, order: seen('B', 'queued', [11]) },
    ],
    [
      'submit',
      { key: 'kc', email: EMAIL, showingId: 1, seatIds: [12], token: null },
      'ok',
      { http: 200, order: seen('C', 'awaiting_payment', [12]) },
    ],
    ['pay', { orderId: 'C', token: 'tok' }, 'ok', { http: 200, order: seen('C', 'awaiting_payment', [12], 2) }],
    [
      'submit',
      { key: 'kd', email: EMAIL, showingId: 1, seatIds: [13], token: 'tok' },
      'ok',
      { http: 200, order: seen('D', 'awaiting_payment', [13]) },
    ],
    ['order-push', { orderId: 'A' }, 'ok', { order: seen('A', 'confirmed', [11], 2) }],
    ['read', { orderId: 'C' }, 'ok', { http: 200, order: seen('C', 'confirmed', [12], 3) }],
    ['order-push', { orderId: 'D' }, 'ok', { order: seen('D', 'confirmed', [13], 2) }],
    ['cancel', { orderId: 'D' }, 'ok', { http: 200 }],
    ['submit', { key: 'ke', email: EMAIL, showingId: 1, seatIds: [14], token: null }, 'info', { attempts: 7 }],
  ];
  const order = (id: string, seq: number, status: string, seatIds: number[], extra = {}) => ({
    id,
    seq,
    showingId: 1,
    status,
    seatIds,
    idempotencyKey: scopedIdempotencyKey(`k${id.toLowerCase()}`, EMAIL),
    rejectedSeatIds: null,
    failureReason: null,
    paymentStatus: status === 'confirmed' ? 'paid' : null,
    createdAt: T0 + seq * SECOND,
    decidedAt: T0 + seq * SECOND + 100,
    ...extra,
  });
  const ticket = (orderId: string, seatId: number, status: string, createdAt: number) => ({
    orderId,
    showingId: 1,
    seatId,
    price: 500,
    status,
    createdAt,
  });
  const charge = (reference: string, refundedAmount = 0) => ({
    idempotencyKey: `charge:${reference}`,
    reference,
    amount: 500,
    status: 'succeeded',
    refundedAmount,
  });
  const snapshot: DatabaseSnapshot = {
    checkedAt: CHECKED_AT,
    orders: [
      order('A', 1, 'confirmed', [11]),
      order('B', 2, 'rejected', [11], { rejectedSeatIds: [11], failureReason: 'SEAT_TAKEN' }),
      order('C', 3, 'confirmed', [12]),
      order('D', 4, 'cancelled', [13], { paymentStatus: 'refunded' }),
      order('E', 5, 'expired', [14], { failureReason: 'HOLD_EXPIRED' }),
    ],
    tickets: [
      ticket('A', 11, 'sold', T0 + 1_100),
      ticket('C', 12, 'sold', T0 + 3_100),
      ticket('D', 13, 'cancelled', T0 + 4_100),
      ticket('E', 14, 'released', T0 + 5_100),
    ],
    payments: ['A', 'C', 'D'].map((id) => ({
      idempotencyKey: `charge:${id}`,
      status: 'succeeded',
      createdAt: T0 + 2 * SECOND,
    })),
    charges: [charge('A'), charge('C'), charge('D', 500)],
  };
  return { steps, snapshot };
}

const counts = (run: ReturnType<typeof goodRun>) => checkHistory(historyOf(run.steps), run.snapshot, LIMITS).counts;
const only = (rule: CheckRule, count = 1) =>
  Object.fromEntries(CHECK_RULES.map((name) => [name, name === rule ? count : 0]));
const orderOf = (run: ReturnType<typeof goodRun>, id: string) => run.snapshot.orders.find((order) => order.id === id)!;

describe('the chaos history checker', () => {
  it('when the history and the database agree, should count 0 for every rule', () => {
    expect(counts(goodRun())).to.deep.equal(only('seatsWithTwoActiveOwners', 0));
  });

  it('when a seat has two active tickets, should count a seat with two active owners', () => {
    const run = goodRun();
    run.snapshot.tickets.push({ orderId: 'B', showingId: 1, seatId: 11, price: 500, status: 'held', createdAt: T0 });
    expect(counts(run)).to.deep.include(only('seatsWithTwoActiveOwners'));
  });

  it('when two clients saw two orders confirmed for one seat and neither cancelled, should count a seat with two active owners', () => {
    const run = goodRun();
    run.steps.push(['read', { orderId: 'B' }, 'ok', { http: 200, order: seen('B', 'confirmed', [11], 5) }]);
    expect(counts(run).seatsWithTwoActiveOwners).to.equal(1);
  });

  it('when an accepted order is still held past hold TTL + reconcile window, should count it not final', () => {
    const run = goodRun();
    orderOf(run, 'C').status = 'awaiting_payment';
    expect(counts(run).acceptedOrdersNotFinal).to.equal(1);
  });

  it('when an accepted order is held but younger than hold TTL + reconcile window, should not count it', () => {
    const run = goodRun();
    Object.assign(orderOf(run, 'C'), { status: 'awaiting_payment', createdAt: CHECKED_AT - 10 * SECOND });
    expect(counts(run).acceptedOrdersNotFinal).to.equal(0);
  });

  it('when an order a client got back is missing from the database, should count it not final', () => {
    const run = goodRun();
    run.snapshot.orders = run.snapshot.orders.filter((order) => order.id !== 'B');
    expect(counts(run).acceptedOrdersNotFinal).to.equal(1);
  });

  it('when a submit without an answer created an order that stayed queued, should count it not final', () => {
    const run = goodRun();
    orderOf(run, 'E').status = 'queued';
    expect(counts(run).acceptedOrdersNotFinal).to.equal(1);
  });

  it('when a confirmation a client saw is not in the database, should count a lost confirmation', () => {
    const run = goodRun();
    orderOf(run, 'A').status = 'payment_failed';
    run.snapshot.tickets[0]!.status = 'released';
    run.snapshot.charges[0]!.refundedAmount = 500;
    expect(counts(run)).to.deep.include(only('confirmationsLost'));
  });

  it('when a confirmed order the client never cancelled lost its seat, should count a lost confirmation', () => {
    const run = goodRun();
    run.snapshot.tickets[1]!.status = 'cancelled';
    run.snapshot.charges[1]!.refundedAmount = 500;
    expect(counts(run)).to.deep.include(only('confirmationsLost'));
  });

  it('when a sold ticket belongs to an order no client submitted, should count an unexplained sale', () => {
    const run = goodRun();
    run.snapshot.orders.push({
      ...orderOf(run, 'E'),
      id: 'F',
      seq: 9,
      status: 'confirmed',
      idempotencyKey: scopedIdempotencyKey('kf', EMAIL),
      seatIds: [15],
    });
    run.snapshot.tickets.push({ orderId: 'F', showingId: 1, seatId: 15, price: 500, status: 'sold', createdAt: T0 });
    run.snapshot.charges.push({
      idempotencyKey: 'charge:F',
      reference: 'F',
      amount: 500,
      status: 'succeeded',
      refundedAmount: 0,
    });
    expect(counts(run)).to.deep.include(only('soldTicketsUnexplained'));
  });

  it('when a sold ticket has no money kept at the payment service, should count an unexplained sale', () => {
    const run = goodRun();
    run.snapshot.charges = run.snapshot.charges.filter((charge) => charge.reference !== 'C');
    expect(counts(run)).to.deep.include(only('soldTicketsUnexplained'));
  });

  it('when an order was charged twice, should count charges per key above one', () => {
    const run = goodRun();
    run.snapshot.charges.push({
      idempotencyKey: 'charge:A:again',
      reference: 'A',
      amount: 500,
      status: 'succeeded',
      refundedAmount: 0,
    });
    // The second charge is also money kept without seats.
    expect(counts(run)).to.deep.include({ chargesPerKeyAboveOne: 1, paidOrdersWithoutSeatsNotRefunded: 1 });
  });

  it('when a cancelled paid order was not paid back, should count a paid order without seats', () => {
    const run = goodRun();
    run.snapshot.charges[2]!.refundedAmount = 0;
    expect(counts(run)).to.deep.include(only('paidOrdersWithoutSeatsNotRefunded'));
  });

  it('when a later order took a seat an earlier queued order asked for, should count a FIFO violation', () => {
    const run = goodRun();
    // A arrived after B, yet its ticket on seat 11 existed when B was refused for that seat.
    orderOf(run, 'A').seq = 7;
    expect(counts(run)).to.deep.include(only('laterOrderWonSeatOfEarlier'));
  });

  it('when an earlier order took the seat after a later order had been refused for it, should not count a FIFO violation', () => {
    const run = goodRun();
    // B (seq 2) refused at T0 + 2.1 s; A's ticket is later (released by someone else in between).
    orderOf(run, 'A').seq = 7;
    run.snapshot.tickets[0]!.createdAt = T0 + 5 * SECOND;
    expect(counts(run).laterOrderWonSeatOfEarlier).to.equal(0);
  });

  it('when a payment stays unknown past every deadline, should count it', () => {
    const run = goodRun();
    run.snapshot.payments.push({ idempotencyKey: 'charge:E', status: 'unknown', createdAt: T0 + 5 * SECOND });
    expect(counts(run)).to.deep.include(only('paymentsUnknownForever'));
  });

  it('when a payment is unknown but still within its deadlines, should not count it', () => {
    const run = goodRun();
    run.snapshot.payments.push({ idempotencyKey: 'charge:E', status: 'unknown', createdAt: CHECKED_AT - 20 * SECOND });
    expect(counts(run).paymentsUnknownForever).to.equal(0);
  });

  it('when an order waits for its refund past every deadline, should count a payment unknown for ever', () => {
    const run = goodRun();
    orderOf(run, 'D').paymentStatus = 'refund_pending';
    expect(counts(run).paymentsUnknownForever).to.equal(1);
  });
});
