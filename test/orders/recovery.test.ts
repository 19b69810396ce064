import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import type { Knex } from 'knex';
import { allocateSeats } from '../../domain/allocation/allocate-seats.js';
import { allocationQueue, spawnProcess, testSystem } from '../system.js';
import {
  decided,
  doubleBookedSeats,
  eventually,
  freshShowing,
  killChild,
  laterDecisionPublished,
  orderRows,
  partitionOfShowing,
  place,
  raceForSeat,
  someoneWaitsOnLock,
  ticketsOfShowing,
  workerControl,
} from './support.js';

/** Everything about a showing's orders and tickets that a second run of a job could change. */
async function snapshot(showingId: number) {
  const { deps } = await testSystem();
  const orders = await deps.db('orders').where('showing_id', showingId).orderBy('seq');
  const tickets = await deps.db('tickets').where('showing_id', showingId).orderBy('id');
  return { orders, tickets };
}

/** Counts how many published updates name each order, from now until `stop()`. */
async function countUpdates() {
  const { deps } = await testSystem();
  const counts = new Map<string, number>();
  const stop = await deps.events.listen(({ orders }) => {
    // Updates after the intake's publication of the order as queued.
    for (const order of orders) if (order.status !== 'queued') counts.set(order.id, (counts.get(order.id) ?? 0) + 1);
  });
  return { counts, stop };
}

