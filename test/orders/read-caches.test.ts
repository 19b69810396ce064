import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { SeatDelta } from '../../domain/model/tickets.js';
import { insertOrderRow, insertTicketRows } from '../direct-writes.js';
import { cancel, placePaying, untilOrder, withPaymentWorkers } from '../payments/support.js';
import { api, testSystem } from '../system.js';
import { freshShowing, orderBody, place, submit, workerControl, type PlacedView } from './support.js';

type SeatMapBody = {
  version: number;
  freeSeats: number;
  rows: { seats: { id: number; status: string; price: number | null }[] }[];
};

const readSeatMap = (showingId: number, headers: Record<string, string> = {}) =>
  api<SeatMapBody>('GET', `/api/v1/showings/${showingId}/seats`, { token: null, headers });

const statusesOf = (map: SeatMapBody) =>
  Object.fromEntries(map.rows.flatMap((row) => row.seats.map((seat) => [seat.id, seat.status])));

/** The seat map as the database holds it now, in one snapshot: version, statuses, prices. */
async function databaseSeatMap(showingId: number) {
  const { deps } = await testSystem();
  return deps.db.transaction(
    async (trx) => {
      const showing = await trx('showings').first('seat_version as version', 'prices').where('id', showingId);
      const seats: { id: number; category: string; status: string | null }[] = await trx({ s: 'seats' })
        .join({ sh: 'showings' }, 'sh.hall_id', 's.hall_id')
        .leftJoin({ t: 'tickets' }, (join) =>
          join.on('t.showing_id', 'sh.id').andOn('t.seat_id', 's.id').andOnIn('t.status', ['held', 'sold']),
        )
        .where('sh.id', showingId)
        .select('s.id', 's.category', 't.status');
      return {
        version: Number(showing.version),
        statuses: Object.fromEntries(seats.map((seat) => [seat.id, seat.status ?? 'free'])),
        prices: Object.fromEntries(seats.map((seat) => [seat.id, showing.prices[seat.category] ?? null])),
      };
    },
    { isolationLevel: 'repeatable read' },
  );
}

/** The answer must be exactly the database's map now: no change is in flight when this is called. */
async function expectCurrent(showingId: number, what: string) {
  const read = await readSeatMap(showingId);
  expect(read.status, what).to.equal(200);
  const truth = await databaseSeatMap(showingId);
  expect(read.body.version, `${what}: version`).to.equal(truth.version);
  expect(statusesOf(read.body), `${what}: seats`).to.deep.equal(truth.statuses);
  const prices = Object.fromEntries(read.body.rows.flatMap((row) => row.seats.map((seat) => [seat.id, seat.price])));
  expect(prices, `${what}: prices`).to.deep.equal(truth.prices);
  expect(read.body.freeSeats, `${what}: free seats`).to.equal(
    Object.values(truth.statuses).filter((status) => status === 'free').length,
  );
  return read.headers.get('etag')!;
}

