import { expect } from 'chai';
import type { Decision, QueuedOrder, SeatInfo } from '../model/orders.js';
import type { NewTicket } from '../model/tickets.js';
import { decideOrders, showingsNeedingPlans, type AllocationRules, type SeatPlans } from './decide-orders.js';
import { DEFAULT_SEATING_RULES, type PlanSeat } from '../model/seating.js';

const NOW = new Date('2026-11-25T12:00:00.000Z');
const HOLD_TTL_MS = 600_000;
const HALL = 7;
const OTHER_HALL = 8;
const SHOWING = 100;
const PRICES = { standard: 500, vip: 900 };

/** The hall's seats: 1-4 standard, 5-6 vip, 7 wheelchair (a category the fixtures' showings do not price). */
const HALL_SEATS: SeatInfo[] = [
  ...[1, 2, 3, 4].map((id) => ({ id, hallId: HALL, category: 'standard', row: 'A', number: id })),
  ...[5, 6].map((id) => ({ id, hallId: HALL, category: 'vip', row: 'B', number: id - 4 })),
  { id: 7, hallId: HALL, category: 'wheelchair', row: 'C', number: 1 },
];
/** A seat of another hall. */
const FOREIGN_SEAT: SeatInfo = { id: 50, hallId: OTHER_HALL, category: 'standard', row: 'A', number: 1 };

const rules = (overrides: Partial<AllocationRules> = {}): AllocationRules => ({
  now: NOW,
  holdTtlMs: HOLD_TTL_MS,
  confirmWithoutPayment: false,
  maxHeldSeatsPerCustomer: 0,
  maxHeldSeatsPerAddress: 0,
  ...overrides,
});

let sequence = 0;

/**
 * A queued order for `seatIds` as the allocation's locked read gives it: `seats` holds the requested
 * seats that exist (in HALL_SEATS or the foreign seat), with the ones in `taken` marked as taken.
 */
function queued(
  seatIds: number[],
  { taken = [], ...overrides }: Partial<QueuedOrder> & { taken?: number[] } = {},
): QueuedOrder {
  sequence += 1;
  const known = [...HALL_SEATS, FOREIGN_SEAT];
  return {
    id: `order-${sequence}`,
    seq: sequence,
    showingId: SHOWING,
    seatIds,
    best: null,
    currency: 'RUB',
    createdAt: new Date(NOW.getTime() - 1_000),
    hallId: HALL,
    seating: DEFAULT_SEATING_RULES,
    startsAt: new Date(NOW.getTime() + 3_600_000),
    showingCancelledAt: null,
    prices: PRICES,
    paysByCard: false,
    requestId: null,
    customer: 'buyer@example.com',
    heldByCustomer: 0,
    client: null,
    heldByClient: 0,
    seats: known
      .filter((seat) => seatIds.includes(seat.id))
      .map((seat) => ({ ...seat, taken: taken.includes(seat.id), blocked: false })),
    ...overrides,
  };
}

/** The decision for an order that got its seats and waits for its payment. */
const held = (order: QueuedOrder, total: number, paymentStatus: Decision['paymentStatus'] = null): Decision => ({
  id: order.id,
  status: 'awaiting_payment',
  total,
  holdExpiresAt: new Date(NOW.getTime() + HOLD_TTL_MS),
  rejectedSeatIds: null,
  failureReason: null,
  paymentStatus,
  chosen: null,
});

const rejected = (order: QueuedOrder, failureReason: string, rejectedSeatIds: number[] = []): Decision => ({
  id: order.id,
  status: 'rejected',
  total: null,
  holdExpiresAt: null,
  rejectedSeatIds,
  failureReason,
  paymentStatus: null,
  chosen: null,
});

/** The tickets of an order, one per [seat, price], in the order's seat order. */
const ticketsOf = (order: QueuedOrder, seatPrices: [number, number][], status: NewTicket['status'] = 'held') =>
  seatPrices.map(([seatId, price]): NewTicket => ({
    orderId: order.id,
    showingId: order.showingId,
    hallId: order.hallId,
    seatId,
    price,
    status,
  }));

