import { expect } from 'chai';
import { statisticsRepository } from '../../db/repositories/statistics.js';
import { expectError, uniqueName } from '../catalog/crud-support.js';
import { insertOrderRow, insertTicketRows } from '../direct-writes.js';
import { makeCinema, makeCity, makeHall, makeShowing, smallLayout } from '../factories.js';
import { eventually, getOrder, raceForSeat, random, type PlacedView } from '../orders/support.js';
import { cancel, placePaying, untilOrder, withPaymentWorkers } from '../payments/support.js';
import { api, testSystem } from '../system.js';

const BASE = '/api/v1';

/** A showing two days ahead in a new cinema of this zone and currency, with its seats in drawing order. */
async function showingIn(timezone: string, currency = 'RUB', cityId?: number) {
  const cinema = await makeCinema({ timezone, currency, ...(cityId ? { cityId } : {}) });
  const hall = await makeHall({ cinemaId: cinema.id, layout: smallLayout(8) });
  const showing = await makeShowing({ hallId: hall.id });
  const seats = hall.layout.rows.flatMap((row) => row.seats);
  return { cinema, hall, showing, seatIds: seats.map((seat) => seat.id) };
}

const today = () => new Date().toISOString().slice(0, 10);
const shifted = (day: string, days: number) => new Date(Date.parse(day) + days * 86_400_000).toISOString().slice(0, 10);

async function salesOf(query: string, token?: string) {
  const response = await api('GET', `${BASE}/stats/sales?${query}`, { token });
  expect(response.status, JSON.stringify(response.body)).to.equal(200);
  return response.body;
}

const expectNoMismatch = async () => {
  const { deps } = await testSystem();
  expect(await statisticsRepository.mismatches(deps.db)).to.deep.equal([]);
};

