import { expect } from 'chai';
import { api } from '../system.js';
import { countRows, submit, ticketsOfShowing, workerControl, type ErrorBody } from '../orders/support.js';
import { gridLayout, getBest, orderBest, orderSeats, seatMap, showingWithLayout } from './support.js';

/** An order that got its seats: held for payment, or confirmed at once (CONFIRM_WITHOUT_PAYMENT, the tests' default). */
const SEATS_GIVEN = ['awaiting_payment', 'confirmed'];

/** Seat numbers of a suggestion or order, in order. */
const numbers = (seats: { number: number }[]) => seats.map((seat) => seat.number);

describe('seating: best available', () => {
  const workers = workerControl();
  before(() => workers.start());
  after(() => workers.stop());

  describe('the suggestion', () => {
    it('when a hall is empty, should suggest N seats together in the focal row, centred, leaving no seat stranded', async () => {
      // Rows A-K (y 0-10): the focal row is at 0.6 of the depth, row G.
      const { showing } = await showingWithLayout(gridLayout(11, 12));
      const response = await getBest(showing.id, 'count=4');
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body).to.deep.include({ showingId: showing.id, count: 4, rule: 'together-no-orphan', row: 'G' });
      expect(numbers(response.body.seats)).to.deep.equal([5, 6, 7, 8]);
      expect(response.body.total).to.equal(response.body.seats.reduce((sum, seat) => sum + seat.price!, 0));
      expect(response.body.explanation).to.be.a('string').that.includes('G');
    });

    it('when the hall changes its focal depth, should suggest seats nearer the new focal row', async () => {
      const { showing, hall } = await showingWithLayout(gridLayout(11, 12));
      const patched = await api('PATCH', `/api/v1/halls/${hall.id}`, { body: { seating: { focalDepth: 0 } } });
      expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
      expect(patched.body.seating).to.deep.equal({ focalDepth: 0, rowWeight: 1, refuseOrphans: false });
      expect((await getBest(showing.id, 'count=2')).body.row).to.equal('A');
    });

    it('when a category is asked for, should suggest seats of that category only', async () => {
      const layout = gridLayout(3, 6);
      layout.rows[0]!.seats = layout.rows[0]!.seats.map((seat) => ({ ...seat, category: 'vip' }));
      const { showing } = await showingWithLayout(layout);
      const response = await getBest(showing.id, 'count=3&category=vip');
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body.row).to.equal('A');
      expect(response.body.seats.every((seat) => seat.category === 'vip')).to.equal(true);
    });

    it('when no category is asked for, should keep to standard seats, never dearer vip or double seats nearer the focal point', async () => {
      const layout = gridLayout(4, 5);
      layout.rows[2]!.seats = layout.rows[2]!.seats.map((seat) => ({ ...seat, category: 'vip' }));
      layout.rows[3]!.seats = [1, 2, 3].map((number) => ({ number, category: 'double' }));
      const { showing } = await showingWithLayout(layout);
      const standard = await getBest(showing.id, 'count=4');
      expect(standard.body.seats.map((seat) => seat.category)).to.deep.equal(Array(4).fill('standard'));
      const doubles = await getBest(showing.id, 'count=4&category=double');
      expect(doubles.body.seats.map((seat) => seat.category)).to.deep.equal(['double', 'double']);
    });

    it('when the hall refuses orphans, should never suggest or sell a group that strands a seat', async () => {
      const { showing } = await showingWithLayout(gridLayout(1, 5), { seating: { refuseOrphans: true } });
      const suggestion = await getBest(showing.id, 'count=4');
      expect([suggestion.status, suggestion.body.error?.code]).to.deep.equal([409, 'NO_SEATS_TOGETHER']);
      expect((await orderBest(showing.id, { count: 4 })).body.reason).to.equal('NO_SEATS_TOGETHER');
    });

    it('when the showing is cancelled, should answer SHOWING_NOT_ON_SALE rather than suggest seats', async () => {
      const { showing } = await showingWithLayout(gridLayout(2, 4));
      expect((await api('POST', `/api/v1/showings/${showing.id}/cancel`)).status).to.equal(200);
      const response = await getBest(showing.id, 'count=2');
      expect([response.status, response.body.error.code]).to.deep.equal([409, 'SHOWING_NOT_ON_SALE']);
    });

    it('when no N seats sit together, should answer NO_SEATS_TOGETHER with split options flagged as split', async () => {
      // Two rows of 3 with an aisle after seat 2: at most 2 together anywhere.
      const { showing } = await showingWithLayout(gridLayout(2, 3, { aisleAfter: 2 }));
      const response = await getBest(showing.id, 'count=3');
      expect(response.status).to.equal(409);
      expect(response.body.error.code).to.equal('NO_SEATS_TOGETHER');
      const { splitOptions } = response.body.error.details as {
        splitOptions: { split: boolean; groups: { row: string; seats: unknown[] }[] }[];
      };
      expect(splitOptions).to.have.length.within(1, 3);
      for (const option of splitOptions) {
        expect(option.split).to.equal(true);
        expect(option.groups.reduce((sum, group) => sum + group.seats.length, 0)).to.equal(3);
      }
    });

    it('when the showing has fewer free seats than asked, should answer NOT_ENOUGH_SEATS', async () => {
      const { showing } = await showingWithLayout(gridLayout(1, 2));
      const response = await getBest(showing.id, 'count=3');
      expect(response.status).to.equal(409);
      expect(response.body.error.code).to.equal('NOT_ENOUGH_SEATS');
    });

    for (const query of [
      'count=0',
      'count=11',
      'count=two',
      'count=2&category=wheelchair',
      'count=2&accessible=yes',
      '',
    ]) {
      it(`when asked with "${query}", should answer 400 VALIDATION_FAILED`, async () => {
        const { showing } = await showingWithLayout(gridLayout(1, 4));
        const response = await getBest(showing.id, query);
        expect(response.status).to.equal(400);
        expect(response.body.error.code).to.equal('VALIDATION_FAILED');
      });
    }

    it('when the showing does not exist, should answer 404 SHOWING_NOT_FOUND', async () => {
      const response = await getBest(999_999_999, 'count=2');
      expect(response.status).to.equal(404);
      expect(response.body.error.code).to.equal('SHOWING_NOT_FOUND');
    });
  });

  describe('ordering "best N"', () => {
    it('when a buyer orders the best 4, should hold 4 seats together chosen at decision time and show them in the order', async () => {
      const { showing } = await showingWithLayout(gridLayout(11, 12));
      const preview = await getBest(showing.id, 'count=4');
      const response = await orderBest(showing.id, { count: 4 });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      const order = response.body;
      expect(order.status).to.be.oneOf(SEATS_GIVEN);
      expect(order.best).to.deep.equal({ count: 4 });
      expect(order.seats.map((seat) => seat.seatId)).to.deep.equal(preview.body.seats.map((seat) => seat.id));
      expect(order.total).to.equal(preview.body.total);
      const read = await api('GET', `/api/v1/orders/${order.id}`, { token: order.accessToken });
      expect(read.body.seats).to.deep.equal(order.seats);
    });

    it('when two buyers order the best 2 one after the other, should give them different seats', async () => {
      const { showing } = await showingWithLayout(gridLayout(3, 6));
      const first = (await orderBest(showing.id, { count: 2 })).body;
      const second = (await orderBest(showing.id, { count: 2 })).body;
      const seatsOf = (order: typeof first) => order.seats.map((seat) => seat.seatId);
      expect(seatsOf(first)).to.have.length(2);
      expect(seatsOf(second)).to.have.length(2);
      expect(seatsOf(first)).to.not.include.members(seatsOf(second));
    });

    it('when no N seats sit together at the order’s turn, should reject it NO_SEATS_TOGETHER rather than split it', async () => {
      const { showing } = await showingWithLayout(gridLayout(2, 3, { aisleAfter: 2 }));
      const response = await orderBest(showing.id, { count: 3 });
      expect(response.body).to.deep.include({ status: 'rejected', reason: 'NO_SEATS_TOGETHER', seats: [] });
      expect(await ticketsOfShowing(showing.id)).to.deep.equal([]);
    });

    it('when a showing has fewer free seats than a "best N" order asks, should refuse it at once NOT_ENOUGH_SEATS and store nothing', async () => {
      const { showing } = await showingWithLayout(gridLayout(1, 3));
      await seatMap(showing.id); // the map this process holds shows 3 free
      const response = await orderBest(showing.id, { count: 4 });
      expect(response.status).to.equal(409);
      expect(response.body.error).to.deep.include({ code: 'NOT_ENOUGH_SEATS', details: { freeSeats: 3 } });
      expect(await countRows('orders', { showing_id: showing.id })).to.equal(0);
    });

    it('when an order gives both seat ids and best, or neither, should answer 400', async () => {
      const { showing, seat } = await showingWithLayout(gridLayout(1, 4));
      const customer = { email: 'both@example.com' };
      for (const body of [
        { showingId: showing.id, seatIds: [seat('A1').id], best: { count: 1 }, customer },
        { showingId: showing.id, customer },
        { showingId: showing.id, best: { count: 11 }, customer },
        { showingId: showing.id, best: { count: 2, category: 'wheelchair' }, customer },
      ]) {
        const response = await submit<ErrorBody>(body);
        expect(response.status, JSON.stringify(body)).to.equal(400);
        expect(response.body.error.code).to.equal('VALIDATION_FAILED');
      }
    });

    it('when fifty buyers order the best 3 of one showing at once, should give each 3 seats together in one row and never a seat twice', async function () {
      this.timeout(30_000);
      const { showing, rows } = await showingWithLayout(gridLayout(12, 20));
      const rowOf = new Map([...rows.values()].flat().map((seat) => [seat.id, seat]));
      const orders = await Promise.all(
        Array.from({ length: 50 }, (_, index) => orderBest(showing.id, { count: 3 }, `group${index}@example.com`)),
      );
      const seatIds: number[] = [];
      for (const { status, body } of orders) {
        expect(status, JSON.stringify(body)).to.equal(200);
        expect(body.status).to.be.oneOf(SEATS_GIVEN);
        const seats = body.seats.map((seat) => rowOf.get(seat.seatId)!);
        expect(new Set(seats.map((seat) => seat.row)).size).to.equal(1);
        const sorted = numbers(seats).sort((a, b) => a - b);
        expect(sorted[2]! - sorted[0]!).to.equal(2);
        seatIds.push(...seats.map((seat) => seat.id));
      }
      expect(new Set(seatIds).size).to.equal(150);
      expect((await ticketsOfShowing(showing.id)).length).to.equal(150);
    });
  });

  describe('orphan seats', () => {
    it('when a hall refuses orphans and named seats would leave one seat alone, should reject the order ORPHAN_SEAT naming that seat', async () => {
      const { showing, seat } = await showingWithLayout(gridLayout(1, 6), { seating: { refuseOrphans: true } });
      const stranding = await orderSeats(showing.id, [seat('A2').id, seat('A3').id]);
      expect(stranding.body).to.deep.include({
        status: 'rejected',
        reason: 'ORPHAN_SEAT',
        rejectedSeatIds: [seat('A1').id],
      });
      const fine = await orderSeats(showing.id, [seat('A1').id, seat('A2').id]);
      expect(fine.body.status).to.be.oneOf(SEATS_GIVEN);
    });

    it('when a hall allows orphans, should accept the same order', async () => {
      const { showing, seat } = await showingWithLayout(gridLayout(1, 6));
      const response = await orderSeats(showing.id, [seat('A2').id, seat('A3').id]);
      expect(response.body.status).to.be.oneOf(SEATS_GIVEN);
    });
  });
});
