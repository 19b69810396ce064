import { expect } from 'chai';
import { scopedIdempotencyKey } from '../../domain/orders/place-order.js';
import { randomUUID } from 'node:crypto';
import { insertOrderRow, insertTicketRows, releaseTicketRows } from '../direct-writes.js';
import { api, testSystem } from '../system.js';
import { countRows, freshShowing, orderBody, submit, workerControl, type ErrorBody } from './support.js';

/** Reads the seat map, so this process holds it (as it does for any showing buyers look at). */
const lookAt = (showingId: number) => api('GET', `/api/v1/showings/${showingId}/seats`, { token: null });

/** A confirmed order's ticket for the seat, written by a script that publishes no seat delta. */
async function scriptedTicket(showingId: number, hallId: number, seatId: number, status: 'held' | 'sold') {
  const { deps } = await testSystem();
  const orderId = await insertOrderRow(deps.db, { showingId, seatIds: [seatId], status: 'confirmed' });
  await insertTicketRows(deps.db, [{ orderId, showingId, hallId, seatId, price: 1, status }]);
  return orderId;
}

describe('orders: seats taken when the order arrives are refused at once', () => {
  const workers = workerControl();
  before(() => workers.start());
  after(() => workers.stop());

  it('when a seat is taken, should answer 409 SEAT_TAKEN with the taken seats and store nothing; a retry of the winning order gets it back', async () => {
    const { showing, seats } = await freshShowing();
    const winnerKey = randomUUID();
    const body = orderBody(showing.id, [seats[0]!.id, seats[1]!.id]);
    const winner = await submit(body, { key: winnerKey, wait: 5 });
    expect(winner.body.status).to.equal('confirmed');
    await lookAt(showing.id);

    const key = randomUUID();
    const refused = await submit<ErrorBody>(orderBody(showing.id, [seats[1]!.id, seats[2]!.id]), { key, wait: 5 });
    expect([refused.status, refused.body.error.code, refused.body.error.details]).to.deep.equal([
      409,
      'SEAT_TAKEN',
      { seatIds: [seats[1]!.id] },
    ]);
    const stored = await countRows('orders', { idempotency_key: scopedIdempotencyKey(key, 'buyer@example.com') });
    expect(stored, 'nothing stored').to.equal(0);

    const retried = await submit(body, { key: winnerKey, wait: 5 });
    expect([retried.status, retried.body.id, retried.body.status]).to.deep.equal([200, winner.body.id, 'confirmed']);
  });

  it('when a seat was freed after the map this process holds, should accept the order: the refusal is checked against the current state', async () => {
    const { deps } = await testSystem();
    const { showing, seats, hall } = await freshShowing();
    const scripted = await scriptedTicket(showing.id, hall.id, seats[0]!.id, 'held');
    expect((await lookAt(showing.id)).body.rows[0].seats[0].status, 'the map held shows it taken').to.equal('held');
    // Freed by a writer that publishes no delta: the map held is a version behind, and nothing will tell it.
    await releaseTicketRows(deps.db, scripted);

    const accepted = await submit(orderBody(showing.id, [seats[0]!.id]), { wait: 5 });
    expect([accepted.status, accepted.body.status]).to.deep.equal([200, 'confirmed']);
  });

  it('when a seat was taken after the map this process holds, should queue the order and let the allocation reject it', async () => {
    const { showing, seats, hall } = await freshShowing();
    await lookAt(showing.id);
    await scriptedTicket(showing.id, hall.id, seats[0]!.id, 'sold');

    const decided = await submit(orderBody(showing.id, [seats[0]!.id]), { wait: 5 });
    expect([decided.status, decided.body.status, decided.body.reason]).to.deep.equal([200, 'rejected', 'SEAT_TAKEN']);
  });

  it('when many sales came after the map this process holds, should refuse every seat they took and accept the free ones', async () => {
    const { showing, seats } = await freshShowing(15);
    await lookAt(showing.id);
    // More sales than the held map is read through before it is brought forward.
    const sold = seats.slice(0, 40);
    for (const seat of sold) {
      expect((await submit(orderBody(showing.id, [seat.id]), { wait: 5 })).body.status).to.equal('confirmed');
    }
    for (const seat of [sold[0]!, sold[20]!, sold[39]!]) {
      // A hint that missed would queue the order and answer 200 rejected.
      const refused = await submit<ErrorBody>(orderBody(showing.id, [seat.id]), { wait: 5 });
      expect([refused.status, refused.body.error.code]).to.deep.equal([409, 'SEAT_TAKEN']);
    }
    const accepted = await submit(orderBody(showing.id, [seats[40]!.id]), { wait: 5 });
    expect([accepted.status, accepted.body.status]).to.deep.equal([200, 'confirmed']);
  });
});
