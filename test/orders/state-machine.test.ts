import { expect } from 'chai';
import { ordersRepository } from '../../db/repositories/orders.js';
import { ORDER_TRANSITIONS, type NextOrderStatus, type OrderStatus } from '../../domain/model/order-states.js';
import { TICKET_TRANSITIONS, type TicketStatus } from '../../domain/model/tickets.js';
import { cancel, chargeDirectly, placePaying, untilOrder, withPaymentWorkers } from '../payments/support.js';
import { databaseNow, expectOnlyTransitions, isAllowed, statusChanges } from '../status-changes.js';
import { testSystem } from '../system.js';
import { freshShowing, orderRows, overrideConfig, place, raceForSeat, type PlacedView } from './support.js';

/** Every edge of the order state machine, as `from->to`: a new edge without a scenario below does not compile. */
type OrderEdge = { [From in OrderStatus]: `${From}->${NextOrderStatus<From>}` }[OrderStatus];
type TicketEdge = `${'new' | TicketStatus}->${TicketStatus}`;

/** Drives one order through the real API and workers until it takes the edge; returns the order. */
type Scenario = { run: () => Promise<PlacedView>; tickets: TicketEdge[] };

const settled = (order: PlacedView, status: OrderStatus) =>
  untilOrder(order, status, (view) => view.status === status && view.paymentStatus !== 'refund_pending');

