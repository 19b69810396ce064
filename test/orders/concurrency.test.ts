import { expect } from 'chai';
import { testSystem } from '../system.js';
import {
  decided,
  doubleBookedSeats,
  freshShowing,
  getOrder,
  orderBody,
  overrideConfig,
  random,
  submit,
  ticketsOfShowing,
  workerControl,
  type OrderRow,
  type ErrorBody,
  type PlacedView,
} from './support.js';

const BUYERS = 200;
const ROUNDS = 5;

describe('orders: concurrent buyers', () => {
  const workers = workerControl();
  let restore: () => void = () => {};

  before(async () => {
    // Only wake-ups may decide these orders: were one lost, the requeue sweep must not hide it.
    restore = await overrideConfig({ REQUEUE_AFTER_MS: 3_600_000 });
    await workers.start();
  });

  after(async () => {
    await workers.stop();
    restore();
  });

  it(`when ${BUYERS} buyers order the same seat at once, should let exactly one have it and reject the others with SEAT_TAKEN, round after round`, async function () {
    this.timeout(40_000);
    const { deps } = await testSystem();
    for (let round = 0; round < ROUNDS; round += 1) {
      // Every other round holds instead of selling, so both kinds of active ticket are raced for.
      const hold = round % 2 === 1;
      const restoreConfirm = await overrideConfig({ CONFIRM_WITHOUT_PAYMENT: !hold });
      try {
        const { showing, seats } = await freshShowing();
        const seat = seats[round % seats.length]!;
        const responses = await Promise.all(
          Array.from({ length: BUYERS }, (_, buyer) =>
            submit<PlacedView & ErrorBody>(orderBody(showing.id, [seat.id], `buyer-${round}-${buyer}@example.com`)),
          ),
        );
        // Accepted, or refused at once when the seat was already taken on arrival (nothing stored then).
        for (const response of responses) {
          if (response.status === 409)
            expect(response.body.error).to.deep.include({ code: 'SEAT_TAKEN', details: { seatIds: [seat.id] } });
          else expect(response.status, JSON.stringify(response.body)).to.equal(202);
        }
        const placed = responses.filter((response) => response.status === 202).map((response) => response.body);
        const refusedAtOnce = BUYERS - placed.length;
        expect(new Set(placed.map((order) => order.id)).size).to.equal(placed.length);
        const rows = await decided(placed.map((order) => order.id));

        // In the database: one winner, the earliest arrival (first come, first served); the rest rejected.
        const wonStatus = hold ? 'awaiting_payment' : 'confirmed';
        const won = rows.filter((row) => row.status === wonStatus);
        const lost = rows.filter((row) => row.status === 'rejected');
        expect(won, `round ${round}: winners`).to.have.length(1);
        expect(lost, `round ${round}: rejected`).to.have.length(placed.length - 1);
        expect(lost.length + refusedAtOnce, `round ${round}: every other buyer lost`).to.equal(BUYERS - 1);
        for (const row of lost)
          expect([row.failureReason, row.rejectedSeatIds]).to.deep.equal(['SEAT_TAKEN', [seat.id]]);
        expect(won[0]!.id, `round ${round}: the first order in arrival order wins`).to.equal(rows[0]!.id);

        // As the buyers see it, through the API: the winner and a sample of the others.
        const tokenOf = new Map(placed.map((order) => [order.id, order.accessToken]));
        const sample = [won[0]!, ...lost.filter((_, index) => index % 20 === 0)];
        const views = await Promise.all(sample.map((row) => getOrder(row.id, tokenOf.get(row.id)!)));
        for (const view of views) expect(view.status).to.equal(200);
        const [winnerView, ...loserViews] = views;
        const winner = winnerView!.body;
        expect(winner.status).to.equal(wonStatus);
        for (const loser of loserViews) {
          expect(loser.body).to.deep.include({
            status: 'rejected',
            reason: 'SEAT_TAKEN',
            rejectedSeatIds: [seat.id],
            total: null,
          });
        }
        const price = showing.prices[seat.category]!;
        expect(winner.total).to.equal(price);
        // And in the database: one active ticket for the seat, the winner's.
        const tickets = await ticketsOfShowing(showing.id);
        expect(winner.seats).to.deep.equal([
          {
            seatId: seat.id,
            row: seat.row,
            number: seat.number,
            price,
            ticketId: tickets[0]!.id,
            ticketStatus: hold ? 'held' : 'sold',
          },
        ]);
        expect(tickets.map((ticket) => [ticket.orderId, ticket.seatId, ticket.status])).to.deep.equal([
          [winner.id, seat.id, hold ? 'held' : 'sold'],
        ]);
      } finally {
        restoreConfirm();
      }
    }
    expect(await doubleBookedSeats()).to.deep.equal([]);
    expect(deps.config.CONFIRM_WITHOUT_PAYMENT).to.equal(true);
  });

  /**
   * What a serial, first-come-first-served, all-or-nothing allocation decides for these orders:
   * in arrival order, an order gets its seats if none is taken yet.
   */
  function serialOutcome(rows: OrderRow[]): Map<string, { accepted: boolean; taken: number[] }> {
    const taken = new Set<number>();
    const outcome = new Map<string, { accepted: boolean; taken: number[] }>();
    for (const row of rows) {
      const conflicts = row.seatIds.filter((seatId) => taken.has(seatId));
      if (conflicts.length === 0) row.seatIds.forEach((seatId) => taken.add(seatId));
      outcome.set(row.id, { accepted: conflicts.length === 0, taken: conflicts });
    }
    return outcome;
  }

  for (const [seed, hold] of [
    [7, false],
    [42, true],
  ] as const) {
    it(`when many orders of 1 to 4 adjacent seats overlap in a small hall (seed ${seed}${hold ? ', holds' : ''}), should give each order all of its seats or none, and no seat twice`, async function () {
      this.timeout(30_000);
      const restoreConfirm = await overrideConfig({ CONFIRM_WITHOUT_PAYMENT: !hold });
      try {
        const { showing, rows: hallRows, seats } = await freshShowing(8);
        const next = random(seed);
        const requests = Array.from({ length: 150 }, () => {
          const row = hallRows[Math.floor(next() * hallRows.length)]!;
          const length = 1 + Math.floor(next() * 4);
          const start = Math.floor(next() * (row.length - length + 1));
          const wanted = row.slice(start, start + length).map((seat) => seat.id);
          return next() < 0.5 ? wanted : wanted.reverse();
        });
        const responses = await Promise.all(
          requests.map((seatIds, index) =>
            submit<PlacedView & ErrorBody>(orderBody(showing.id, seatIds, `multi-${seed}-${index}@example.com`)),
          ),
        );
        // Accepted, or refused at once for seats already taken on arrival (some of the seats it asked for).
        responses.forEach((response, index) => {
          if (response.status !== 409) return expect(response.status, JSON.stringify(response.body)).to.equal(202);
          expect(response.body.error.code).to.equal('SEAT_TAKEN');
          expect(requests[index]).to.include.members((response.body.error.details as { seatIds: number[] }).seatIds);
        });
        const placed = new Map<string, PlacedView>(
          responses.filter((response) => response.status === 202).map((response) => [response.body.id, response.body]),
        );
        const rows = await decided([...placed.keys()]);
        const tickets = (await ticketsOfShowing(showing.id)).filter(
          (ticket) => ticket.status === 'held' || ticket.status === 'sold',
        );
        const priceOf = new Map(seats.map((seat) => [seat.id, showing.prices[seat.category]!]));

        const accepted = rows.filter((row) => row.status === (hold ? 'awaiting_payment' : 'confirmed'));
        const rejected = rows.filter((row) => row.status === 'rejected');
        expect(accepted.length + rejected.length, 'every order is accepted or rejected').to.equal(rows.length);
        expect(accepted.length).to.be.greaterThan(0);
        expect(rejected.length).to.be.greaterThan(0);

        for (const row of accepted) {
          const own = tickets.filter((ticket) => ticket.orderId === row.id);
          expect(own.map((ticket) => ticket.seatId).sort(), `order ${row.seq} has all its seats`).to.deep.equal(
            [...row.seatIds].sort(),
          );
          for (const ticket of own) expect(ticket.status).to.equal(hold ? 'held' : 'sold');
          const view = await getOrder(row.id, placed.get(row.id)!.accessToken);
          expect(view.body.total).to.equal(row.seatIds.reduce((sum, seatId) => sum + priceOf.get(seatId)!, 0));
        }
        const allTickets = await ticketsOfShowing(showing.id);
        for (const row of rejected) {
          expect(
            allTickets.filter((ticket) => ticket.orderId === row.id),
            `rejected order ${row.seq} has no ticket`,
          ).to.deep.equal([]);
          expect(row.failureReason).to.equal('SEAT_TAKEN');
          expect(row.rejectedSeatIds).to.not.be.empty;
          expect(row.seatIds).to.include.members(row.rejectedSeatIds!);
        }
        expect(tickets.length, 'no seat is taken twice').to.equal(new Set(tickets.map((ticket) => ticket.seatId)).size);
        expect(tickets.length).to.equal(accepted.reduce((sum, row) => sum + row.seatIds.length, 0));

        // The outcome is exactly that of deciding the orders one by one in arrival order.
        const serial = serialOutcome(rows);
        for (const row of rows) {
          const expected = serial.get(row.id)!;
          expect(
            { accepted: row.status !== 'rejected', taken: [...(row.rejectedSeatIds ?? [])].sort() },
            `order seq ${row.seq} (${row.seatIds.join(',')})`,
          ).to.deep.equal({ accepted: expected.accepted, taken: [...expected.taken].sort() });
        }
        expect(await doubleBookedSeats()).to.deep.equal([]);
      } finally {
        restoreConfirm();
      }
    });
  }
});
