import { expect } from 'chai';
import { testSystem } from '../system.js';
import {
  attempt,
  decided,
  freshShowing,
  insertUnderWay,
  laterDecisionPublished,
  orderRows,
  overrideConfig,
  partitionOfShowing,
  place,
  workerControl,
  type PlacedView,
} from './support.js';

/**
 * A chain of overlapping requests for seats s1..s3 of one row. First come, first served gives
 * 1 ✔, 2 ✘(s1), 3 ✘(s1), 4 ✔, 5 ✘(s3); last come, first served would give the opposite.
 */
const chain = (s: number[]) => [[s[0]!], [s[0]!], [s[0]!, s[1]!], [s[1]!, s[2]!], [s[2]!]];
const chainOutcome = (s: number[]) => [
  { status: 'confirmed', rejectedSeatIds: null },
  { status: 'rejected', rejectedSeatIds: [s[0]!] },
  { status: 'rejected', rejectedSeatIds: [s[0]!] },
  { status: 'confirmed', rejectedSeatIds: null },
  { status: 'rejected', rejectedSeatIds: [s[2]!] },
];

describe('orders: first come, first served', () => {
  const workers = workerControl();
  let restore: (() => void) | undefined;

  afterEach(async () => {
    await workers.stop();
    restore?.();
    restore = undefined;
  });

  it('when conflicting orders queue up while no worker runs, should decide them in submission order once workers start', async () => {
    const { deps } = await testSystem();
    // One order per transaction, so decided_at tells the order in which decisions were made.
    restore = await overrideConfig({ ALLOCATION_BATCH_SIZE: 1 });
    const { showing, rows } = await freshShowing();
    const s = rows[0]!.map((seat) => seat.id);

    const placed: PlacedView[] = [];
    for (const seatIds of chain(s)) {
      const order = await place(showing.id, seatIds);
      expect(order.status).to.equal('queued');
      placed.push(order);
    }
    const ids = placed.map((order) => order.id);
    const queued = await orderRows(ids);
    expect(
      queued.map((row) => row.id),
      'arrival sequence is submission order',
    ).to.deep.equal(ids);
    expect(queued.every((row) => row.status === 'queued')).to.equal(true);

    const published: string[] = [];
    // Decisions only: the intake also publishes each order as it queues it.
    const unlisten = await deps.events.listen(({ orders }) =>
      published.push(
        ...orders
          .filter((order) => order.status !== 'queued')
          .map((order) => order.id)
          .filter((id) => ids.includes(id)),
      ),
    );
    try {
      await workers.start();
      const rowsBySeq = await decided(ids);
      expect(rowsBySeq.map((row) => ({ status: row.status, rejectedSeatIds: row.rejectedSeatIds }))).to.deep.equal(
        chainOutcome(s),
      );
      const decidedAt = rowsBySeq.map((row) => row.decidedAt!.getTime());
      for (let index = 1; index < decidedAt.length; index += 1) {
        expect(decidedAt[index], `order ${index + 1} decided after order ${index}`).to.be.greaterThan(
          decidedAt[index - 1]!,
        );
      }
      // Published after each commit, so possibly a moment after the rows read above. Once a later
      // order of the partition is published, so is everything its earlier drains published.
      await laterDecisionPublished(showing.id, rows[2]![0]!.id);
      expect(published, 'decisions are published once each, in submission order').to.deep.equal(ids);
    } finally {
      unlisten();
    }
  });

  it('when twenty orders for one seat queue up while no worker runs, should give it to the first and reject the rest', async () => {
    const { showing, seats } = await freshShowing();
    const seat = seats[5]!;
    const placed: PlacedView[] = [];
    for (let index = 0; index < 20; index += 1) placed.push(await place(showing.id, [seat.id]));
    await workers.start();
    const rows = await decided(placed.map((order) => order.id));
    expect(rows.map((row) => row.id)).to.deep.equal(placed.map((order) => order.id));
    expect(rows.map((row) => row.status)).to.deep.equal(['confirmed', ...Array<string>(19).fill('rejected')]);
    const decidedAt = rows.map((row) => row.decidedAt!.getTime());
    expect(decidedAt, 'decided in arrival order').to.deep.equal([...decidedAt].sort((a, b) => a - b));
  });

  it('when conflicting orders arrive one after another while workers run, should decide them first come, first served', async () => {
    await workers.start();
    const { showing, rows } = await freshShowing();
    const s = rows[1]!.map((seat) => seat.id);
    // Each as the buyer learns it: an order for seats already taken when it arrives is refused at once.
    const outcomes = [];
    for (const seatIds of chain(s)) {
      const order = await attempt(showing.id, seatIds, { wait: 5 });
      outcomes.push({
        status: order.status,
        rejectedSeatIds: order.rejectedSeatIds?.length ? order.rejectedSeatIds : null,
      });
    }
    expect(outcomes).to.deep.equal(chainOutcome(s));
  });

  /**
   * seq is taken when a row is inserted, but the row becomes visible when its INSERT commits. An
   * intake batch that took its seqs and commits late (a big batch, one waiting on a duplicate
   * Idempotency-Key held by another instance's insert) must not be overtaken by a later batch that
   * commits first: the allocation's arrival barrier waits for it. The slow batch is played by an
   * open transaction.
   */
  it('when an order numbered earlier commits after a later one, should still be decided first', async () => {
    const { deps } = await testSystem();
    await workers.start();
    const { showing, seats } = await freshShowing();
    const { id: early, transaction: slowBatch } = await insertUnderWay(showing.id, seats[0]!.id);
    try {
      const late = await place(showing.id, [seats[0]!.id], { wait: 2 });
      await slowBatch.commit();
      await deps.jobs.wakePartition(await partitionOfShowing(showing.id));
      const rows = await decided([early, late.id]);
      expect(rows.map((row) => [row.id, row.status])).to.deep.equal([
        [early, 'confirmed'],
        [late.id, 'rejected'],
      ]);
    } finally {
      await slowBatch.rollback().catch(() => {});
    }
  });
});
