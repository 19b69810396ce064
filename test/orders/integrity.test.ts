import { expect } from 'chai';
import type { Knex } from 'knex';
import { allocateSeats } from '../../domain/allocation/allocate-seats.js';
import { testSystem } from '../system.js';
import {
  decided,
  doubleBookedSeats,
  eventually,
  freshShowing,
  partitionOfShowing,
  place,
  someoneWaitsOnLock,
  ticketsOfShowing,
  workerControl,
} from './support.js';
import { databaseRefusal } from '../assertions.js';
import { insertOrderRow, insertTicketRows, releaseTicketRows } from '../direct-writes.js';

type Target = { showing: { id: number; hallId: number; currency?: string } };

/** A ticket written straight into the database, with an order row of its own, as a script that ignores the queue would. */
async function directTicket(db: Knex, { showing }: Target, seatId: number, status: 'held' | 'sold' = 'sold') {
  const orderId = await insertOrderRow(db, { showingId: showing.id, seatIds: [seatId], status: 'confirmed', total: 0 });
  await insertTicketRows(db, [{ orderId, showingId: showing.id, hallId: showing.hallId, seatId, price: 0, status }]);
  return orderId;
}

/** The direct writer keeps its seat: the queued order that wanted it is rejected, the other one sold. */
async function expectDirectWriterKeptItsSeat(
  showingId: number,
  direct: { orderId: string; seatId: number },
  wantsTakenId: string,
  wantsFree: { orderId: string; seatId: number },
  timeoutMs?: number,
) {
  const rows = await decided([wantsTakenId, wantsFree.orderId], timeoutMs);
  expect(rows.map((row) => [row.status, row.failureReason, row.rejectedSeatIds])).to.deep.equal([
    ['rejected', 'SEAT_TAKEN', [direct.seatId]],
    ['confirmed', null, null],
  ]);
  const tickets = await ticketsOfShowing(showingId);
  expect(tickets.map((ticket) => [ticket.orderId, ticket.seatId, ticket.status])).to.deep.equal([
    [direct.orderId, direct.seatId, 'sold'],
    [wantsFree.orderId, wantsFree.seatId, 'sold'],
  ]);
}

describe('orders: one active ticket per seat, whoever writes', () => {
  const workers = workerControl();
  let open: Knex.Transaction | undefined;

  afterEach(async () => {
    await open?.rollback().catch(() => {});
    open = undefined;
    await workers.stop();
  });

  it('when a ticket for a sold seat is inserted directly, bypassing the queue, should be refused by tickets_one_active_per_seat', async () => {
    const { deps } = await testSystem();
    await workers.start();
    const target = await freshShowing();
    const seat = target.seats[0]!;
    const sold = await place(target.showing.id, [seat.id], { wait: 5 });
    expect(sold.status).to.equal('confirmed');

    for (const status of ['held', 'sold'] as const) {
      const error = await databaseRefusal(deps.db.transaction((trx) => directTicket(trx, target, seat.id, status)));
      expect(error.code, status).to.equal('23505');
      expect(error.constraint, status).to.equal('tickets_one_active_per_seat');
    }
    const tickets = await ticketsOfShowing(target.showing.id);
    expect(tickets.map((ticket) => [ticket.orderId, ticket.status])).to.deep.equal([[sold.id, 'sold']]);
  });

  it('when the only ticket of a seat was released, should let a new active ticket be written for it', async () => {
    const { deps } = await testSystem();
    const target = await freshShowing();
    const seat = target.seats[1]!;
    const first = await directTicket(deps.db, target, seat.id, 'held');
    await releaseTicketRows(deps.db, first);
    await directTicket(deps.db, target, seat.id, 'sold');
    const tickets = await ticketsOfShowing(target.showing.id);
    expect(tickets.map((ticket) => ticket.status)).to.deep.equal(['released', 'sold']);
  });

  it('when a direct insert takes a seat while orders for it are queued, should reject those orders with SEAT_TAKEN and allocate the rest', async () => {
    const { deps } = await testSystem();
    const target = await freshShowing();
    const [s1, s2, s3] = target.seats;
    const wantsTaken = await place(target.showing.id, [s2!.id, s1!.id]);
    const wantsFree = await place(target.showing.id, [s3!.id]);
    const script = await directTicket(deps.db, target, s1!.id);

    await workers.start();
    await expectDirectWriterKeptItsSeat(target.showing.id, { orderId: script, seatId: s1!.id }, wantsTaken.id, {
      orderId: wantsFree.id,
      seatId: s3!.id,
    });
  });

  it('when a direct insert takes a seat in the middle of an allocation, should decide the batch again and reject the order that wanted it', async () => {
    const { deps } = await testSystem();
    const target = await freshShowing();
    const [s1, s2] = target.seats;
    const wantsTaken = await place(target.showing.id, [s1!.id]);
    const wantsFree = await place(target.showing.id, [s2!.id]);

    // The seat is taken by a transaction the allocation cannot see yet: it reads the seat as free,
    // then its insert waits on the unique index until this transaction commits.
    open = await deps.db.transaction();
    const script = await directTicket(open, target, s1!.id);
    const allocation = allocateSeats(deps, await partitionOfShowing(target.showing.id));
    allocation.catch(() => {});
    await eventually('the allocation to wait on the seat', () => someoneWaitsOnLock('%INSERT INTO tickets%'));
    await open.commit();
    open = undefined;

    expect(await allocation).to.be.at.least(2);
    await expectDirectWriterKeptItsSeat(
      target.showing.id,
      { orderId: script, seatId: s1!.id },
      wantsTaken.id,
      { orderId: wantsFree.id, seatId: s2!.id },
      1,
    );
    expect(await doubleBookedSeats()).to.deep.equal([]);
  });
});
