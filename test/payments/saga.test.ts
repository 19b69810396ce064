import { expect } from 'chai';
import type { Knex } from 'knex';
import { orderQueueRepository } from '../../db/repositories/order-queue.js';
import { decideOrders } from '../../domain/allocation/decide-orders.js';
import { api, testSystem, type ApiResponse } from '../system.js';
import { makeHall, makeShowing } from '../factories.js';
import {
  eventually,
  freshShowing,
  getOrder,
  insertUnderWay,
  overrideConfig,
  partitionOfShowing,
  place,
  someoneWaitsOnLock,
  ticketsOfShowing,
  type ErrorBody,
} from '../orders/support.js';
import {
  cancel,
  chargeDirectly,
  paymentRows,
  placePaying,
  providerCharges,
  switchBehaviour,
  untilOrder,
  withPaymentWorkers,
} from './support.js';

describe('payments: the saga from held seats to a confirmed, failed or refunded order', () => {
  withPaymentWorkers();
  const restores: (() => void)[] = [];
  after(() => restores.reverse().forEach((restore) => restore()));

  it('when the card is good, should confirm the order, sell its tickets and charge exactly once', async () => {
    const { showing, seats } = await freshShowing();
    const order = await placePaying(showing.id, [seats[0]!.id, seats[1]!.id], 'tok_ok');
    const confirmed = await untilOrder(order, 'confirmed', (view) => view.status === 'confirmed');
    expect(confirmed.paymentStatus).to.equal('paid');
    expect(confirmed.holdExpiresAt).to.equal(null);
    expect(confirmed.seats.map((seat) => seat.ticketStatus)).to.deep.equal(['sold', 'sold']);
    const charges = await providerCharges(order.id);
    expect(charges.map((charge) => [charge.status, charge.amount])).to.deep.equal([['succeeded', confirmed.total]]);
    expect(await paymentRows(order.id)).to.deep.equal([
      { kind: 'charge', status: 'succeeded', amount: confirmed.total, idempotencyKey: `charge:${order.id}` },
    ]);
  });

  it('when the card is declined, should fail the order with the decline code and free its seats for the next buyer', async () => {
    const { showing, seats } = await freshShowing();
    const order = await placePaying(showing.id, [seats[0]!.id], 'tok_insufficient_funds');
    const failed = await untilOrder(order, 'payment_failed', (view) => view.status === 'payment_failed');
    expect(failed.reason).to.equal('INSUFFICIENT_FUNDS');
    expect(failed.paymentStatus).to.equal('declined');
    expect(failed.seats[0]!.ticketStatus).to.equal('released');
    const next = await placePaying(showing.id, [seats[0]!.id], 'tok_ok');
    await untilOrder(next, 'confirmed', (view) => view.status === 'confirmed');
  });

  it('when the seats are free of charge, should confirm the order without asking the payment service', async () => {
    const hall = await makeHall();
    const showing = await makeShowing({ hallId: hall.id, prices: { standard: 0, vip: 0 } });
    const seatId = hall.layout.rows[0]!.seats[0]!.id;
    const order = await placePaying(showing.id, [seatId], 'tok_ok');
    const confirmed = await untilOrder(order, 'confirmed', (view) => view.status === 'confirmed');
    expect([confirmed.total, confirmed.paymentStatus]).to.deep.equal([0, 'paid']);
    expect(await providerCharges(order.id)).to.deep.equal([]);
  });

  it('when the service times out after charging, should look the charge up and confirm without charging twice', async () => {
    const { showing, seats } = await freshShowing();
    const order = await placePaying(showing.id, [seats[0]!.id], 'tok_timeout_after_charge');
    await untilOrder(order, 'confirmed', (view) => view.status === 'confirmed');
    const charges = await providerCharges(order.id);
    expect(charges.filter((charge) => charge.status === 'succeeded')).to.have.length(1);
  });

  it('when one card keeps failing while the service answers, should release its seats at the hold TTL plus the grace, not keep them for the reconcile window', async () => {
    // The reconcile window stays at its 10 minutes: the seats must go back on sale long before.
    restores.push(await overrideConfig({ HOLD_TTL_SECONDS: 1, PAYMENT_HOLD_GRACE_SECONDS: 1 }));
    const { showing, seats } = await freshShowing();
    const order = await placePaying(showing.id, [seats[0]!.id], 'tok_error');
    const retrying = await untilOrder(order, 'retrying', (view) => view.paymentStatus === 'retrying');
    expect(retrying.status).to.equal('awaiting_payment');
    const failed = await untilOrder(order, 'given up', (view) => view.status === 'payment_failed');
    expect(failed.reason).to.equal('PAYMENT_UNRESOLVED');
    expect(failed.paymentStatus).to.equal('unresolved');
    expect((await ticketsOfShowing(showing.id)).map((ticket) => ticket.status)).to.deep.equal(['released']);
    expect(await providerCharges(order.id)).to.deep.equal([]);
    restores.pop()!();
  });

  it('when a charge lands after the seats went to someone else, should refund it in full and mark the order refunded', async () => {
    restores.push(
      await overrideConfig({ HOLD_TTL_SECONDS: 1, PAYMENT_HOLD_GRACE_SECONDS: 1, PAYMENT_RECONCILE_WINDOW_SECONDS: 1 }),
    );
    const { showing, seats } = await freshShowing();
    const order = await placePaying(showing.id, [seats[0]!.id], 'tok_error');
    await untilOrder(order, 'given up', (view) => view.status === 'payment_failed');
    restores.pop()!();
    const next = await placePaying(showing.id, [seats[0]!.id], 'tok_ok');
    await untilOrder(next, 'confirmed', (view) => view.status === 'confirmed');
    // An attempt of ours that the service processed late: the charge exists after all.
    const total = (await api('GET', `/api/v1/showings/${showing.id}/seats`, { token: null })).body.rows[0].seats[0]
      .price;
    const late = await chargeDirectly(order.id, total, `charge:${order.id}`);
    expect(late.status, JSON.stringify(late.body)).to.equal(201);

    const refunded = await untilOrder(
      order,
      'refunded',
      (view) => view.status === 'refunded' && view.paymentStatus === 'refunded',
    );
    expect(refunded.reason).to.equal('PAID_AFTER_SEATS_RELEASED');
    expect(refunded.refundedTotal).to.equal(total);
    const [charge] = await providerCharges(order.id);
    expect(charge!.refundedAmount).to.equal(total);
    // The seat stays with the buyer who has it.
    expect((await getOrder(next.id, next.accessToken)).body.status).to.equal('confirmed');
  });
});