describe('the order and ticket state machines, walked edge by edge', () => {
  const workers = withPaymentWorkers();
  const restores: (() => void)[] = [];
  afterEach(() =>
    restores
      .splice(0)
      .reverse()
      .forEach((restore) => restore()),
  );

  /** An order holding one seat of a fresh showing, placed without a card: it waits for its payment. */
  async function held(): Promise<PlacedView> {
    const { showing, seats } = await freshShowing();
    const order = await place(showing.id, [seats[0]!.id], { wait: 5 });
    expect(order.status, JSON.stringify(order)).to.equal('awaiting_payment');
    return order;
  }

  const scenarios: Record<OrderEdge, Scenario> = {
    'queued->awaiting_payment': { run: held, tickets: ['new->held'] },
    'queued->confirmed': {
      run: async () => {
        restores.push(await overrideConfig({ CONFIRM_WITHOUT_PAYMENT: true }));
        const { showing, seats } = await freshShowing();
        return place(showing.id, [seats[0]!.id], { wait: 5 });
      },
      tickets: ['new->sold'],
    },
    'queued->rejected': {
      run: async () => {
        const { showing, seats } = await freshShowing();
        return (await raceForSeat(showing.id, seats[0]!.id)).loser;
      },
      tickets: [],
    },
    'queued->cancelled': {
      run: async () => {
        await workers.stop();
        try {
          const { showing, seats } = await freshShowing();
          const order = await place(showing.id, [seats[0]!.id]);
          expect((await cancel(order)).status).to.equal(200);
          return order;
        } finally {
          await workers.start();
        }
      },
      tickets: [],
    },
    'awaiting_payment->confirmed': {
      run: async () => {
        const { showing, seats } = await freshShowing();
        return placePaying(showing.id, [seats[0]!.id], 'tok_ok');
      },
      tickets: ['new->held', 'held->sold'],
    },
    'awaiting_payment->payment_failed': {
      run: async () => {
        const { showing, seats } = await freshShowing();
        return placePaying(showing.id, [seats[0]!.id], 'tok_decline');
      },
      tickets: ['new->held', 'held->released'],
    },
    'awaiting_payment->expired': {
      run: async () => {
        const { deps } = await testSystem();
        const order = await held();
        await deps
          .db('orders')
          .where('id', order.id)
          .update({ hold_expires_at: deps.db.raw("now() - interval '1 second'") });
        return order;
      },
      tickets: ['new->held', 'held->released'],
    },
    'awaiting_payment->cancelled': {
      run: async () => {
        const order = await held();
        expect((await cancel(order)).status).to.equal(200);
        return order;
      },
      tickets: ['new->held', 'held->cancelled'],
    },
    'confirmed->cancelled': {
      run: async () => {
        const { showing, seats } = await freshShowing();
        const order = await placePaying(showing.id, [seats[0]!.id], 'tok_ok');
        await settled(order, 'confirmed');
        expect((await cancel(order)).status).to.equal(200);
        return order;
      },
      tickets: ['new->held', 'held->sold', 'sold->cancelled'],
    },
    'payment_failed->refunded': {
      // Unresolved past its hold and the reconcile window, the payment is given up and the seat
      // released; then the charge turns up at the provider after all, and is paid back.
      run: async () => {
        restores.push(
          await overrideConfig({
            HOLD_TTL_SECONDS: 1,
            PAYMENT_HOLD_GRACE_SECONDS: 1,
            PAYMENT_RECONCILE_WINDOW_SECONDS: 1,
          }),
        );
        const { showing, seats } = await freshShowing();
        const order = await placePaying(showing.id, [seats[0]!.id], 'tok_error');
        const failed = await settled(order, 'payment_failed');
        const price = failed.seats[0]!.price!;
        const late = await chargeDirectly(order.id, price, `charge:${order.id}`);
        expect(late.status, JSON.stringify(late.body)).to.equal(201);
        return order;
      },
      tickets: ['new->held', 'held->released'],
    },
  };

  /** What PostgreSQL recorded for the order and its tickets, as edges. */
  async function recordedFor(orderId: string) {
    const { deps } = await testSystem();
    const ticketIds = new Set(
      (await deps.db('tickets').where('order_id', orderId).pluck('id')).map((id: number) => String(id)),
    );
    const changes = (await statusChanges(deps.db)).filter(
      (change) =>
        (change.entity === 'orders' && change.id === orderId) ||
        (change.entity === 'tickets' && ticketIds.has(change.id)),
    );
    const edge = (change: (typeof changes)[number]) => `${change.from ?? 'new'}->${change.to}`;
    return {
      changes,
      orders: changes.filter((change) => change.entity === 'orders').map(edge),
      tickets: [...new Set(changes.filter((change) => change.entity === 'tickets').map(edge))],
    };
  }

  for (const [from, targets] of Object.entries(ORDER_TRANSITIONS) as [OrderStatus, readonly OrderStatus[]][]) {
    for (const to of targets) {
      const edge = `${from}->${to}` as OrderEdge;
      it(`when an order goes ${from} → ${to}, should record that edge, its tickets' edges, and nothing outside the machines`, async () => {
        const scenario = scenarios[edge];
        const order = await scenario.run();
        await settled(order, to);
        const recorded = await recordedFor(order.id);
        expect(recorded.orders, 'the order').to.include(edge);
        expect(recorded.orders[0], 'an order starts queued').to.equal('new->queued');
        expect(recorded.tickets, 'its tickets').to.have.members(scenario.tickets);
        expect(recorded.changes.filter((change) => !isAllowed(change))).to.deep.equal([]);
      });
    }
  }

  it('when the scenarios are taken together, should walk every edge of the ticket state machine', () => {
    const walked = new Set(Object.values(scenarios).flatMap((scenario) => scenario.tickets));
    const edges = (Object.entries(TICKET_TRANSITIONS) as [TicketStatus, readonly TicketStatus[]][]).flatMap(
      ([from, targets]) => targets.map((to) => `${from}->${to}`),
    );
    expect(edges.filter((edge) => !walked.has(edge as TicketEdge))).to.deep.equal([]);
  });

  it('when a use case asks the repository for a status that is no edge from the current one, should throw and write nothing', async () => {
    const { deps } = await testSystem();
    const order = await held();
    const error = await ordersRepository
      .change(deps.db, order.id, { status: 'refunded', failureReason: 'NOT_AN_EDGE' })
      .then(
        () => undefined,
        (caught: Error) => caught,
      );
    expect(error?.message).to.include('refunded is not reachable');
    const [row] = await orderRows([order.id]);
    expect([row!.status, row!.failureReason]).to.deep.equal(['awaiting_payment', null]);
  });

  it('when something writes a status outside the machines, should be caught by the suite-wide check', async () => {
    // The check itself must be able to fail, or the run's verdict (test/hooks.ts) proves nothing. The
    // stray write is made in a transaction that is rolled back, so it stays out of that verdict.
    const { deps } = await testSystem();
    const order = await held();
    const since = await databaseNow(deps.db);
    const trx = await deps.db.transaction();
    try {
      await trx('orders').where('id', order.id).update({ status: 'queued' });
      const error = await expectOnlyTransitions(trx, since).then(
        () => undefined,
        (caught: Error) => caught,
      );
      expect(error?.message).to.include(`orders ${order.id}: awaiting_payment -> queued`);
    } finally {
      await trx.rollback();
    }
    await expectOnlyTransitions(deps.db, since);
  });
});
