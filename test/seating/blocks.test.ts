import { expect } from 'chai';
import { api } from '../system.js';
import { ticketsOfShowing, workerControl } from '../orders/support.js';
import {
  block,
  getBest,
  gridLayout,
  orderBest,
  orderSeats,
  seatMap,
  showingWithLayout,
  statusesOf,
  unblock,
} from './support.js';

describe('seating: blocked seats', () => {
  const workers = workerControl();
  before(() => workers.start());
  after(() => workers.stop());

  it('when an admin blocks seats, should show them blocked in the (cached) seat map and list them with the reason; unblocked, free again', async () => {
    const { showing, seat } = await showingWithLayout(gridLayout(2, 6));
    const before = (await seatMap(showing.id)).body; // now held by this process
    const blocked = await block(showing.id, [seat('A1').id, seat('A2').id], 'camera position');
    expect(blocked.status, JSON.stringify(blocked.body)).to.equal(201);
    expect(
      blocked.body.blocks.map((entry: { seatId: number; reason: string }) => [entry.seatId, entry.reason]),
    ).to.deep.equal([
      [seat('A1').id, 'camera position'],
      [seat('A2').id, 'camera position'],
    ]);

    const after = (await seatMap(showing.id)).body;
    expect(after.version).to.equal(before.version + 1);
    expect(after.freeSeats).to.equal(before.freeSeats - 2);
    expect(statusesOf(after).get(seat('A1').id)).to.equal('blocked');
    const schedule = await api('GET', `/api/v1/showings/${showing.id}`, { token: null });
    expect(schedule.body.freeSeats).to.equal(10);

    expect((await unblock(showing.id, seat('A1').id)).status).to.equal(204);
    const unblocked = (await seatMap(showing.id)).body;
    expect(statusesOf(unblocked).get(seat('A1').id)).to.equal('free');
    expect(statusesOf(unblocked).get(seat('A2').id)).to.equal('blocked');
    expect((await api('GET', `/api/v1/showings/${showing.id}/blocks`)).body.blocks).to.have.length(1);
  });

  it('when a buyer orders a blocked seat, should refuse it SEAT_BLOCKED and sell nothing', async () => {
    const { showing, seat } = await showingWithLayout(gridLayout(1, 4));
    await block(showing.id, [seat('A2').id]);
    const response = await orderSeats(showing.id, [seat('A1').id, seat('A2').id]);
    const refusal =
      response.status === 409
        ? { code: response.body.error.code, seatIds: (response.body.error.details as { seatIds: number[] }).seatIds }
        : { code: response.body.reason, seatIds: response.body.rejectedSeatIds };
    expect(refusal).to.deep.equal({ code: 'SEAT_BLOCKED', seatIds: [seat('A2').id] });
    expect(await ticketsOfShowing(showing.id)).to.deep.equal([]);
  });

  it('when a blocked seat would split the best group, should never suggest or sell it', async () => {
    // One row of 5: blocking the middle seat leaves 2 + 2.
    const { showing, seat } = await showingWithLayout(gridLayout(1, 5));
    await block(showing.id, [seat('A3').id]);
    expect((await getBest(showing.id, 'count=3')).body.error.code).to.equal('NO_SEATS_TOGETHER');
    expect((await orderBest(showing.id, { count: 3 })).body.reason).to.equal('NO_SEATS_TOGETHER');
    const pair = await orderBest(showing.id, { count: 2 });
    expect(pair.body.seats.map((entry) => entry.seatId)).to.not.include(seat('A3').id);
  });

  it('when a seat is held or sold, should refuse to block it with SEAT_TAKEN; when blocked already, with SEAT_BLOCKED', async () => {
    const { showing, seat } = await showingWithLayout(gridLayout(1, 4));
    expect((await orderSeats(showing.id, [seat('A1').id])).body.status).to.be.oneOf(['awaiting_payment', 'confirmed']);
    const taken = await block(showing.id, [seat('A1').id, seat('A2').id]);
    expect(taken.status).to.equal(409);
    expect(taken.body.error).to.deep.include({
      code: 'SEAT_TAKEN',
      details: { seatIds: [seat('A1').id], blockedSeatIds: [] },
    });
    expect((await api('GET', `/api/v1/showings/${showing.id}/blocks`)).body.blocks).to.deep.equal([]);

    await block(showing.id, [seat('A2').id]);
    const again = await block(showing.id, [seat('A2').id]);
    expect(again.status).to.equal(409);
    expect(again.body.error).to.deep.include({ code: 'SEAT_BLOCKED', details: { seatIds: [seat('A2').id] } });
    const both = await block(showing.id, [seat('A1').id, seat('A2').id, seat('A3').id]);
    expect(both.body.error).to.deep.include({
      code: 'SEAT_TAKEN',
      details: { seatIds: [seat('A1').id], blockedSeatIds: [seat('A2').id] },
    });
  });

  it('when a block is asked wrongly, should answer with a clear code and change nothing', async () => {
    const { showing, seat } = await showingWithLayout(gridLayout(1, 4));
    const other = await showingWithLayout(gridLayout(1, 4));
    const cases: [Promise<{ status: number; body: any }>, number, string][] = [
      [block(showing.id, [other.seat('A1').id]), 400, 'SEAT_NOT_IN_HALL'],
      [block(showing.id, [seat('A1').id, seat('A1').id]), 400, 'DUPLICATE_SEATS'],
      [block(999_999_999, [seat('A1').id]), 404, 'SHOWING_NOT_FOUND'],
      [
        api('POST', `/api/v1/showings/${showing.id}/blocks`, { body: { seatIds: [seat('A1').id] } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        api('POST', `/api/v1/showings/${showing.id}/blocks`, {
          body: { seatIds: [seat('A1').id], reason: 'x' },
          token: null,
        }),
        401,
        'UNAUTHORIZED',
      ],
      [unblock(showing.id, seat('A1').id), 404, 'BLOCK_NOT_FOUND'],
    ];
    for (const [request, status, code] of cases) {
      const response = await request;
      expect([response.status, response.body.error?.code]).to.deep.equal([status, code]);
    }
    expect((await seatMap(showing.id)).body.freeSeats).to.equal(4);
  });

  it('when the showing is cancelled, should refuse a block with SHOWING_NOT_ON_SALE', async () => {
    const { showing, seat } = await showingWithLayout(gridLayout(1, 4));
    expect((await api('POST', `/api/v1/showings/${showing.id}/cancel`)).status).to.equal(200);
    const response = await block(showing.id, [seat('A1').id]);
    expect([response.status, response.body.error.code]).to.deep.equal([409, 'SHOWING_NOT_ON_SALE']);
  });

  it('when blocks and orders race for the same seats, should let either the block or one order have each seat, never both', async function () {
    this.timeout(30_000);
    for (let round = 0; round < 10; round += 1) {
      const { showing, seat } = await showingWithLayout(gridLayout(1, 4));
      const target = seat('A2').id;
      const [blocking, ...orders] = await Promise.all([
        block(showing.id, [target]),
        orderSeats(showing.id, [target]),
        orderSeats(showing.id, [target]),
        orderBest(showing.id, { count: 4 }),
      ]);
      const tickets = (await ticketsOfShowing(showing.id)).filter((ticket) => ['held', 'sold'].includes(ticket.status));
      const sold = tickets.filter((ticket) => ticket.seatId === target).length;
      expect(
        sold + (blocking.status === 201 ? 1 : 0),
        JSON.stringify({ blocking: blocking.body, orders: orders.map((o) => o.body) }),
      ).to.equal(1);
      expect(statusesOf((await seatMap(showing.id)).body).get(target)).to.equal(
        blocking.status === 201 ? 'blocked' : tickets.find((ticket) => ticket.seatId === target)!.status,
      );
    }
  });
});
