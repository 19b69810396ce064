import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { allocateSeats } from '../../domain/allocation/allocate-seats.js';
import { ADMIN_TOKEN, api, testSystem } from '../system.js';
import {
  countRows,
  decided,
  freshShowing,
  getOrder,
  orderBody,
  partitionOfShowing,
  place,
  submit,
  workerControl,
  type ErrorBody,
  type OrderView,
} from './support.js';

const ORDER_FIELDS = [
  'id',
  'status',
  'showingId',
  'best',
  'seats',
  'paymentStatus',
  'refundedTotal',
  'total',
  'currency',
  'holdExpiresAt',
  'rejectedSeatIds',
  'reason',
  'createdAt',
  'decidedAt',
  'updatedAt',
  'version',
];

const ordersOfShowing = (showingId: number) => countRows('orders', { showing_id: showingId });

describe('orders: submitting', () => {
  const workers = workerControl();
  afterEach(() => workers.stop());

  describe('checks made before queueing', () => {
    it('when the showing does not exist, should refuse with 404 SHOWING_NOT_FOUND', async () => {
      const { seats } = await freshShowing();
      const response = await submit<ErrorBody>(orderBody(987_654_321, [seats[0]!.id]));
      expect(response.status).to.equal(404);
      expect(response.body.error.code).to.equal('SHOWING_NOT_FOUND');
    });

    it('when the showing has started, should refuse with 409 SHOWING_NOT_ON_SALE and store nothing', async () => {
      const { deps } = await testSystem();
      // A fresh showing: the intake has not cached it before the change.
      const { showing, seats } = await freshShowing();
      await deps
        .db('showings')
        .where('id', showing.id)
        .update({ starts_at: deps.db.raw("now() - interval '1 minute'") });
      const response = await submit<ErrorBody>(orderBody(showing.id, [seats[0]!.id]));
      expect(response.status).to.equal(409);
      expect(response.body.error).to.deep.include({ code: 'SHOWING_NOT_ON_SALE', details: { reason: 'started' } });
      expect(await ordersOfShowing(showing.id)).to.equal(0);
    });

    it('when the showing is cancelled, should refuse with 409 SHOWING_NOT_ON_SALE and store nothing', async () => {
      const { deps } = await testSystem();
      const { showing, seats } = await freshShowing();
      await deps.db('showings').where('id', showing.id).update({ cancelled_at: deps.db.fn.now() });
      const response = await submit<ErrorBody>(orderBody(showing.id, [seats[0]!.id]));
      expect(response.status).to.equal(409);
      expect(response.body.error).to.deep.include({ code: 'SHOWING_NOT_ON_SALE', details: { reason: 'cancelled' } });
      expect(await ordersOfShowing(showing.id)).to.equal(0);
    });

    it('when a seat belongs to another hall or to none, should refuse with 400 SEAT_NOT_IN_HALL naming those seats', async () => {
      const { showing, seats } = await freshShowing();
      const other = await freshShowing();
      const response = await submit<ErrorBody>(orderBody(showing.id, [seats[0]!.id, other.seats[0]!.id, 987_654_321]));
      expect(response.status).to.equal(400);
      expect(response.body.error).to.deep.include({
        code: 'SEAT_NOT_IN_HALL',
        details: { seatIds: [other.seats[0]!.id, 987_654_321] },
      });
      expect(await ordersOfShowing(showing.id)).to.equal(0);
    });

    it('when a seat is listed twice, should refuse with 400 DUPLICATE_SEATS', async () => {
      const { showing, seats } = await freshShowing();
      const response = await submit<ErrorBody>(orderBody(showing.id, [seats[0]!.id, seats[1]!.id, seats[0]!.id]));
      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal('DUPLICATE_SEATS');
      expect(await ordersOfShowing(showing.id)).to.equal(0);
    });

    it('when 11 seats are asked for, should refuse with 400 VALIDATION_FAILED naming seatIds, and accept 10', async () => {
      const { showing, seats } = await freshShowing();
      expect(seats.length).to.equal(12);
      const tooMany = await submit<ErrorBody>(
        orderBody(
          showing.id,
          seats.slice(0, 11).map((seat) => seat.id),
        ),
      );
      expect(tooMany.status).to.equal(400);
      expect(tooMany.body.error.code).to.equal('VALIDATION_FAILED');
      expect(JSON.stringify(tooMany.body.error.details)).to.include('seatIds');
      const ten = await submit(
        orderBody(
          showing.id,
          seats.slice(0, 10).map((seat) => seat.id),
        ),
      );
      expect(ten.status).to.equal(202);
      expect(ten.body.seats).to.have.length(10);
    });

    const malformed: [string, (showingId: number, seatId: number) => unknown, string][] = [
      [
        'the e-mail is not an e-mail',
        (showingId, seatId) => orderBody(showingId, [seatId], 'not-an-email'),
        'customer.email',
      ],
      ['the customer is missing', (showingId, seatId) => ({ showingId, seatIds: [seatId] }), 'customer'],
      ['no seat is asked for', (showingId) => orderBody(showingId, []), 'seatIds'],
      [
        'a seat id is a string',
        (showingId, seatId) => orderBody(showingId, [String(seatId) as unknown as number]),
        'seatIds.0',
      ],
      ['an unknown field is sent', (showingId, seatId) => ({ ...orderBody(showingId, [seatId]), discount: 100 }), ''],
    ];
    for (const [what, body, path] of malformed) {
      it(`when ${what}, should refuse with 400 VALIDATION_FAILED`, async () => {
        const { showing, seats } = await freshShowing();
        const response = await submit<ErrorBody>(body(showing.id, seats[0]!.id));
        expect(response.status).to.equal(400);
        expect(response.body.error.code).to.equal('VALIDATION_FAILED');
        const paths = (response.body.error.details as { in: string; path: string }[])
          .filter((detail) => detail.in === 'body')
          .map((detail) => detail.path);
        expect(paths).to.include(path);
        expect(await ordersOfShowing(showing.id)).to.equal(0);
      });
    }

    it('when a showing is deleted right after the intake checked it, should refuse only its order with 404 SHOWING_NOT_FOUND and accept the orders inserted with it', async () => {
      const doomed = await freshShowing();
      const others = [await freshShowing(), await freshShowing()];
      // Requests that fail the seat check still leave the showings and their halls' seats in the
      // intake's cache; the orders below then pass the checks at once and share one INSERT.
      for (const target of [doomed, ...others]) {
        const warm = await submit<ErrorBody>(orderBody(target.showing.id, [987_654_321]));
        expect(warm.body.error.code).to.equal('SEAT_NOT_IN_HALL');
      }
      const deleted = await api('DELETE', `/api/v1/showings/${doomed.showing.id}`);
      expect(deleted.status).to.equal(204);

      const [gone, ...kept] = await Promise.all([
        submit<ErrorBody>(orderBody(doomed.showing.id, [doomed.seats[0]!.id])),
        ...others.map((target) => submit(orderBody(target.showing.id, [target.seats[0]!.id]))),
      ]);
      expect(gone!.status, JSON.stringify(gone!.body)).to.equal(404);
      expect(gone!.body.error.code).to.equal('SHOWING_NOT_FOUND');
      for (const response of kept) expect(response.status, JSON.stringify(response.body)).to.equal(202);
      for (const target of others) expect(await ordersOfShowing(target.showing.id)).to.equal(1);
    });

    it('when the showing is cancelled after the order was queued, should reject the order with SHOWING_NOT_ON_SALE', async () => {
      const { deps } = await testSystem();
      const { showing, seats } = await freshShowing();
      const order = await place(showing.id, [seats[0]!.id]);
      expect(order.status).to.equal('queued');
      await deps.db('showings').where('id', showing.id).update({ cancelled_at: deps.db.fn.now() });
      await allocateSeats(deps, await partitionOfShowing(showing.id));
      const [row] = await decided([order.id], 1);
      expect([row!.status, row!.failureReason]).to.deep.equal(['rejected', 'SHOWING_NOT_ON_SALE']);
      expect(await countRows('tickets', { showing_id: showing.id })).to.equal(0);
    });
  });

  describe('the accepted order and reading it back', () => {
    it('when an order is accepted, should answer 202 with the queued order and its access token', async () => {
      const { showing, seats } = await freshShowing();
      const seat = seats[9]!; // row C, vip
      const response = await submit(orderBody(showing.id, [seat.id], 'shape@example.com', 'Shape'));
      expect(response.status).to.equal(202);
      const { accessToken, ...order } = response.body;
      expect(accessToken).to.be.a('string').with.length.greaterThan(20);
      expect(Object.keys(order)).to.have.members(ORDER_FIELDS);
      expect(order).to.deep.include({
        status: 'queued',
        showingId: showing.id,
        seats: [
          { seatId: seat.id, row: seat.row, number: seat.number, price: null, ticketId: null, ticketStatus: null },
        ],
        total: null,
        holdExpiresAt: null,
        rejectedSeatIds: [],
        reason: null,
        decidedAt: null,
      });
      expect(order.id).to.match(/^[0-9a-f-]{36}$/);
      expect(order.currency).to.match(/^[A-Z]{3}$/);
      expect(Math.abs(Date.parse(order.createdAt) - Date.now())).to.be.below(5_000);

      const read = await getOrder(order.id, accessToken);
      expect(read.status).to.equal(200);
      expect(Object.keys(read.body)).to.have.members(ORDER_FIELDS);
      expect(read.body).to.deep.include({
        id: order.id,
        status: 'queued',
        showingId: showing.id,
        currency: order.currency,
        seats: order.seats,
      });
    });

    it('when the buyer asks to wait, should answer 200 with the decision, equal to what a later read gives', async () => {
      await workers.start();
      const { showing, seats } = await freshShowing();
      const wanted = [seats[1]!, seats[9]!];
      const response = await submit(
        orderBody(
          showing.id,
          wanted.map((seat) => seat.id),
        ),
        { wait: 5 },
      );
      expect(response.status).to.equal(200);
      const { accessToken, ...order } = response.body;
      const prices = wanted.map((seat) => showing.prices[seat.category]!);
      const { seats: decidedSeats, ...decidedOrder } = order;
      expect(decidedSeats.every((seat) => typeof seat.ticketId === 'number')).to.equal(true);
      expect(decidedSeats.map(({ ticketId: _ticketId, ...seat }) => seat)).to.deep.equal(
        wanted.map((seat, index) => ({
          seatId: seat.id,
          row: seat.row,
          number: seat.number,
          price: prices[index],
          ticketStatus: 'sold',
        })),
      );
      expect(decidedOrder).to.deep.include({
        status: 'confirmed',
        total: prices[0]! + prices[1]!,
        rejectedSeatIds: [],
        reason: null,
      });
      expect(order.decidedAt).to.be.a('string');
      const read = await getOrder(order.id, accessToken);
      expect(read.status).to.equal(200);
      expect(read.body).to.deep.equal(order);

      // Sold now, so an order for it is refused at once (test/orders/refusal.test.ts).
      const lost = await submit<ErrorBody>(orderBody(showing.id, [seats[1]!.id]), { wait: 5 });
      expect([lost.status, lost.body.error.code, lost.body.error.details]).to.deep.equal([
        409,
        'SEAT_TAKEN',
        { seatIds: [seats[1]!.id] },
      ]);
    });

    it('when the buyer asks to wait but no worker decides in time, should answer 202 with the queued order after the wait', async () => {
      const { showing, seats } = await freshShowing();
      const started = Date.now();
      const response = await submit(orderBody(showing.id, [seats[0]!.id]), { wait: 1 });
      const elapsed = Date.now() - started;
      expect(response.status).to.equal(202);
      expect(response.body.status).to.equal('queued');
      expect(elapsed).to.be.within(900, 4_000);
    });

    it('when the access token is missing, wrong, of another order or the admin token, should answer 404 ORDER_NOT_FOUND', async () => {
      const { showing, seats } = await freshShowing();
      const mine = await place(showing.id, [seats[0]!.id]);
      const theirs = await place(showing.id, [seats[1]!.id]);
      const attempts: [string, string | null, 'bearer' | 'query'][] = [
        ['no token', null, 'bearer'],
        ['no token in the query', null, 'query'],
        ['a wrong token', 'x'.repeat(mine.accessToken.length), 'bearer'],
        [
          'a token one character off, in the query',
          `${mine.accessToken.slice(0, -1)}${mine.accessToken.endsWith('A') ? 'B' : 'A'}`,
          'query',
        ],
        ["another order's token", theirs.accessToken, 'bearer'],
        ['the admin token', ADMIN_TOKEN, 'bearer'],
      ];
      for (const [what, token, how] of attempts) {
        const response = await getOrder(mine.id, token, how);
        expect(response.status, what).to.equal(404);
        expect(response.body.error.code, what).to.equal('ORDER_NOT_FOUND');
        expect(JSON.stringify(response.body), what).to.not.include('"seats"');
      }
      const unknown = await getOrder(randomUUID(), mine.accessToken);
      expect(unknown.status).to.equal(404);
      expect(unknown.body.error.code).to.equal('ORDER_NOT_FOUND');
    });

    it('when the right token is given as Bearer or as ?token=, should return the order', async () => {
      const { showing, seats } = await freshShowing();
      const mine = await place(showing.id, [seats[0]!.id]);
      for (const how of ['bearer', 'query'] as const) {
        const response = await getOrder(mine.id, mine.accessToken, how);
        expect(response.status, how).to.equal(200);
        expect((response.body as OrderView).id, how).to.equal(mine.id);
      }
    });
  });
});