describe('read caches: seat maps and schedules exactly as the database holds them', () => {
  describe('after each kind of change', () => {
    withPaymentWorkers();

    it('when seats are held, sold, expired, cancelled, written by a script, or the prices or the sale change, should answer the next read exactly, with a new ETag, and 304 only while nothing changed', async () => {
      const { deps } = await testSystem();
      const { showing, seats, hall } = await freshShowing();
      const [s1, s2, s3, s4] = seats;
      let sold: PlacedView | undefined;
      const changes: [string, () => Promise<unknown>][] = [
        ['a hold', () => place(showing.id, [s1!.id], { wait: 5 })],
        [
          'a sale',
          async () => {
            sold = await placePaying(showing.id, [s2!.id], 'tok_ok');
            await untilOrder(sold, 'confirmed', (view) => view.status === 'confirmed');
          },
        ],
        [
          'an expiry',
          async () => {
            const held = await place(showing.id, [s3!.id], { wait: 5 });
            await deps
              .db('orders')
              .where('id', held.id)
              .update({ hold_expires_at: deps.db.raw("now() - interval '1 second'") });
            await untilOrder(held, 'expired', (view) => view.status === 'expired');
          },
        ],
        ['a cancellation by the buyer', () => cancel(sold!).then((answer) => expect(answer.status).to.equal(200))],
        [
          'a price change',
          () =>
            api('PATCH', `/api/v1/showings/${showing.id}`, { body: { prices: { standard: 12_345 } } }).then((answer) =>
              expect(answer.status).to.equal(200),
            ),
        ],
        [
          'a script writing a ticket',
          async () => {
            const orderId = await insertOrderRow(deps.db, {
              showingId: showing.id,
              seatIds: [s4!.id],
              status: 'confirmed',
            });
            await insertTicketRows(deps.db, [
              { orderId, showingId: showing.id, hallId: hall.id, seatId: s4!.id, price: 1, status: 'sold' },
            ]);
          },
        ],
        [
          'the showing cancelled',
          () =>
            api('POST', `/api/v1/showings/${showing.id}/cancel`).then((answer) => expect(answer.status).to.equal(200)),
        ],
      ];
      let etag = await expectCurrent(showing.id, 'at first');
      for (const [what, change] of changes) {
        expect((await readSeatMap(showing.id, { 'if-none-match': etag })).status, `before ${what}`).to.equal(304);
        await change();
        const next = await expectCurrent(showing.id, `after ${what}`);
        expect(next, `after ${what}: ETag`).to.not.equal(etag);
        const conditional = await readSeatMap(showing.id, { 'if-none-match': etag });
        expect(conditional.status, `after ${what}: the old ETag`).to.equal(200);
        expect(
          (await readSeatMap(showing.id, { 'if-none-match': next })).status,
          `after ${what}: the new ETag`,
        ).to.equal(304);
        etag = next;
      }
    });
  });

  describe('while seats change', () => {
    const workers = workerControl();
    before(() => workers.start());
    after(() => workers.stop());

    it('when a seat map is read during a stream of sales and cancellations, should answer each read with exactly the map of its version, never older than what was committed before the request', async () => {
      const { deps } = await testSystem();
      const { showing, seats } = await freshShowing(8);
      const initial = await databaseSeatMap(showing.id);
      // Every version's seats, as the transactions published them after their commits.
      const deltas = new Map<number, SeatDelta>();
      const stop = await deps.events.listen(({ seats: changed }) => {
        for (const delta of changed) if (delta.showingId === showing.id) deltas.set(delta.version, delta);
      });
      const stateAt = (version: number) => {
        const statuses = { ...initial.statuses };
        for (let step = initial.version + 1; step <= version; step += 1) {
          for (const seat of deltas.get(step)!.seats) statuses[seat.id] = seat.status;
        }
        return statuses;
      };
      const heardUpTo = async (version: number) => {
        for (let waited = 0; waited < 5_000; waited += 10) {
          if (
            [...Array(Math.max(0, version - initial.version)).keys()].every((step) =>
              deltas.has(initial.version + 1 + step),
            )
          )
            return;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        expect.fail(`the deltas up to version ${version} were not heard`);
      };

      let writing = true;
      const writers = (async () => {
        try {
          for (let wave = 0; wave < 12; wave += 1) {
            const answers = await Promise.all(
              Array.from({ length: 4 }, () =>
                submit(orderBody(showing.id, [seats[Math.floor(Math.random() * seats.length)]!.id]), { wait: 5 }),
              ),
            );
            // Seats taken when an order arrives are refused at once (409 SEAT_TAKEN); the rest are decided.
            for (const answer of answers)
              expect([200, 202, 409], JSON.stringify(answer.body)).to.include(answer.status);
            const confirmed = answers.map((answer) => answer.body).filter((order) => order.status === 'confirmed');
            if (confirmed.length > 0 && wave % 3 === 2) {
              const answer = await api('POST', `/api/v1/orders/${confirmed[0]!.id}/cancel`, {
                token: confirmed[0]!.accessToken,
              });
              expect(answer.status).to.equal(200);
            }
          }
        } finally {
          writing = false;
        }
      })();

      let checked = 0;
      try {
        while (writing || checked < 20) {
          const before = Number((await deps.db('showings').first('seat_version').where('id', showing.id)).seat_version);
          const read = await readSeatMap(showing.id);
          expect(read.status).to.equal(200);
          expect(read.body.version, 'never older than what was committed before the request').to.be.at.least(before);
          await heardUpTo(read.body.version);
          expect(statusesOf(read.body), `the map of version ${read.body.version}`).to.deep.equal(
            stateAt(read.body.version),
          );
          checked += 1;
        }
        await writers;
      } finally {
        stop();
      }
      expect(deltas.size, 'the seats changed meanwhile').to.be.above(5);
      const last = await readSeatMap(showing.id);
      expect(statusesOf(last.body)).to.deep.equal((await databaseSeatMap(showing.id)).statuses);
    });

    it('when seats change or the catalog changes, should answer the schedule with the free seats the database counts, a new ETag, and 304 only while nothing changed', async () => {
      const { deps } = await testSystem();
      const { showing, seats, hall } = await freshShowing();
      const place_ = await api('GET', `/api/v1/showings/${showing.id}`, { token: null });
      const zone: string = place_.body.timezone;
      const date = new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(new Date(showing.startsAt));
      const path = `/api/v1/schedule?cityId=${place_.body.cityId}&date=${date}`;
      type ScheduleBody = {
        cinemas: { films: { showings: { showingId: number; freeSeats: number; hallName: string }[] }[] }[];
      };
      const entryOf = (body: ScheduleBody) =>
        body.cinemas
          .flatMap((cinema) => cinema.films.flatMap((film) => film.showings))
          .find((entry) => entry.showingId === showing.id);
      const takenInDatabase = async () =>
        Number(
          (await deps
            .db('tickets')
            .where('showing_id', showing.id)
            .whereIn('status', ['held', 'sold'])
            .count({ n: '*' })
            .first())!.n,
        );
      const read = (headers: Record<string, string> = {}) => api<ScheduleBody>('GET', path, { token: null, headers });

      const first = await read();
      expect(entryOf(first.body)!.freeSeats).to.equal(hall.seatCount - (await takenInDatabase()));
      let etag = first.headers.get('etag')!;
      const changes: [string, () => Promise<unknown>][] = [
        ['a sale', () => place(showing.id, [seats[0]!.id], { wait: 5 })],
        ['another sale', () => place(showing.id, [seats[1]!.id, seats[2]!.id], { wait: 5 })],
        [
          'a hall renamed',
          () => api('PATCH', `/api/v1/halls/${hall.id}`, { body: { name: `Renamed ${randomUUID().slice(0, 8)}` } }),
        ],
      ];
      for (const [what, change] of changes) {
        expect((await read({ 'if-none-match': etag })).status, `before ${what}`).to.equal(304);
        await change();
        const next = await read();
        const entry = entryOf(next.body)!;
        expect(entry.freeSeats, `after ${what}`).to.equal(hall.seatCount - (await takenInDatabase()));
        const hallName = (await deps.db('halls').first('name').where('id', hall.id)).name;
        expect(entry.hallName, `after ${what}`).to.equal(hallName);
        expect(next.headers.get('etag'), `after ${what}: ETag`).to.not.equal(etag);
        expect((await read({ 'if-none-match': etag })).status, `after ${what}: the old ETag`).to.equal(200);
        etag = next.headers.get('etag')!;
      }
      expect((await api('POST', `/api/v1/showings/${showing.id}/cancel`)).status).to.equal(200);
      expect(entryOf((await read()).body), 'a cancelled showing leaves the schedule').to.equal(undefined);
    });
  });
});