describe('statistics', () => {
  before(async () => {
    await testSystem();
  });

  describe('kept as sales happen, equal to a recount', () => {
    withPaymentWorkers();

    it('when sales, rejections, expiries, failed payments, partial and full cancellations, refunds and a cancelled showing mix, should equal a full recount and the orders themselves', async function () {
      this.timeout(60_000);
      const next = random(17);
      const moscow = await showingIn('Europe/Moscow');
      const york = await showingIn('America/New_York', 'USD');
      const paid: PlacedView[] = [];
      const expected = { sold: 0, revenue: 0, rejected: 0, seatsRejected: 0, failures: 0 };
      for (const venue of [moscow, york]) {
        const seats = [...venue.seatIds];
        for (let index = 0; index < 6; index += 1) {
          const take = seats.splice(0, 1 + Math.floor(next() * 2));
          const token = index === 4 ? 'tok_decline' : 'tok_visa';
          const order = await placePaying(venue.showing.id, take, token);
          const settled = await untilOrder(order, 'settled', (view) =>
            ['confirmed', 'payment_failed'].includes(view.status),
          );
          if (settled.status === 'confirmed') {
            paid.push(order);
            expected.sold += take.length;
            expected.revenue += settled.total!;
          } else expected.failures += 1;
        }
        // Two buyers race for one seat: the loser's order is rejected (lost demand); the winner's hold runs out.
        const { winner, loser } = await raceForSeat(venue.showing.id, seats[0]!);
        expect(loser.reason).to.equal('SEAT_TAKEN');
        expected.rejected += 1;
        expected.seatsRejected += 1;
        const { deps } = await testSystem();
        await deps
          .db('orders')
          .where({ id: winner.id })
          .update({ hold_expires_at: deps.db.raw("now() - interval '1 second'") });
        await eventually('the hold to expire', async () =>
          (await getOrder(winner.id, winner.accessToken)).body.status === 'expired' ? true : undefined,
        );
      }
      // One paid order cancelled in part, one in full; then the New York showing is cancelled.
      const partly = paid.find((order) => order.seats.length === 2)!;
      const partlyView = (await getOrder(partly.id, partly.accessToken)).body;
      expect((await cancel(partly, { ticketIds: [partlyView.seats[0]!.ticketId] })).status).to.equal(200);
      const whole = paid.find((order) => order !== partly && order.showingId === moscow.showing.id)!;
      expect((await cancel(whole)).status).to.equal(200);
      expect((await api('POST', `${BASE}/showings/${york.showing.id}/cancel`)).status).to.equal(200);
      for (const order of paid) {
        await untilOrder(order, 'refunds settled', (view) => view.paymentStatus !== 'refund_pending', 20_000);
      }

      await expectNoMismatch();
      const report = await salesOf(`from=${shifted(today(), -1)}&to=${shifted(today(), 1)}&groupBy=cinema`);
      const mine = report.rows.filter((row: { cinemaId: number }) =>
        [moscow.cinema.id, york.cinema.id].includes(row.cinemaId),
      );
      const sum = (field: string) =>
        mine.reduce((total: number, row: Record<string, number>) => total + row[field]!, 0);
      expect(sum('ticketsSold')).to.equal(expected.sold);
      expect(sum('revenue')).to.equal(expected.revenue);
      expect(sum('orders')).to.equal(paid.length);
      expect(sum('paymentFailures')).to.equal(expected.failures);
      expect(sum('ordersRejected')).to.equal(expected.rejected);
      expect(sum('seatsRejected')).to.equal(expected.seatsRejected);
      const { deps } = await testSystem();
      const cancelledTickets = await deps
        .db('tickets')
        .whereIn('showing_id', [moscow.showing.id, york.showing.id])
        .where({ status: 'cancelled' })
        .whereNotNull('sold_at')
        .select(deps.db.raw('count(*)::int AS count, coalesce(sum(price), 0)::int AS amount'))
        .first();
      expect(sum('ticketsCancelled')).to.equal(cancelledTickets.count);
      expect(sum('cancelledAmount')).to.equal(cancelledTickets.amount);
      const refunds = await deps
        .db('payments')
        .join('orders', 'orders.id', 'payments.order_id')
        .whereIn('orders.showing_id', [moscow.showing.id, york.showing.id])
        .where({ kind: 'refund', 'payments.status': 'succeeded' })
        .select(deps.db.raw('count(*)::int AS count, coalesce(sum(amount), 0)::int AS amount'))
        .first();
      expect(refunds.count).to.be.above(0);
      expect(sum('refunds')).to.equal(refunds.count);
      expect(sum('refundedAmount')).to.equal(refunds.amount);

      const cancelledShowing = (await api('GET', `${BASE}/stats/showings/${york.showing.id}`)).body;
      expect(cancelledShowing.status).to.equal('cancelled');
      expect(cancelledShowing.occupancy).to.include({ sold: 0, held: 0 });
      expect(cancelledShowing.revenue.net).to.equal(0);
    });
  });

  describe('local days, currencies and time zones', () => {
    /** A sold ticket of this showing whose sale is stamped at `soldAt`. */
    async function soldAt(
      place: Awaited<ReturnType<typeof showingIn>>,
      seatIndex: number,
      soldAt: string,
      price = 100,
    ) {
      const { deps } = await testSystem();
      const orderId = await insertOrderRow(deps.db, {
        showingId: place.showing.id,
        seatIds: [place.seatIds[seatIndex]!],
        status: 'confirmed',
        total: price,
        currency: (await deps.db('showings').where({ id: place.showing.id }).first('currency')).currency,
      });
      await insertTicketRows(deps.db, [
        {
          orderId,
          showingId: place.showing.id,
          hallId: place.hall.id,
          seatId: place.seatIds[seatIndex]!,
          price,
          status: 'sold',
        },
      ]);
      await deps.db('tickets').where({ order_id: orderId }).update({ sold_at: soldAt });
      await deps.db('orders').where({ id: orderId }).update({ confirmed_at: soldAt });
    }

    it("when sales happen either side of midnight and of a daylight-saving change, should count each on the cinema's own local day", async () => {
      const york = await showingIn('America/New_York', 'USD');
      // 2026-11-01: New York leaves daylight saving at 02:00 local (06:00 UTC).
      await soldAt(york, 0, '2026-11-01T03:59:00Z'); // 23:59 EDT on 31 October
      await soldAt(york, 1, '2026-11-01T04:01:00Z'); // 00:01 EDT on 1 November
      await soldAt(york, 2, '2026-11-02T04:59:00Z'); // 23:59 EST on 1 November
      await soldAt(york, 3, '2026-11-02T05:01:00Z'); // 00:01 EST on 2 November
      const report = await salesOf(`from=2026-10-31&to=2026-11-02&groupBy=day&cinemaId=${york.cinema.id}`);
      expect(report.rows.map((row: { day: string; ticketsSold: number }) => [row.day, row.ticketsSold])).to.deep.equal([
        ['2026-10-31', 1],
        ['2026-11-01', 2],
        ['2026-11-02', 1],
      ]);
      const weeks = await salesOf(`from=2026-10-31&to=2026-11-02&groupBy=week&cinemaId=${york.cinema.id}`);
      expect(weeks.rows.map((row: { week: string; ticketsSold: number }) => [row.week, row.ticketsSold])).to.deep.equal(
        [
          ['2026-10-26', 3],
          ['2026-11-02', 1],
        ],
      );

      // The cinema moves to another zone: its sales move to that zone's days, and still equal a recount.
      expect(
        (await api('PATCH', `${BASE}/cinemas/${york.cinema.id}`, { body: { timezone: 'Europe/Moscow' } })).status,
      ).to.equal(200);
      const moved = await salesOf(`from=2026-10-31&to=2026-11-02&groupBy=day&cinemaId=${york.cinema.id}`);
      expect(moved.rows.map((row: { day: string; ticketsSold: number }) => [row.day, row.ticketsSold])).to.deep.equal([
        ['2026-11-01', 2],
        ['2026-11-02', 2],
      ]);
      await expectNoMismatch();
    });

    it('when one city has cinemas selling in two currencies, should never add their amounts together', async () => {
      const city = await makeCity();
      const rubles = await showingIn('Europe/Moscow', 'RUB', city.id);
      const dollars = await showingIn('Europe/Moscow', 'USD', city.id);
      await soldAt(rubles, 0, '2026-10-10T10:00:00Z', 45_000);
      await soldAt(dollars, 0, '2026-10-10T10:00:00Z', 1_500);
      await soldAt(dollars, 1, '2026-10-10T11:00:00Z', 1_500);
      const report = await salesOf(`from=2026-10-10&to=2026-10-10&groupBy=city&cityId=${city.id}`);
      expect(
        report.rows.map((row: { currency: string; revenue: number; ticketsSold: number }) => [
          row.currency,
          row.ticketsSold,
          row.revenue,
        ]),
      ).to.deep.equal([
        ['RUB', 1, 45_000],
        ['USD', 2, 3_000],
      ]);
      expect(
        report.totals.map((total: { currency: string; revenue: number }) => [total.currency, total.revenue]),
      ).to.deep.equal([
        ['RUB', 45_000],
        ['USD', 3_000],
      ]);
      // The same day over every cinema, unnarrowed: still one row per currency.
      const everywhere = await salesOf('from=2026-10-10&to=2026-10-10&groupBy=day');
      expect(
        everywhere.rows.map((row: { day: string; currency: string; revenue: number }) => [
          row.day,
          row.currency,
          row.revenue,
        ]),
      ).to.deep.equal([
        ['2026-10-10', 'RUB', 45_000],
        ['2026-10-10', 'USD', 3_000],
      ]);
    });
  });

  describe('occupancy, heatmap and CSV', () => {
    it('when seats of a showing are sold, held and blocked, should count each, and the heatmap should rank the seat sold first', async () => {
      const place = await showingIn('Europe/Moscow');
      const { deps } = await testSystem();
      const startsOn = (await api('GET', `${BASE}/showings/${place.showing.id}`)).body.startsAt.slice(0, 10);
      const onSale = Date.parse(
        (await deps.db('showings').where({ id: place.showing.id }).first('created_at')).created_at,
      );
      const orderId = await insertOrderRow(deps.db, {
        showingId: place.showing.id,
        seatIds: place.seatIds.slice(0, 3),
        status: 'confirmed',
        total: 300,
      });
      await insertTicketRows(
        deps.db,
        place.seatIds.slice(0, 3).map((seatId) => ({
          orderId,
          showingId: place.showing.id,
          hallId: place.hall.id,
          seatId,
          price: 100,
          status: 'sold' as const,
        })),
      );
      // Seat 2 sold an hour after the sale opened, seats 0 and 1 two hours after.
      for (const [index, hours] of [
        [0, 2],
        [1, 2],
        [2, 1],
      ] as const) {
        await deps
          .db('tickets')
          .where({ order_id: orderId, seat_id: place.seatIds[index]! })
          .update({ sold_at: new Date(onSale + hours * 3_600_000) });
      }
      const heldOrder = await insertOrderRow(deps.db, {
        showingId: place.showing.id,
        seatIds: [place.seatIds[5]!],
        status: 'awaiting_payment',
        total: 100,
      });
      await insertTicketRows(deps.db, [
        {
          orderId: heldOrder,
          showingId: place.showing.id,
          hallId: place.hall.id,
          seatId: place.seatIds[5]!,
          price: 100,
          status: 'held',
        },
      ]);
      expect(
        (
          await api('POST', `${BASE}/showings/${place.showing.id}/blocks`, {
            body: { seatIds: [place.seatIds[7]], reason: 'broken' },
          })
        ).status,
      ).to.equal(201);

      const figures = (await api('GET', `${BASE}/stats/showings/${place.showing.id}`)).body;
      const seatCount = place.seatIds.length;
      expect(figures.occupancy).to.deep.equal({
        seatCount,
        sold: 3,
        held: 1,
        blocked: 1,
        free: seatCount - 5,
        rate: Math.round((3 / seatCount) * 10_000) / 10_000,
      });
      expect(figures.revenue).to.deep.equal({ gross: 300, cancelled: 0, net: 300, refunded: 0 });

      const occupancy = (
        await api(
          'GET',
          `${BASE}/stats/occupancy?from=${startsOn}&to=${startsOn}&groupBy=hall&cinemaId=${place.cinema.id}`,
        )
      ).body;
      expect(occupancy.rows).to.have.length(1);
      expect(occupancy.rows[0]).to.include({
        hallId: place.hall.id,
        showings: 1,
        seats: seatCount,
        sold: 3,
        peakShowingId: place.showing.id,
      });

      const heatmap = (await api('GET', `${BASE}/stats/halls/${place.hall.id}/heatmap?from=${startsOn}&to=${startsOn}`))
        .body;
      expect(heatmap.showings).to.equal(1);
      const bySeat = new Map(heatmap.seats.map((seat: { seatId: number }) => [seat.seatId, seat]));
      expect(bySeat.get(place.seatIds[2])).to.include({ sold: 1, sellRate: 1, averageLeadHours: 1, rank: 1 });
      expect(bySeat.get(place.seatIds[0])).to.include({ sold: 1, averageLeadHours: 2, rank: 2 });
      expect(bySeat.get(place.seatIds[5])).to.include({ sold: 0, rank: null, averageLeadHours: null });
      expect(heatmap.seats).to.have.length(seatCount);

      const csv = await api('GET', `${BASE}/stats/halls/${place.hall.id}/heatmap?from=${startsOn}&to=${startsOn}`, {
        headers: { accept: 'text/csv' },
      });
      expect(csv.headers.get('content-type')).to.match(/^text\/csv/);
      const lines = (csv.body as string).trim().split('\n');
      expect(lines[0]).to.equal('seatId,row,number,x,y,category,sold,sellRate,averageLeadHours,rank');
      expect(lines).to.have.length(seatCount + 1);
      for (const [accept, type] of [
        ['text/csv;q=0', /^application\/json/],
        ['text/csv;q=0.1, application/json', /^application\/json/],
        ['application/json;q=0.5, text/csv', /^text\/csv/],
        ['*/*', /^application\/json/],
      ] as const) {
        const answer = await api('GET', `${BASE}/stats/showings/${place.showing.id}`, { headers: { accept } });
        expect(answer.headers.get('content-type'), accept).to.match(type);
      }
      await expectNoMismatch();
    });

    it('when a seat sells in every showing a little later than one that sells early but once, should rank the first first', async () => {
      const place = await showingIn('Europe/Moscow');
      const second = await makeShowing({
        hallId: place.hall.id,
        startsAt: new Date(Date.now() + 3 * 86_400_000).toISOString(),
      });
      const { deps } = await testSystem();
      const [often, once] = [place.seatIds[0]!, place.seatIds[1]!];
      const sell = async (showingId: number, seatId: number, hoursAfterOpening: number) => {
        const opened = (await deps.db('showings').where({ id: showingId }).first('created_at')).created_at as Date;
        const orderId = await insertOrderRow(deps.db, {
          showingId,
          seatIds: [seatId],
          status: 'confirmed',
          total: 100,
        });
        await insertTicketRows(deps.db, [
          { orderId, showingId, hallId: place.hall.id, seatId, price: 100, status: 'sold' },
        ]);
        await deps
          .db('tickets')
          .where({ order_id: orderId })
          .update({ sold_at: new Date(opened.getTime() + hoursAfterOpening * 3_600_000) });
      };
      await sell(place.showing.id, often, 3);
      await sell(second.id, often, 3);
      await sell(place.showing.id, once, 1);
      const days = [place.showing.startsAt, second.startsAt].map((at) => at.slice(0, 10)).sort();
      const heatmap = (
        await api(
          'GET',
          `${BASE}/stats/halls/${place.hall.id}/heatmap?from=${shifted(days[0]!, -1)}&to=${shifted(days[1]!, 1)}`,
        )
      ).body;
      const bySeat = new Map(heatmap.seats.map((seat: { seatId: number }) => [seat.seatId, seat]));
      expect(bySeat.get(often)).to.include({ sold: 2, sellRate: 1, averageLeadHours: 3, rank: 1 });
      expect(bySeat.get(once)).to.include({ sold: 1, sellRate: 0.5, averageLeadHours: 1, rank: 2 });
    });
  });

  describe('CSV', () => {
    it('when a name starts like a spreadsheet formula, should quote it as text', async () => {
      const venue = await showingIn('Europe/Moscow');
      const name = `=HYPERLINK("http://example.com") ${uniqueName('Cinema')}`;
      expect((await api('PATCH', `${BASE}/cinemas/${venue.cinema.id}`, { body: { name } })).status).to.equal(200);
      const { deps } = await testSystem();
      const orderId = await insertOrderRow(deps.db, {
        showingId: venue.showing.id,
        seatIds: [venue.seatIds[0]!],
        status: 'confirmed',
        total: 100,
      });
      await insertTicketRows(deps.db, [
        {
          orderId,
          showingId: venue.showing.id,
          hallId: venue.hall.id,
          seatId: venue.seatIds[0]!,
          price: 100,
          status: 'sold',
        },
      ]);
      const day = today();
      const csv = await api(
        'GET',
        `${BASE}/stats/sales?from=${shifted(day, -1)}&to=${shifted(day, 1)}&groupBy=cinema&cinemaId=${venue.cinema.id}`,
        { headers: { accept: 'text/csv' } },
      );
      expect(csv.headers.get('content-disposition')).to.match(/^attachment; filename="sales-by-cinema-/);
      const [header, line] = (csv.body as string).trim().split('\n');
      expect(header).to.equal(
        'cinemaId,name,currency,ticketsSold,revenue,orders,ticketsCancelled,cancelledAmount,refunds,refundedAmount,paymentFailures,ordersRejected,seatsRejected,averageOrderSize',
      );
      expect(line).to.include(`"'=HYPERLINK(""http://example.com"")`);
    });
  });

  describe('who may read them', () => {
    it("when an operator asks, should see its own cinemas alone, another's showing or hall as 404; buyers not at all", async () => {
      const operator = await api('POST', `${BASE}/operators`, { body: { name: uniqueName('Operator') } });
      const key = (await api('POST', `${BASE}/operators/${operator.body.id}/keys`, { body: { label: 'stats' } })).body
        .key;
      const theirs = await showingIn('Europe/Moscow');
      const day = today();
      const mine = await api('POST', `${BASE}/cinemas`, {
        token: key,
        body: { cityId: theirs.cinema.cityId, name: uniqueName('Cinema'), timezone: 'Europe/Moscow' },
      });
      expect(mine.status).to.equal(201);
      const seen = await salesOf(`from=${day}&to=${day}&groupBy=cinema`, key);
      expect(seen.rows.every((row: { cinemaId: number }) => row.cinemaId === mine.body.id)).to.equal(true);
      expectError(
        await api('GET', `${BASE}/stats/showings/${theirs.showing.id}`, { token: key }),
        404,
        'SHOWING_NOT_FOUND',
      );
      expectError(
        await api('GET', `${BASE}/stats/halls/${theirs.hall.id}/heatmap?from=${day}&to=${day}`, { token: key }),
        404,
        'HALL_NOT_FOUND',
      );
      expectError(await api('GET', `${BASE}/stats/sales?from=${day}&to=${day}`, { token: null }), 401, 'UNAUTHORIZED');
      expectError(
        await api('GET', `${BASE}/stats/sales?from=${day}&to=${day}`, { token: 'an-order-token' }),
        403,
        'FORBIDDEN',
      );
      expectError(await api('GET', `${BASE}/stats/sales?from=${day}&to=${shifted(day, -1)}`), 400, 'VALIDATION_FAILED');
      expectError(
        await api('GET', `${BASE}/stats/sales?from=${day}&to=${shifted(day, 401)}`),
        400,
        'VALIDATION_FAILED',
      );
    });
  });
});
