import { expect } from 'chai';
import { api, testSystem } from '../system.js';
import {
  attempt,
  eventually,
  freshShowing,
  getOrder,
  orderBody,
  orderRows,
  overrideConfig,
  place,
  submit,
  sweepsEnded,
  ticketsOfShowing,
  workerControl,
  type ErrorBody,
  type PlacedView,
} from './support.js';

type SeatMap = {
  showingId: number;
  hallId: number;
  currency: string;
  freeSeats: number;
  rows: {
    label: string;
    seats: { id: number; number: number; category: string; price: number | null; status: string }[];
  }[];
};

type TicketPage = {
  data: {
    id: number;
    orderId: string;
    seatId: number;
    row: string;
    number: number;
    price: number;
    status: string;
    createdAt: string;
    cancelledAt: string | null;
  }[];
  nextCursor: string | null;
};

async function seatStatuses(showingId: number): Promise<Map<number, string>> {
  const response = await api<SeatMap>('GET', `/api/v1/showings/${showingId}/seats`, { token: null });
  expect(response.status, JSON.stringify(response.body)).to.equal(200);
  return new Map(response.body.rows.flatMap((row) => row.seats.map((seat) => [seat.id, seat.status] as const)));
}

describe('orders: holds, the seat map and the ticket list', () => {
  const workers = workerControl();
  let restore: () => void = () => {};

  before(() => workers.start());
  after(() => workers.stop());
  afterEach(() => {
    restore();
    restore = () => {};
  });

  /** Places an order that must be paid for: the seats are held until the hold expires. */
  async function hold(showingId: number, seatIds: number[]): Promise<PlacedView> {
    restore = await overrideConfig({ CONFIRM_WITHOUT_PAYMENT: false });
    try {
      const order = await place(showingId, seatIds, { wait: 5 });
      expect(order.status, JSON.stringify(order)).to.equal('awaiting_payment');
      return order;
    } finally {
      restore();
    }
  }

  it('when payment is required, should hold the seats until now plus HOLD_TTL_SECONDS', async () => {
    const { config } = await testSystem();
    const { showing, seats } = await freshShowing();
    const before = Date.now();
    const order = await hold(showing.id, [seats[0]!.id, seats[1]!.id]);
    const after = Date.now();
    const ttl = config.HOLD_TTL_SECONDS * 1000;
    expect(Date.parse(order.holdExpiresAt!)).to.be.within(before + ttl - 1_000, after + ttl + 1_000);
    expect(Date.parse(order.holdExpiresAt!) - Date.parse(order.decidedAt!)).to.be.closeTo(ttl, 1_000);
    expect(order.total).to.equal(2 * showing.prices.standard!);
    const tickets = await ticketsOfShowing(showing.id);
    expect(tickets.map((ticket) => [ticket.orderId, ticket.status])).to.deep.equal([
      [order.id, 'held'],
      [order.id, 'held'],
    ]);
    const read = await getOrder(order.id, order.accessToken);
    expect(read.body.status).to.equal('awaiting_payment');
    expect(read.body.holdExpiresAt).to.equal(order.holdExpiresAt);
  });

  it('when a hold runs out, should expire the order with HOLD_EXPIRED, release its seats and let them be bought again', async () => {
    const { deps } = await testSystem();
    const { showing, seats } = await freshShowing();
    const [s1, s2, s3] = seats;
    const due = await hold(showing.id, [s1!.id, s2!.id]);
    const notDue = await hold(showing.id, [s3!.id]);
    const expiredUpdates: string[] = [];
    const unlisten = await deps.events.listen(({ orders }) =>
      expiredUpdates.push(...orders.filter((order) => order.status === 'expired').map((order) => order.id)),
    );
    try {
      await deps
        .db('orders')
        .where('id', due.id)
        .update({ hold_expires_at: deps.db.raw("now() - interval '1 second'") });

      const expired = await eventually(
        'the sweep to expire the hold',
        async () => {
          const read = await getOrder(due.id, due.accessToken);
          return read.body.status === 'expired' ? read.body : undefined;
        },
        5_000,
      );
      expect(expired.reason).to.equal('HOLD_EXPIRED');
      // Published after the commit: it may reach us a moment after the read above.
      await eventually('the expiry to be published', async () => expiredUpdates.length > 0);
      // Two more sweeps ended: at least one whole sweep ran after the expiry was published.
      await sweepsEnded('order sweeps');
      expect(expiredUpdates, 'the expiry is published once').to.deep.equal([due.id]);
    } finally {
      unlisten();
    }
    const tickets = await ticketsOfShowing(showing.id);
    expect(tickets.map((ticket) => [ticket.orderId, ticket.seatId, ticket.status])).to.have.deep.members([
      [due.id, s1!.id, 'released'],
      [due.id, s2!.id, 'released'],
      [notDue.id, s3!.id, 'held'],
    ]);
    const [stillHeld] = await orderRows([notDue.id]);
    expect(stillHeld!.status, 'a hold not yet due stays').to.equal('awaiting_payment');

    const statuses = await seatStatuses(showing.id);
    expect([statuses.get(s1!.id), statuses.get(s2!.id), statuses.get(s3!.id)]).to.deep.equal(['free', 'free', 'held']);

    const again = await place(showing.id, [s1!.id, s2!.id], { wait: 5 });
    expect(again.status).to.equal('confirmed');
    // A seat held when the order arrives is refused at once: the queue would reject it anyway.
    const taken = await submit<ErrorBody>(orderBody(showing.id, [s3!.id]), { wait: 5 });
    expect([taken.status, taken.body.error.code, taken.body.error.details]).to.deep.equal([
      409,
      'SEAT_TAKEN',
      { seatIds: [s3!.id] },
    ]);
  });

  it('when seats are sold and held, should show them so on the seat map and everything else free', async () => {
    const { showing, seats } = await freshShowing();
    const sold = await place(showing.id, [seats[0]!.id], { wait: 5 });
    expect(sold.status).to.equal('confirmed');
    await hold(showing.id, [seats[4]!.id, seats[9]!.id]);
    const rejected = await attempt(showing.id, [seats[0]!.id, seats[1]!.id], { wait: 5 });
    expect([rejected.status, rejected.rejectedSeatIds]).to.deep.equal(['rejected', [seats[0]!.id]]);

    const response = await api<SeatMap>('GET', `/api/v1/showings/${showing.id}/seats`, { token: null });
    expect(response.status).to.equal(200);
    expect(response.body).to.deep.include({
      showingId: showing.id,
      hallId: showing.hallId,
      freeSeats: seats.length - 3,
    });
    const listed = response.body.rows.flatMap((row) => row.seats);
    expect(listed.map((seat) => seat.id)).to.have.members(seats.map((seat) => seat.id));
    for (const seat of listed) {
      const expected =
        seat.id === seats[0]!.id ? 'sold' : seat.id === seats[4]!.id || seat.id === seats[9]!.id ? 'held' : 'free';
      expect(seat.status, `seat ${seat.id}`).to.equal(expected);
      expect(seat.price).to.equal(showing.prices[seat.category]);
    }
  });

  it('when an admin lists the tickets of a showing, should give every ticket with its order, seat, price and status', async () => {
    const { showing, seats } = await freshShowing();
    const sold = await place(showing.id, [seats[0]!.id], { wait: 5 });
    const held = await hold(showing.id, [seats[9]!.id]);
    expect((await attempt(showing.id, [seats[0]!.id], { wait: 5 })).status).to.equal('rejected'); // no ticket

    const all = await api<TicketPage>('GET', `/api/v1/showings/${showing.id}/tickets`);
    expect(all.status).to.equal(200);
    expect(all.body.nextCursor).to.equal(null);
    expect(
      all.body.data.map(({ orderId, seatId, row, number, price, status, cancelledAt }) => ({
        orderId,
        seatId,
        row,
        number,
        price,
        status,
        cancelledAt,
      })),
    ).to.deep.equal([
      {
        orderId: sold.id,
        seatId: seats[0]!.id,
        row: 'A',
        number: 1,
        price: showing.prices.standard,
        status: 'sold',
        cancelledAt: null,
      },
      {
        orderId: held.id,
        seatId: seats[9]!.id,
        row: 'C',
        number: 2,
        price: showing.prices.vip,
        status: 'held',
        cancelledAt: null,
      },
    ]);

    const onlyHeld = await api<TicketPage>('GET', `/api/v1/showings/${showing.id}/tickets?status=held`);
    expect(onlyHeld.body.data.map((ticket) => ticket.orderId)).to.deep.equal([held.id]);
    const paged = await api<TicketPage>('GET', `/api/v1/showings/${showing.id}/tickets?limit=1`);
    expect(paged.body.data).to.have.length(1);
    expect(paged.body.nextCursor).to.be.a('string');

    const anonymous = await api<ErrorBody>('GET', `/api/v1/showings/${showing.id}/tickets`, { token: null });
    expect(anonymous.status).to.equal(401);
    const buyer = await api<ErrorBody>('GET', `/api/v1/showings/${showing.id}/tickets`, { token: sold.accessToken });
    expect(buyer.status).to.equal(403);
  });

  it('when the showing does not exist, should answer 404 SHOWING_NOT_FOUND for its seat map and tickets', async () => {
    for (const path of ['/api/v1/showings/987654321/seats', '/api/v1/showings/987654321/tickets']) {
      const response = await api<ErrorBody>('GET', path);
      expect(response.status, path).to.equal(404);
      expect(response.body.error.code, path).to.equal('SHOWING_NOT_FOUND');
    }
  });
});