describe('decideOrders', () => {
  it('when the batch is empty, should decide nothing', () => {
    expect(decideOrders([], rules())).to.deep.equal({ decisions: [], tickets: [] });
  });

  it('when every seat is free, should hold them all at their prices until now plus the hold TTL', () => {
    const order = queued([1, 5]);
    expect(decideOrders([order], rules())).to.deep.equal({
      decisions: [held(order, 1_400)],
      tickets: ticketsOf(order, [
        [1, 500],
        [5, 900],
      ]),
    });
  });

  it('when the hold TTL is another one, should set holdExpiresAt to now plus that TTL exactly', () => {
    const order = queued([2]);
    const { decisions } = decideOrders([order], rules({ holdTtlMs: 1_234 }));
    expect(decisions.map((decision) => decision.holdExpiresAt)).to.deep.equal([new Date(NOW.getTime() + 1_234)]);
  });

  it('when an order has one taken seat, should give it none of its seats and leave the others free for later orders', () => {
    const first = queued([3]);
    const wantsTaken = queued([1, 2, 3, 4]);
    const later = queued([1, 2, 4]);
    expect(decideOrders([first, wantsTaken, later], rules())).to.deep.equal({
      decisions: [held(first, 500), rejected(wantsTaken, 'SEAT_TAKEN', [3]), held(later, 1_500)],
      tickets: [
        ...ticketsOf(first, [[3, 500]]),
        ...ticketsOf(later, [
          [1, 500],
          [2, 500],
          [4, 500],
        ]),
      ],
    });
  });

  it('when two orders in one batch want the same seat, should give it to the earlier in the array and reject the later with that seat', () => {
    // The later order in the array has the lower seq and the earlier createdAt: the array order decides.
    const earlier = queued([1, 2], { seq: 9, createdAt: new Date(NOW.getTime() - 10) });
    const later = queued([2, 3], { seq: 8, createdAt: new Date(NOW.getTime() - 20) });
    const third = queued([3]);
    expect(decideOrders([earlier, later, third], rules())).to.deep.equal({
      decisions: [held(earlier, 1_000), rejected(later, 'SEAT_TAKEN', [2]), held(third, 500)],
      tickets: [
        ...ticketsOf(earlier, [
          [1, 500],
          [2, 500],
        ]),
        ...ticketsOf(third, [[3, 500]]),
      ],
    });
    const swapped = decideOrders([later, earlier], rules());
    expect(swapped.decisions).to.deep.equal([held(later, 1_000), rejected(earlier, 'SEAT_TAKEN', [2])]);
  });

  it('when seats were taken before the batch, should reject the order with every taken seat in request order', () => {
    const order = queued([5, 1, 6, 2], { taken: [6, 1] });
    expect(decideOrders([order], rules())).to.deep.equal({
      decisions: [rejected(order, 'SEAT_TAKEN', [1, 6])],
      tickets: [],
    });
  });

  it('when another order of the batch reads a seat as taken, should count it taken for every order of that showing', () => {
    const sawItTaken = queued([4], { taken: [4] });
    const other = queued([3, 4]);
    expect(decideOrders([other, sawItTaken], rules()).decisions).to.deep.equal([
      rejected(other, 'SEAT_TAKEN', [4]),
      rejected(sawItTaken, 'SEAT_TAKEN', [4]),
    ]);
  });

  it('when an order names a seat of another hall or one that does not exist, should reject it SEAT_NOT_IN_HALL with those seats and take none', () => {
    const foreign = queued([1, FOREIGN_SEAT.id, 99, 2]);
    expect(foreign.seats.map((seat) => seat.id)).to.deep.equal([1, 2, FOREIGN_SEAT.id]);
    const later = queued([1, 2]);
    expect(decideOrders([foreign, later], rules())).to.deep.equal({
      decisions: [rejected(foreign, 'SEAT_NOT_IN_HALL', [FOREIGN_SEAT.id, 99]), held(later, 1_000)],
      tickets: ticketsOf(later, [
        [1, 500],
        [2, 500],
      ]),
    });
  });

  it("when a showing is in another hall, should take only that hall's seats and write its hall on the tickets", () => {
    const elsewhere = { showingId: SHOWING + 1, hallId: OTHER_HALL };
    const ownHallSeat = queued([FOREIGN_SEAT.id], elsewhere);
    const firstHallSeat = queued([FOREIGN_SEAT.id, 1], elsewhere);
    const { decisions, tickets } = decideOrders([firstHallSeat, ownHallSeat], rules());
    expect(decisions).to.deep.equal([rejected(firstHallSeat, 'SEAT_NOT_IN_HALL', [1]), held(ownHallSeat, 500)]);
    expect(tickets).to.deep.equal([
      {
        orderId: ownHallSeat.id,
        showingId: SHOWING + 1,
        hallId: OTHER_HALL,
        seatId: FOREIGN_SEAT.id,
        price: 500,
        status: 'held',
      },
    ]);
  });

  it('when a seat is both foreign and another one taken, should answer SEAT_NOT_IN_HALL', () => {
    const order = queued([1, 99], { taken: [1] });
    expect(decideOrders([order], rules()).decisions).to.deep.equal([rejected(order, 'SEAT_NOT_IN_HALL', [99])]);
  });

  it('when the showing was cancelled, should reject its orders SHOWING_NOT_ON_SALE with no seats named', () => {
    const order = queued([1, 99], { taken: [1], showingCancelledAt: new Date(NOW.getTime() - 60_000) });
    expect(decideOrders([order], rules())).to.deep.equal({
      decisions: [rejected(order, 'SHOWING_NOT_ON_SALE')],
      tickets: [],
    });
  });

  it('when the showing starts now or started before, should reject SHOWING_NOT_ON_SALE, and sell it a millisecond before', () => {
    const startsNow = queued([1], { startsAt: NOW });
    const started = queued([2], { startsAt: new Date(NOW.getTime() - 1) });
    const startsNext = queued([3], { startsAt: new Date(NOW.getTime() + 1) });
    expect(decideOrders([startsNow, started, startsNext], rules())).to.deep.equal({
      decisions: [
        rejected(startsNow, 'SHOWING_NOT_ON_SALE'),
        rejected(started, 'SHOWING_NOT_ON_SALE'),
        held(startsNext, 500),
      ],
      tickets: ticketsOf(startsNext, [[3, 500]]),
    });
  });

  it('when a seat category has no price, should reject PRICE_MISSING and leave its other seats free', () => {
    const unpriced = queued([1, 7]);
    const later = queued([1]);
    expect(decideOrders([unpriced, later], rules())).to.deep.equal({
      decisions: [rejected(unpriced, 'PRICE_MISSING'), held(later, 500)],
      tickets: ticketsOf(later, [[1, 500]]),
    });
  });

  it('when the seats are priced 0, should hold them with a total of 0 (a price of 0 is a price)', () => {
    const order = queued([1, 5], { prices: { standard: 0, vip: 0 } });
    expect(decideOrders([order], rules())).to.deep.equal({
      decisions: [held(order, 0)],
      tickets: ticketsOf(order, [
        [1, 0],
        [5, 0],
      ]),
    });
  });

  it("when showings have their own prices, should price each seat with its order's showing", () => {
    const cheap = queued([1, 5], { prices: { standard: 100, vip: 200 } });
    const dear = queued([2, 6], { showingId: SHOWING + 1, prices: { standard: 1_000, vip: 2_500 } });
    expect(decideOrders([cheap, dear], rules())).to.deep.equal({
      decisions: [held(cheap, 300), held(dear, 3_500)],
      tickets: [
        ...ticketsOf(cheap, [
          [1, 100],
          [5, 200],
        ]),
        ...ticketsOf(dear, [
          [2, 1_000],
          [6, 2_500],
        ]),
      ],
    });
  });

  it('when the buyer gave a card, should start the payment (processing); without a card, should leave it null', () => {
    const byCard = queued([1], { paysByCard: true });
    const later = queued([2]);
    expect(decideOrders([byCard, later], rules()).decisions).to.deep.equal([
      held(byCard, 500, 'processing'),
      held(later, 500, null),
    ]);
  });

  it('when an order paying by card is rejected, should start no payment', () => {
    const byCard = queued([1], { paysByCard: true, taken: [1] });
    expect(decideOrders([byCard], rules()).decisions).to.deep.equal([rejected(byCard, 'SEAT_TAKEN', [1])]);
  });

  it('when orders are confirmed without payment, should sell the tickets and confirm with no hold and no payment', () => {
    const byCard = queued([1, 5], { paysByCard: true });
    const noCard = queued([2]);
    const loser = queued([5]);
    expect(decideOrders([byCard, noCard, loser], rules({ confirmWithoutPayment: true }))).to.deep.equal({
      decisions: [
        {
          id: byCard.id,
          status: 'confirmed',
          total: 1_400,
          holdExpiresAt: null,
          rejectedSeatIds: null,
          failureReason: null,
          paymentStatus: null,
          chosen: null,
        },
        {
          id: noCard.id,
          status: 'confirmed',
          total: 500,
          holdExpiresAt: null,
          rejectedSeatIds: null,
          failureReason: null,
          paymentStatus: null,
          chosen: null,
        },
        rejected(loser, 'SEAT_TAKEN', [5]),
      ],
      tickets: [
        ...ticketsOf(
          byCard,
          [
            [1, 500],
            [5, 900],
          ],
          'sold',
        ),
        ...ticketsOf(noCard, [[2, 500]], 'sold'),
      ],
    });
  });

  it('when orders of different showings in one batch want the same seat ids, should not let them conflict', () => {
    const evening = SHOWING + 1;
    const first = queued([1, 2]);
    const sameSeatsLater = queued([1, 2], { showingId: evening });
    // Seat 3 is taken for the first showing only.
    const takenHere = queued([3], { taken: [3] });
    const freeThere = queued([3], { showingId: evening });
    expect(decideOrders([first, sameSeatsLater, takenHere, freeThere], rules())).to.deep.equal({
      decisions: [
        held(first, 1_000),
        held(sameSeatsLater, 1_000),
        rejected(takenHere, 'SEAT_TAKEN', [3]),
        held(freeThere, 500),
      ],
      tickets: [
        ...ticketsOf(first, [
          [1, 500],
          [2, 500],
        ]),
        ...ticketsOf(sameSeatsLater, [
          [1, 500],
          [2, 500],
        ]),
        ...ticketsOf(freeThere, [[3, 500]]),
      ],
    });
  });

  it('when a batch mixes every outcome, should answer one decision per order, in the order given', () => {
    const orders = [
      queued([1]),
      queued([1]),
      queued([99]),
      queued([7]),
      queued([2], { showingCancelledAt: NOW }),
      queued([2]),
    ];
    const { decisions } = decideOrders(orders, rules());
    expect(decisions.map((decision) => [decision.id, decision.status, decision.failureReason])).to.deep.equal([
      [orders[0]!.id, 'awaiting_payment', null],
      [orders[1]!.id, 'rejected', 'SEAT_TAKEN'],
      [orders[2]!.id, 'rejected', 'SEAT_NOT_IN_HALL'],
      [orders[3]!.id, 'rejected', 'PRICE_MISSING'],
      [orders[4]!.id, 'rejected', 'SHOWING_NOT_ON_SALE'],
      [orders[5]!.id, 'awaiting_payment', null],
    ]);
  });
});