describe('orders: recovery and repeated work', () => {
  const workers = workerControl();

  it('when a queued order written around the intake (no arrival lock) commits after later orders were decided, should still be decided by the requeue sweep', async () => {
    const { deps } = await testSystem();
    await workers.start();
    const { showing, seats } = await freshShowing();
    const direct = await deps.db.transaction();
    let directId: string;
    try {
      [{ id: directId }] = await direct('orders')
        .insert({
          showing_id: showing.id,
          status: 'queued',
          seat_ids: [seats[0]!.id],
          customer_email: 'direct@example.com',
          currency: 'RUB',
        })
        .returning('id');
      // A later order of the same partition is decided: the worker's drain mark moves past the direct one.
      const later = await place(showing.id, [seats[1]!.id], { wait: 5 });
      expect(later.status).to.equal('confirmed');
      await direct.commit();
    } catch (error) {
      await direct.rollback();
      throw error;
    }
    const [row] = await decided([directId], 8_000);
    expect(row!.status).to.equal('confirmed');
  });
  let child: ChildProcess | undefined;
  let lock: Knex.Transaction | undefined;

  afterEach(async () => {
    await lock?.rollback().catch(() => {});
    lock = undefined;
    await killChild(child);
    child = undefined;
    await workers.stop();
  });

  it('when a partition is drained twice, should change nothing the second time', async () => {
    const { deps } = await testSystem();
    const { showing, seats } = await freshShowing();
    const [a, b, c] = seats;
    const first = await place(showing.id, [a!.id, b!.id]);
    const second = await place(showing.id, [b!.id, c!.id]);
    const third = await place(showing.id, [c!.id]);
    const partition = await partitionOfShowing(showing.id);

    expect(await allocateSeats(deps, partition)).to.be.at.least(3);
    const after = await snapshot(showing.id);
    expect(after.orders.map((order) => order.status)).to.deep.equal(['confirmed', 'rejected', 'confirmed']);
    expect(after.tickets).to.have.length(3);

    expect(await allocateSeats(deps, partition), 'nothing left to decide').to.equal(0);
    expect(await snapshot(showing.id)).to.deep.equal(after);
    const rows = await orderRows([first.id, second.id, third.id]);
    for (const row of rows) expect(row.updatedAt.getTime(), 'decided once').to.equal(row.decidedAt!.getTime());
  });

  it('when a decided partition gets extra wake-ups, should change nothing and publish nothing', async () => {
    const { deps } = await testSystem();
    await workers.start();
    const { showing, seats } = await freshShowing();
    const { winner: sold, loser: lost } = await raceForSeat(showing.id, seats[0]!.id);
    expect([sold.status, lost.status]).to.deep.equal(['confirmed', 'rejected']);
    const before = await snapshot(showing.id);

    const updates = await countUpdates();
    try {
      const partition = await partitionOfShowing(showing.id);
      const queue = await allocationQueue(partition);
      let completed = 0;
      for (let wake = 0; wake < 3; wake += 1) {
        await deps.jobs.wakePartition(partition);
        await eventually('the wake-up to be processed', async () => {
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
          return Object.values(counts).every((count) => count === 0);
        });
        completed += 1;
      }
      expect(completed).to.equal(3);
      expect(await snapshot(showing.id)).to.deep.equal(before);
      expect(updates.counts.get(sold.id) ?? 0).to.equal(0);
      expect(updates.counts.get(lost.id) ?? 0).to.equal(0);
    } finally {
      updates.stop();
    }
  });

  it('when a worker process is killed in the middle of its transaction, should decide its orders exactly once after recovery', async function () {
    this.timeout(40_000);
    const { deps } = await testSystem();
    const { showing, seats } = await freshShowing();
    const seat = seats[1]!;
    const first = await place(showing.id, [seat.id, seats[2]!.id]);
    const second = await place(showing.id, [seat.id]);
    expect([first.status, second.status]).to.deep.equal(['queued', 'queued']);

    // Holding the showing's row lock stops the allocation at the tickets' foreign-key check: after it
    // locked and decided the orders, before it wrote anything that could commit.
    lock = await deps.db.transaction();
    await lock('showings').where('id', showing.id).forUpdate().select('id');

    const updates = await countUpdates();
    try {
      child = await spawnProcess('workers', 'allocation workers started');
      await eventually(
        'the worker process to block inside its transaction',
        () => someoneWaitsOnLock('%INSERT INTO tickets%'),
        15_000,
      );
      await killChild(child);
      child = undefined;
      await lock.commit();
      lock = undefined;

      expect(
        (await orderRows([first.id, second.id])).map((row) => row.status),
        'nothing was committed',
      ).to.deep.equal(['queued', 'queued']);
      expect(await ticketsOfShowing(showing.id)).to.deep.equal([]);

      await workers.start();
      const rows = await decided([first.id, second.id], 15_000);
      expect(rows.map((row) => [row.id, row.status, row.rejectedSeatIds])).to.deep.equal([
        [first.id, 'confirmed', null],
        [second.id, 'rejected', [seat.id]],
      ]);
      for (const row of rows) expect(row.updatedAt.getTime(), 'decided once').to.equal(row.decidedAt!.getTime());
      const tickets = await ticketsOfShowing(showing.id);
      expect(tickets.map((ticket) => [ticket.orderId, ticket.seatId, ticket.status])).to.have.deep.members([
        [first.id, seat.id, 'sold'],
        [first.id, seats[2]!.id, 'sold'],
      ]);
      expect(tickets).to.have.length(2);
      // Published after the commit, so possibly a moment after the rows read above. Once a later
      // order of the partition is published, so is everything its earlier drains published.
      await laterDecisionPublished(showing.id, seats[5]!.id);
      expect(updates.counts.get(first.id), 'one decision published').to.equal(1);
      expect(updates.counts.get(second.id), 'one decision published').to.equal(1);
      expect(await doubleBookedSeats()).to.deep.equal([]);
    } finally {
      updates.stop();
    }
  });

  it('when Redis loses every key after orders were accepted, should still decide them all through the requeue sweep', async () => {
    const { config, redis } = await testSystem();
    const { showing, seats } = await freshShowing();
    const placed = [
      await place(showing.id, [seats[0]!.id]),
      await place(showing.id, [seats[0]!.id, seats[1]!.id]),
      await place(showing.id, [seats[1]!.id]),
    ];
    const partition = await partitionOfShowing(showing.id);
    const queue = await allocationQueue(partition);
    expect((await queue.getJobCounts('waiting')).waiting, 'the wake-up is in Redis').to.equal(1);

    // Only this run's keys: other runs share this Redis.
    const keys = await redis.keys(`${config.REDIS_PREFIX}*`);
    expect(keys.length).to.be.greaterThan(0);
    await redis.del(...keys);
    expect(await redis.keys(`${config.REDIS_PREFIX}*`)).to.deep.equal([]);
    expect((await queue.getJobCounts('waiting')).waiting, 'the wake-up is gone').to.equal(0);

    await workers.start();
    const rows = await decided(
      placed.map((order) => order.id),
      10_000,
    );
    expect(rows.map((row) => row.status)).to.deep.equal(['confirmed', 'rejected', 'confirmed']);
    expect(await queue.getGlobalConcurrency(), 'partitions are serial again').to.equal(1);
  });
});