describe('payments: paying a held order later', () => {
  withPaymentWorkers();

  const pay = (
    order: { id: string; accessToken: string },
    token: string,
    accessToken: string | null = order.accessToken,
  ) => api('POST', `/api/v1/orders/${order.id}/payment`, { body: { token }, token: accessToken });

  it('when a held order is paid with its access token, should charge it and confirm; the same payment again changes nothing', async () => {
    const { showing, seats } = await freshShowing();
    const order = await place(showing.id, [seats[0]!.id], { wait: 5 });
    expect([order.status, order.paymentStatus]).to.deep.equal(['awaiting_payment', null]);
    expect((await pay(order, 'tok_ok', 'wrong-token')).status).to.equal(404);
    const response = await pay(order, 'tok_ok');
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    expect(response.body.paymentStatus).to.be.oneOf(['processing', 'paid']);
    expect(response.headers.get('etag'), 'its version, for the polls that follow').to.equal(
      `"${response.body.version}"`,
    );
    await untilOrder(order, 'confirmed', (view) => view.status === 'confirmed');
    expect((await pay(order, 'tok_ok')).status).to.equal(200);
    const other = await pay(order, 'tok_other');
    expect(other.status).to.equal(409);
    expect((other.body as ErrorBody).error.code).to.equal('ORDER_NOT_PAYABLE');
    expect((await providerCharges(order.id)).filter((charge) => charge.status === 'succeeded')).to.have.length(1);
  });

  it('when the order is no longer held, should refuse the payment with ORDER_NOT_PAYABLE', async () => {
    const { showing, seats } = await freshShowing();
    const order = await place(showing.id, [seats[0]!.id], { wait: 5 });
    expect((await api('POST', `/api/v1/orders/${order.id}/cancel`, { token: order.accessToken })).status).to.equal(200);
    const response = await pay(order, 'tok_ok');
    expect(response.status).to.equal(409);
    expect((response.body as ErrorBody).error).to.deep.include({
      code: 'ORDER_NOT_PAYABLE',
      details: { status: 'cancelled', paymentStatus: null },
    });
    expect(await providerCharges(order.id)).to.deep.equal([]);
  });
});