describe('decideOrders with the seat plan of the showing', () => {
  /** The hall as a plan: row A (y 0) seats 1-4, row B (y 1) vip seats 5-6, row C (y 2) the wheelchair space 7. */
  const plan = ({ taken = [] as number[] } = {}): SeatPlans => {
    const rowOf = (label: string, y: number) => ({
      label,
      y,
      seats: HALL_SEATS.filter((seat) => seat.row === label).map((seat, index) => ({
        id: seat.id,
        number: seat.number,
        x: index,
        width: 1,
        category: seat.category as PlanSeat['category'],
        free: !taken.includes(seat.id),
      })),
    });
    return new Map([[SHOWING, [rowOf('A', 0), rowOf('B', 1), rowOf('C', 2)]]]);
  };
  const best = (count: number, overrides: Partial<QueuedOrder> = {}) => queued([], { best: { count }, ...overrides });
  const chosenOf = (decision: Decision) => decision.chosen?.map((seat) => seat.id) ?? null;

  it('when "best 2" orders share a batch, should give each the best standard pair still free, and vip seats only to who asks', () => {
    const vip = queued([], { best: { count: 2, category: 'vip' } });
    const { decisions, tickets } = decideOrders([best(2), best(2), vip], rules(), plan());
    // Row A's pairs are both at an end (nobody stranded); the tie goes to the left.
    expect(decisions.map(chosenOf)).to.deep.equal([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(decisions.map((decision) => decision.total)).to.deep.equal([1_000, 1_000, 1_800]);
    expect(tickets.map((ticket) => ticket.seatId)).to.deep.equal([1, 2, 3, 4, 5, 6]);
  });

  it('when an earlier order of the batch takes a seat, should choose around it; a later order for a chosen seat is SEAT_TAKEN', () => {
    const explicit = queued([2]);
    const group = best(2);
    const late = queued([3]);
    const { decisions } = decideOrders([explicit, group, late], rules(), plan());
    expect(decisions.map(chosenOf)).to.deep.equal([null, [3, 4], null]);
    expect(decisions[2]).to.deep.equal(rejected(late, 'SEAT_TAKEN', [3]));
  });

  it('when no group fits at the order’s turn, should reject it NO_SEATS_TOGETHER, or NOT_ENOUGH_SEATS, with no tickets', () => {
    const apart = best(3);
    const tooMany = best(6);
    const { decisions, tickets } = decideOrders([apart, tooMany], rules(), plan({ taken: [2] }));
    expect(decisions).to.deep.equal([rejected(apart, 'NO_SEATS_TOGETHER'), rejected(tooMany, 'NOT_ENOUGH_SEATS')]);
    expect(tickets).to.deep.equal([]);
  });

  it('when a "best N" order comes without its showing’s plan, should fail loudly rather than guess', () => {
    expect(() => decideOrders([best(2)], rules())).to.throw(/plan was not read/);
  });

  it('when a named seat is blocked, should reject the order SEAT_BLOCKED naming it', () => {
    const order = queued([1, 2]);
    order.seats[1]!.blocked = true;
    expect(decideOrders([order], rules()).decisions).to.deep.equal([rejected(order, 'SEAT_BLOCKED', [2])]);
  });

  it('when the hall refuses orphans, should reject named seats that strand one, naming the stranded seats', () => {
    const refusing = { ...DEFAULT_SEATING_RULES, refuseOrphans: true };
    const stranding = queued([2, 3], { seating: refusing });
    const fine = queued([1, 2], { seating: refusing });
    const { decisions } = decideOrders([stranding, fine], rules(), plan());
    expect(decisions).to.deep.equal([rejected(stranding, 'ORPHAN_SEAT', [1, 4]), held(fine, 1_000)]);
  });

  it('when a batch has "best N" orders or halls that refuse orphans, should ask for those showings’ plans only', () => {
    const refusing = { ...DEFAULT_SEATING_RULES, refuseOrphans: true };
    const orders = [
      queued([1]),
      best(2, { showingId: 200 }),
      queued([2], { showingId: 300, seating: refusing }),
      best(1, { showingId: 200 }),
    ];
    expect(showingsNeedingPlans(orders)).to.deep.equal([200, 300]);
  });
});

describe('decideOrders with a cap on held seats per customer', () => {
  it('when a customer would hold more than the cap in a showing, should reject HOLD_LIMIT, counting seats held before and earlier in the batch', () => {
    // Both read in the batch's statement: the customer holds one seat from an earlier order.
    const first = queued([1, 2], { heldByCustomer: 1 });
    const past = queued([3], { heldByCustomer: 1 });
    const other = queued([4], { customer: 'someone-else@example.com' });
    const capped = rules({ maxHeldSeatsPerCustomer: 3 });
    expect(decideOrders([first, past, other], capped).decisions).to.deep.equal([
      held(first, 1_000),
      rejected(past, 'HOLD_LIMIT'),
      held(other, 500),
    ]);
  });

  it('when orders from one client address would hold more than its cap, whatever their emails, should reject ADDRESS_HOLD_LIMIT', () => {
    const address = { client: 'digest-of-198.51.100.7' };
    const first = queued([1, 2], { ...address, heldByClient: 2, customer: 'a@example.com' });
    const past = queued([3], { ...address, heldByClient: 2, customer: 'b@example.com' });
    const elsewhere = queued([4], { client: 'digest-of-203.0.113.9', heldByClient: 4, customer: 'c@example.com' });
    const unknown = queued([5], { customer: 'd@example.com' });
    const capped = rules({ maxHeldSeatsPerAddress: 4, maxHeldSeatsPerCustomer: 10 });
    expect(decideOrders([first, past, elsewhere, unknown], capped).decisions).to.deep.equal([
      held(first, 1_000),
      rejected(past, 'ADDRESS_HOLD_LIMIT'),
      rejected(elsewhere, 'ADDRESS_HOLD_LIMIT'),
      held(unknown, 900),
    ]);
  });

  it('when orders are confirmed without payment, or the cap is 0, should hold no one back', () => {
    const orders = () => [queued([1, 2], { heldByCustomer: 9 }), queued([3])];
    const statuses = (allocation: AllocationRules) =>
      decideOrders(orders(), allocation).decisions.map((decision) => decision.status);
    expect(
      statuses(rules({ maxHeldSeatsPerCustomer: 2, maxHeldSeatsPerAddress: 2, confirmWithoutPayment: true })),
    ).to.deep.equal(['confirmed', 'confirmed']);
    expect(statuses(rules())).to.deep.equal(['awaiting_payment', 'awaiting_payment']);
  });
});
