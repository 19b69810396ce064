import { expect } from 'chai';
import { makeCinema, makeFilm, makeHall, makeShowing, type Showing } from '../factories.js';
import { insertOrderRow, insertTicketRows } from '../direct-writes.js';
import { call, startInstance } from '../instances.js';
import { ADMIN_TOKEN, api, testSystem } from '../system.js';
import { databaseRefusal } from '../assertions.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Whole minutes, so that instants survive the round trip through the API exactly. */
const futureInstant = (daysAhead: number) => Math.ceil((Date.now() + daysAhead * DAY) / MINUTE) * MINUTE;
const iso = (instant: number) => new Date(instant).toISOString();

describe('showings', () => {
  let gap: number;

  before(async () => {
    gap = (await testSystem()).config.CLEANING_GAP_MINUTES;
  });

  describe('creation', () => {
    it('when a showing is created, should end after the length of its film', async () => {
      const film = await makeFilm({ durationMinutes: 97 });
      const start = futureInstant(3);
      const showing = await makeShowing({ filmId: film.id, startsAt: iso(start) });
      expect(showing.startsAt).to.equal(iso(start));
      expect(showing.endsAt).to.equal(iso(start + 97 * MINUTE));
    });

    it('when the start is given with an offset, should store the same instant', async () => {
      const showing = await makeShowing({ startsAt: '2099-06-01T21:15:00+05:30' });
      expect(showing.startsAt).to.equal('2099-06-01T15:45:00.000Z');
    });

    it("when no prices are given, should take the cinema's default price for each seat category of the hall, and only those", async () => {
      const cinema = await makeCinema({ defaultPrices: { standard: 51_000, wheelchair: 12_000 }, currency: 'EUR' });
      const hall = await makeHall({ cinemaId: cinema.id }); // standard and vip seats only
      const showing = await makeShowing({ hallId: hall.id });
      expect(showing.prices).to.deep.equal({ standard: 51_000, vip: 90_000 });
      expect((showing as Showing & { currency: string }).currency).to.equal('EUR');
    });

    it('when a hall has wheelchair and double seats, should price those categories too', async () => {
      const hall = await makeHall({
        layout: {
          rows: [
            {
              label: 'A',
              seats: [
                { number: 1, category: 'wheelchair' },
                { number: 2, category: 'double' },
              ],
            },
          ],
        },
      });
      const showing = await makeShowing({ hallId: hall.id });
      expect(showing.prices).to.deep.equal({ double: 100_000, wheelchair: 30_000 });
    });

    it('when prices are given, should override the defaults and drop categories the hall does not have', async () => {
      const showing = await makeShowing({ prices: { vip: 123_400, double: 5 } });
      expect(showing.prices).to.deep.equal({ standard: 45_000, vip: 123_400 });
    });

    it("when a category of the hall has no price (the cinema's defaults were replaced without it), should refuse with 400 PRICE_MISSING", async () => {
      const { deps } = await testSystem();
      const cinema = await makeCinema();
      const hall = await makeHall({ cinemaId: cinema.id });
      // PATCH /cinemas replaces defaultPrices whole; set the same state directly to not depend on that.
      await deps
        .db('cinemas')
        .where({ id: cinema.id })
        .update({ default_prices: JSON.stringify({ standard: 100 }) });
      const film = await makeFilm();
      const body = { hallId: hall.id, filmId: film.id, startsAt: iso(futureInstant(2)) };

      const refused = await api('POST', '/api/v1/showings', { body });
      expect(refused.status).to.equal(400);
      expect(refused.body.error.code).to.equal('PRICE_MISSING');
      expect(refused.body.error.details).to.deep.equal({ missing: ['vip'] });
      expect(await deps.db('showings').where({ hall_id: hall.id }).count({ n: '*' })).to.deep.equal([{ n: 0 }]);

      const priced = await api('POST', '/api/v1/showings', { body: { ...body, prices: { vip: 700 } } });
      expect(priced.status).to.equal(201);
      expect(priced.body.prices).to.deep.equal({ standard: 100, vip: 700 });
    });

    it('when the start is in the past, should refuse with 400 SHOWING_IN_PAST', async () => {
      const hall = await makeHall();
      const film = await makeFilm();
      const response = await api('POST', '/api/v1/showings', {
        body: { hallId: hall.id, filmId: film.id, startsAt: iso(Date.now() - MINUTE) },
      });
      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal('SHOWING_IN_PAST');
    });
  });

  describe('overlap with the cleaning gap', () => {
    let hallId: number;
    let otherHallId: number;
    let filmId: number;
    let first: Showing;
    const start = futureInstant(20);
    const end = start + 100 * MINUTE;

    before(async () => {
      const cinema = await makeCinema();
      hallId = (await makeHall({ cinemaId: cinema.id })).id;
      otherHallId = (await makeHall({ cinemaId: cinema.id })).id;
      filmId = (await makeFilm({ durationMinutes: 100 })).id;
      first = await makeShowing({ hallId, filmId, startsAt: iso(start) });
    });

    const create = (hall: number, at: number) =>
      api('POST', '/api/v1/showings', { body: { hallId: hall, filmId, startsAt: iso(at) } });

    it('when the cleaning gap is the default, should be 15 minutes', () => {
      expect(gap).to.equal(15);
    });

    it("when a showing would start 5 minutes after another's end in the same hall, should refuse with 409 SHOWING_OVERLAP naming it", async () => {
      const response = await create(hallId, end + 5 * MINUTE);
      expect(response.status).to.equal(409);
      expect(response.body.error.code).to.equal('SHOWING_OVERLAP');
      expect(response.body.error.details).to.deep.equal({ overlappingShowingIds: [first.id] });
    });

    it('when more overlapping creates arrive at once than the process has connections, should answer each 409 at once, not starve the pool', async () => {
      // An instance with a pool of 2: explaining an overlap must not wait for a second connection
      // while the refused write's transaction still holds the first.
      const instance = await startInstance({});
      try {
        const answers = await Promise.all(
          Array.from({ length: 6 }, () =>
            call(instance.baseUrl, 'POST', '/api/v1/showings', {
              headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
              body: { hallId, filmId, startsAt: iso(start + 10 * MINUTE) },
            }),
          ),
        );
        expect(answers.map((answer) => answer.body.error?.code)).to.deep.equal(Array(6).fill('SHOWING_OVERLAP'));
      } finally {
        instance.server.close();
        await instance.wiring.close();
      }
    });

    it('when a showing would start one minute before the cleaning gap is over, should refuse it', async () => {
      const response = await create(hallId, end + (gap - 1) * MINUTE);
      expect(response.status).to.equal(409);
      expect(response.body.error.details.overlappingShowingIds).to.deep.equal([first.id]);
    });

    it("when a showing's own cleaning gap would reach into the next showing, should refuse it", async () => {
      // Ends 10 minutes before the first starts, so its gap runs 5 minutes into it.
      const response = await create(hallId, start - 110 * MINUTE);
      expect(response.status).to.equal(409);
      expect(response.body.error.details.overlappingShowingIds).to.deep.equal([first.id]);
    });

    it('when the same slot is in another hall, should accept it', async () => {
      const response = await create(otherHallId, end + 5 * MINUTE);
      expect(response.status).to.equal(201);
      expect(response.body.hallId).to.equal(otherHallId);
    });

    it('when a showing starts exactly when the previous end plus the cleaning gap is over, should accept it', async () => {
      const response = await create(hallId, end + gap * MINUTE);
      expect(response.status, JSON.stringify(response.body)).to.equal(201);
      const earlier = await create(hallId, start - (100 + gap) * MINUTE);
      expect(earlier.status, JSON.stringify(earlier.body)).to.equal(201);
    });

    it('when a long showing would cover two others, should name both', async () => {
      const cinema = await makeCinema();
      const hall = (await makeHall({ cinemaId: cinema.id })).id;
      const short = (await makeFilm({ durationMinutes: 30 })).id;
      const long = (await makeFilm({ durationMinutes: 300 })).id;
      const at = futureInstant(21);
      const a = await makeShowing({ hallId: hall, filmId: short, startsAt: iso(at) });
      const b = await makeShowing({ hallId: hall, filmId: short, startsAt: iso(at + 60 * MINUTE) });
      const response = await api('POST', '/api/v1/showings', {
        body: { hallId: hall, filmId: long, startsAt: iso(at - 30 * MINUTE) },
      });
      expect(response.status).to.equal(409);
      expect(response.body.error.details.overlappingShowingIds).to.deep.equal([a.id, b.id]);
    });

    it('when an overlapping showing is inserted directly into the database, should be refused by the showings_no_overlap constraint', async () => {
      const { deps } = await testSystem();
      const startsAt = new Date(end + 5 * MINUTE);
      const error = await databaseRefusal(
        deps.db.raw(
          `INSERT INTO showings (hall_id, film_id, starts_at, ends_at, blocked_until, prices, currency)
           VALUES (?, ?, ?, ?, ?, '{"standard": 1, "vip": 1}', 'RUB')`,
          [
            hallId,
            filmId,
            startsAt,
            new Date(startsAt.getTime() + 10 * MINUTE),
            new Date(startsAt.getTime() + 10 * MINUTE),
          ],
        ),
      );
      expect(error.code).to.equal('23P01');
      expect(error.constraint).to.equal('showings_no_overlap');
    });

    it('when a showing is cancelled, should not block its slot', async () => {
      const { deps } = await testSystem();
      const cinema = await makeCinema();
      const hall = (await makeHall({ cinemaId: cinema.id })).id;
      const at = futureInstant(22);
      const cancelled = await makeShowing({ hallId: hall, filmId, startsAt: iso(at) });
      expect((await create(hall, at)).status).to.equal(409);

      await deps.db('showings').where({ id: cancelled.id }).update({ cancelled_at: deps.db.fn.now() });
      const replacement = await create(hall, at);
      expect(replacement.status, JSON.stringify(replacement.body)).to.equal(201);
      const read = await api('GET', `/api/v1/showings/${cancelled.id}`, { token: null });
      expect(read.body.status).to.equal('cancelled');
      expect(read.body.cancelledAt).to.be.a('string');
      expect(replacement.body.status).to.equal('scheduled');
    });
  });

  describe('changes', () => {
    let hallId: number;
    let filmId: number;
    let moving: Showing;
    let other: Showing;
    const start = futureInstant(30);

    before(async () => {
      hallId = (await makeHall()).id;
      filmId = (await makeFilm({ durationMinutes: 60 })).id;
      moving = await makeShowing({ hallId, filmId, startsAt: iso(start) });
      other = await makeShowing({ hallId, filmId, startsAt: iso(start + 4 * 60 * MINUTE) });
    });

    const patch = (id: number, body: object) => api('PATCH', `/api/v1/showings/${id}`, { body });

    it('when startsAt is patched, should move the showing and recompute its end', async () => {
      const to = start + 30 * MINUTE; // overlaps only its own old slot
      const response = await patch(moving.id, { startsAt: iso(to) });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body.startsAt).to.equal(iso(to));
      expect(response.body.endsAt).to.equal(iso(to + 60 * MINUTE));
      const read = await api('GET', `/api/v1/showings/${moving.id}`, { token: null });
      expect(read.body.startsAt).to.equal(iso(to));
    });

    it("when startsAt is patched into another showing's slot plus gap, should refuse with 409 SHOWING_OVERLAP and leave it where it was", async () => {
      const previous = (await api('GET', `/api/v1/showings/${moving.id}`, { token: null })).body;
      const to = Date.parse(other.startsAt) - 70 * MINUTE; // ends 10 minutes before the other starts
      const response = await patch(moving.id, { startsAt: iso(to) });
      expect(response.status).to.equal(409);
      expect(response.body.error.code).to.equal('SHOWING_OVERLAP');
      expect(response.body.error.details).to.deep.equal({ overlappingShowingIds: [other.id] });
      const now = (await api('GET', `/api/v1/showings/${moving.id}`, { token: null })).body;
      expect(now.startsAt).to.equal(previous.startsAt);
      expect(now.endsAt).to.equal(previous.endsAt);
    });

    it('when the film is patched to a longer one, should recompute the end and re-check the overlap', async () => {
      const longFilm = await makeFilm({ durationMinutes: 240 });
      const response = await patch(moving.id, { filmId: longFilm.id });
      expect(response.status).to.equal(409);
      expect(response.body.error.details.overlappingShowingIds).to.deep.equal([other.id]);
      const fitting = await makeFilm({ durationMinutes: 90 });
      const ok = await patch(moving.id, { filmId: fitting.id });
      expect(ok.status).to.equal(200);
      expect(Date.parse(ok.body.endsAt) - Date.parse(ok.body.startsAt)).to.equal(90 * MINUTE);
    });

    it('when startsAt is patched into the past, should refuse with 400 SHOWING_IN_PAST', async () => {
      const response = await patch(moving.id, { startsAt: iso(Date.now() - DAY) });
      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal('SHOWING_IN_PAST');
    });

    it('when prices are patched, should merge them over the current ones and ignore categories the hall lacks', async () => {
      const response = await patch(other.id, { prices: { vip: 77_700, double: 1 } });
      expect(response.status).to.equal(200);
      expect(response.body.prices).to.deep.equal({ standard: 45_000, vip: 77_700 });
      expect(response.body.startsAt).to.equal(other.startsAt);
    });

    it('when a held ticket exists, should refuse to move the showing but still allow a price change', async () => {
      const { deps } = await testSystem();
      const seat: { id: number } = await deps.db('seats').where({ hall_id: hallId }).first('id');
      const orderId = await insertOrderRow(deps.db, {
        showingId: other.id,
        seatIds: [seat.id],
        status: 'awaiting_payment',
      });
      await insertTicketRows(deps.db, [
        { orderId, showingId: other.id, hallId, seatId: seat.id, price: 1, status: 'held' },
      ]);

      const moved = await patch(other.id, { startsAt: iso(Date.parse(other.startsAt) + 5 * 60 * MINUTE) });
      expect(moved.status).to.equal(409);
      expect(moved.body.error.code).to.equal('SHOWING_HAS_TICKETS');
      const repriced = await patch(other.id, { prices: { standard: 50_000 } });
      expect(repriced.status).to.equal(200);
      expect(repriced.body.prices).to.deep.equal({ standard: 50_000, vip: 77_700 });
      expect(repriced.body.freeSeats).to.equal(11);
    });
  });
});