describe('payments: cancellation', () => {
  const workers = withPaymentWorkers();

  it('when a paid order is cancelled, should free its seats at once and refund the whole price', async () => {
    const { showing, seats } = await freshShowing();
    const order = await placePaying(showing.id, [seats[0]!.id, seats[1]!.id], 'tok_ok');
    const confirmed = await untilOrder(order, 'confirmed', (view) => view.status === 'confirmed');
    const response = await cancel(order);
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    expect(response.body.status).to.equal('cancelled');
    const again = await placePaying(showing.id, [seats[0]!.id, seats[1]!.id], 'tok_ok');
    await untilOrder(again, 'confirmed', (view) => view.status === 'confirmed');
    const refunded = await untilOrder(order, 'refunded', (view) => view.paymentStatus === 'refunded');
    expect(refunded.refundedTotal).to.equal(confirmed.total);
    expect(refunded.seats.map((seat) => seat.ticketStatus)).to.deep.equal(['cancelled', 'cancelled']);
    const [charge] = await providerCharges(order.id);
    expect(charge!.refundedAmount).to.equal(confirmed.total);
  });

  it('when some tickets of a paid order are cancelled, should refund just those and keep the rest', async () => {
    const { showing, seats } = await freshShowing();
    const order = await placePaying(showing.id, [seats[0]!.id, seats[1]!.id], 'tok_ok');
    const confirmed = await untilOrder(order, 'confirmed', (view) => view.status === 'confirmed');
    const first = confirmed.seats[0]!;
    const response = await cancel(order, { ticketIds: [first.ticketId] });
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    expect(response.body.status).to.equal('confirmed');
    const partly = await untilOrder(order, 'partly refunded', (view) => view.paymentStatus === 'partially_refunded');
    expect(partly.refundedTotal).to.equal(first.price);
    expect(partly.seats.map((seat) => seat.ticketStatus)).to.deep.equal(['cancelled', 'sold']);
    // The same cancellation again: the ticket is no longer active, nothing is refunded twice.
    const repeated = await cancel(order, { ticketIds: [first.ticketId] });
    expect(repeated.status).to.equal(422);
    expect((repeated.body as ErrorBody).error.code).to.equal('TICKET_NOT_IN_ORDER');
    expect((await paymentRows(order.id)).filter((row) => row.kind === 'refund')).to.have.length(1);
  });

  it('when an order is cancelled before it is decided, should never hold its seats', async () => {
    const { showing, seats } = await freshShowing();
    await workers.stop();
    const order = await place(showing.id, [seats[0]!.id]);
    try {
      const response = await cancel(order);
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body).to.deep.include({ status: 'cancelled', reason: 'CANCELLED_BY_BUYER' });
    } finally {
      await workers.start();
    }
    const next = await placePaying(showing.id, [seats[0]!.id], 'tok_ok');
    await untilOrder(next, 'confirmed', (view) => view.status === 'confirmed');
    expect((await getOrder(order.id, order.accessToken)).body.status).to.equal('cancelled');
    expect((await ticketsOfShowing(showing.id)).map((ticket) => ticket.orderId)).to.deep.equal([next.id]);
  });

  it('when the showing starts within the cutoff, should refuse with CANCELLATION_CLOSED and keep the order', async () => {
    const { hall, seats } = await freshShowing();
    const soon = await makeShowing({ hallId: hall.id, startsAt: new Date(Date.now() + 30 * 60_000).toISOString() });
    const order = await placePaying(soon.id, [seats[0]!.id], 'tok_ok');
    await untilOrder(order, 'confirmed', (view) => view.status === 'confirmed');
    const response = await cancel(order);
    expect(response.status).to.equal(409);
    expect((response.body as ErrorBody).error.code).to.equal('CANCELLATION_CLOSED');
    expect((await getOrder(order.id, order.accessToken)).body.status).to.equal('confirmed');
  });

  it('when a confirmed order of free seats is cancelled, should free its seats with nothing to refund and keep it paid', async () => {
    const hall = await makeHall();
    const showing = await makeShowing({ hallId: hall.id, prices: { standard: 0, vip: 0 } });
    const order = await placePaying(showing.id, [hall.layout.rows[0]!.seats[0]!.id], 'tok_ok');
    await untilOrder(order, 'confirmed', (view) => view.status === 'confirmed');
    const response = await cancel(order);
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    expect([response.body.status, response.body.paymentStatus]).to.deep.equal(['cancelled', 'paid']);
    expect(await paymentRows(order.id)).to.deep.equal([]);
    expect((await ticketsOfShowing(showing.id)).map((ticket) => ticket.status)).to.deep.equal(['cancelled']);
  });

  it('when some free tickets of a confirmed order are cancelled, should cancel just those with nothing to refund', async () => {
    const hall = await makeHall();
    const showing = await makeShowing({ hallId: hall.id, prices: { standard: 0, vip: 0 } });
    const [first, second] = hall.layout.rows[0]!.seats;
    const order = await placePaying(showing.id, [first!.id, second!.id], 'tok_ok');
    const confirmed = await untilOrder(order, 'confirmed', (view) => view.status === 'confirmed');
    const response = await cancel(order, { ticketIds: [confirmed.seats[0]!.ticketId] });
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    expect([response.body.status, response.body.paymentStatus]).to.deep.equal(['confirmed', 'paid']);
    expect(response.body.seats.map((seat: { ticketStatus: string }) => seat.ticketStatus)).to.deep.equal([
      'cancelled',
      'sold',
    ]);
    expect(await paymentRows(order.id)).to.deep.equal([]);
  });

  it('when the token is wrong or the order is final, should answer 404 and 409 ORDER_NOT_CANCELLABLE', async () => {
    const { showing, seats } = await freshShowing();
    const winner = await placePaying(showing.id, [seats[0]!.id], 'tok_ok');
    const loser = await place(showing.id, [seats[0]!.id], { wait: 5 });
    await untilOrder(winner, 'confirmed', (view) => view.status === 'confirmed');
    const rejected = await untilOrder(loser, 'rejected', (view) => view.status === 'rejected');
    expect(rejected.reason).to.equal('SEAT_TAKEN');
    expect((await cancel(winner, undefined, 'wrong-token')).status).to.equal(404);
    const refused = await cancel(loser);
    expect(refused.status).to.equal(409);
    expect((refused.body as ErrorBody).error.code).to.equal('ORDER_NOT_CANCELLABLE');
  });

  it('when a showing is cancelled while a partial refund of an order is still under way, should refund the rest exactly once', async () => {
    const { showing, seats } = await freshShowing();
    const order = await placePaying(showing.id, [seats[0]!.id, seats[1]!.id, seats[2]!.id], 'tok_ok');
    const confirmed = await untilOrder(order, 'confirmed', (view) => view.status === 'confirmed');
    // The service refuses everything for now: the first refund stays pending.
    const restoreBehaviour = await switchBehaviour({ errorRate: 1 });
    try {
      expect((await cancel(order, { ticketIds: [confirmed.seats[0]!.ticketId] })).status).to.equal(200);
      expect((await api('POST', `/api/v1/showings/${showing.id}/cancel`)).status).to.equal(200);
    } finally {
      await restoreBehaviour();
    }
    const refunded = await untilOrder(order, 'refunded', (view) => view.paymentStatus === 'refunded', 15_000);
    expect(refunded.refundedTotal).to.equal(confirmed.total);
    const [charge] = await providerCharges(order.id);
    expect(charge!.refundedAmount).to.equal(confirmed.total);
    expect((await paymentRows(order.id)).filter((row) => row.kind === 'refund').map((row) => row.status)).to.deep.equal(
      ['succeeded', 'succeeded'],
    );
  });

  /** An order left queued (workers stopped), and the read of its partition's queue an allocation batch makes. */
  async function queuedForHandPlayedBatch() {
    const { deps, config } = await testSystem();
    const { showing, seats } = await freshShowing();
    await workers.stop();
    const order = await place(showing.id, [seats[0]!.id]);
    const partition = await partitionOfShowing(showing.id);
    const readQueue = (batch: Knex.Transaction, horizon: number) =>
      orderQueueRepository.lockQueuedBatch(batch, {
        partitions: config.ALLOCATION_PARTITIONS,
        partition,
        afterSeq: 0,
        horizon,
        limit: 100,
        countHeld: false,
      });
    return { deps, showing, seats, order, partition, readQueue };
  }

  it('when a showing is cancelled while an allocation batch is deciding its orders, should wait for the batch and cancel what it held', async () => {
    const { deps, showing, order, partition, readQueue } = await queuedForHandPlayedBatch();
    const batch = await deps.db.transaction();
    let cancelled: Promise<ApiResponse> | undefined;
    try {
      const horizon = await orderQueueRepository.arrivalHorizon(deps.db, partition);
      const mine = (await readQueue(batch, horizon)).filter((row) => row.id === order.id);
      cancelled = api('POST', `/api/v1/showings/${showing.id}/cancel`);
      await eventually('the cancellation to wait for the batch', () => someoneWaitsOnLock('%pg_advisory_xact_lock%'));
      const { decisions, tickets } = decideOrders(mine, {
        now: new Date(),
        holdTtlMs: 600_000,
        confirmWithoutPayment: false,
        maxHeldSeatsPerCustomer: 0,
        maxHeldSeatsPerAddress: 0,
      });
      await orderQueueRepository.recordDecisions(batch, decisions, tickets);
      await batch.commit();
    } finally {
      if (!batch.isCompleted()) await batch.rollback();
      await workers.start();
    }
    const response = await cancelled!;
    expect(response.body).to.deep.include({ cancelledOrders: 1 });
    expect((await getOrder(order.id, order.accessToken)).body.status).to.equal('cancelled');
    expect((await ticketsOfShowing(showing.id)).map((ticket) => ticket.status)).to.deep.equal(['cancelled']);
  });

  it('when a showing is cancelled while an allocation batch waits to read its queue, should read the cancellation and hold nothing', async () => {
    const { deps, showing, seats, order, partition, readQueue } = await queuedForHandPlayedBatch();
    // An insert under way keeps the cancellation waiting for the exclusive arrival lock, and the
    // batch's read queues behind the cancellation: it must see what the cancellation committed.
    const batch = await deps.db.transaction();
    let cancelled: Promise<ApiResponse> | undefined;
    const horizon = await orderQueueRepository.arrivalHorizon(deps.db, partition);
    const { transaction: inserting } = await insertUnderWay(showing.id, seats[1]!.id);
    try {
      cancelled = api('POST', `/api/v1/showings/${showing.id}/cancel`);
      await eventually('the cancellation to wait for the insert', () =>
        someoneWaitsOnLock('SELECT pg_advisory_xact_lock(%'),
      );
      const reading = readQueue(batch, horizon);
      await eventually('the batch to wait for the cancellation', () =>
        someoneWaitsOnLock('%pg_advisory_xact_lock_shared%'),
      );
      await inserting.rollback();
      expect((await cancelled).status).to.equal(200);
      const mine = (await reading).filter((row) => row.id === order.id);
      const { decisions, tickets } = decideOrders(mine, {
        now: new Date(),
        holdTtlMs: 600_000,
        confirmWithoutPayment: false,
        maxHeldSeatsPerCustomer: 0,
        maxHeldSeatsPerAddress: 0,
      });
      expect(decisions.map((decision) => decision.failureReason)).to.deep.equal(['SHOWING_NOT_ON_SALE']);
      expect(tickets).to.deep.equal([]);
    } finally {
      if (!inserting.isCompleted()) await inserting.rollback();
      await batch.rollback();
      await workers.start();
    }
  });

  it('when a showing is cancelled by the cinema, should cancel and refund every order and take it off sale', async () => {
    const { showing, seats } = await freshShowing();
    const paid = await placePaying(showing.id, [seats[0]!.id], 'tok_ok');
    const confirmed = await untilOrder(paid, 'confirmed', (view) => view.status === 'confirmed');
    const unpaid = await place(showing.id, [seats[1]!.id], { wait: 5 });
    await untilOrder(unpaid, 'held', (view) => view.status === 'awaiting_payment');

    expect((await api('POST', `/api/v1/showings/${showing.id}/cancel`, { token: null })).status).to.equal(401);
    const response = await api('POST', `/api/v1/showings/${showing.id}/cancel`);
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    expect(response.body).to.deep.equal({ showingId: showing.id, cancelledOrders: 2, refundsRequested: 1 });
    const again = await api('POST', `/api/v1/showings/${showing.id}/cancel`);
    expect(again.status).to.equal(409);
    expect((again.body as ErrorBody).error.code).to.equal('SHOWING_ALREADY_CANCELLED');

    const refunded = await untilOrder(paid, 'refunded', (view) => view.paymentStatus === 'refunded');
    expect([refunded.status, refunded.reason, refunded.refundedTotal]).to.deep.equal([
      'cancelled',
      'SHOWING_CANCELLED',
      confirmed.total,
    ]);
    expect((await getOrder(unpaid.id, unpaid.accessToken)).body.status).to.equal('cancelled');
    expect((await ticketsOfShowing(showing.id)).every((ticket) => ticket.status === 'cancelled')).to.equal(true);
    const showingNow = await api('GET', `/api/v1/showings/${showing.id}`, { token: null });
    expect(showingNow.body.status).to.equal('cancelled');
  });
});
