import { expect } from 'chai';
import { makeCinema, makeCity, makeFilm, makeHall, makeShowing, type Showing } from '../factories.js';
import { insertOrderRow, insertTicketRows } from '../direct-writes.js';
import { api, testSystem } from '../system.js';

const DAY = 86_400_000;
const utcDate = (instant: number) => new Date(instant).toISOString().slice(0, 10);
const nextDay = (date: string, days = 1) => utcDate(Date.parse(`${date}T00:00:00Z`) + days * DAY);

/** A wall-clock time on a date with an explicit UTC offset, as a client would send it. */
const at = (date: string, time: string, offset: string) => `${date}T${time}:00${offset}`;

/** The last Sunday of a month (1-12) of a year, as YYYY-MM-DD: EU clocks change at 01:00 UTC that day. */
function lastSunday(year: number, month: number): string {
  const last = new Date(Date.UTC(year, month, 0));
  return utcDate(last.getTime() - last.getUTCDay() * DAY);
}

type ScheduleShowing = {
  showingId: number;
  startsAt: string;
  localStartTime: string;
  hallId: number;
  freeSeats: number;
  prices: Record<string, number>;
  currency: string;
};
type ScheduleFilm = { filmId: number; title: string; showings: ScheduleShowing[] };
type ScheduleCinema = { cinemaId: number; name: string; timezone: string; films: ScheduleFilm[] };
type Schedule = { cityId: number; cityName: string; date: string; cinemas: ScheduleCinema[] };

const schedule = (cityId: number, date: string, extra = '') =>
  api<Schedule & { error: { code: string } }>('GET', `/api/v1/schedule?cityId=${cityId}&date=${date}${extra}`, {
    token: null,
  });

const showingIdsOf = (body: Schedule) =>
  body.cinemas.flatMap((cinema) => cinema.films.flatMap((film) => film.showings.map((s) => s.showingId)));

describe('schedule across time zones', () => {
  // D is ten days ahead, so every showing below is in the future.
  const D = utcDate(Date.now() + 10 * DAY);
  const dayBefore = nextDay(D, -1);
  const after = nextDay(D);

  let cityId: number;
  let cityName: string;
  let kaliningrad: { cinemaId: number; hallId: number; seatCount: number };
  let vladivostok: { cinemaId: number; hallId: number };
  let kolkata: { cinemaId: number; hallId: number };
  let alphaFilm: number;
  let bravoFilm: number;
  const shows: Record<string, Showing> = {};

  before(async () => {
    const city = await makeCity();
    cityId = city.id;
    cityName = city.name;
    // Cinema names fix the cinema order of the schedule (by name).
    const k = await makeCinema({ cityId, name: 'A Kaliningrad', timezone: 'Europe/Kaliningrad', currency: 'EUR' });
    const v = await makeCinema({ cityId, name: 'B Vladivostok', timezone: 'Asia/Vladivostok' });
    const i = await makeCinema({ cityId, name: 'C Kolkata', timezone: 'Asia/Kolkata', currency: 'INR' });
    const kHall = await makeHall({ cinemaId: k.id });
    const vHall = await makeHall({ cinemaId: v.id });
    const iHall = await makeHall({ cinemaId: i.id });
    kaliningrad = { cinemaId: k.id, hallId: kHall.id, seatCount: kHall.seatCount };
    vladivostok = { cinemaId: v.id, hallId: vHall.id };
    kolkata = { cinemaId: i.id, hallId: iHall.id };
    // Titles fix the film order inside a cinema (by title); 30 minutes leaves room between shows.
    alphaFilm = (await makeFilm({ title: `Alpha ${D}`, durationMinutes: 30 })).id;
    bravoFilm = (await makeFilm({ title: `Bravo ${D}`, durationMinutes: 30 })).id;

    const show = async (key: string, hallId: number, filmId: number, startsAt: string) => {
      shows[key] = await makeShowing({ hallId, filmId, startsAt });
    };
    // Kaliningrad is UTC+2 all year.
    await show('kLateOnD', kaliningrad.hallId, bravoFilm, at(D, '23:30', '+02:00')); // 21:30Z on D
    await show('kEarlyOnNext', kaliningrad.hallId, alphaFilm, at(after, '00:30', '+02:00')); // 22:30Z on D
    await show('kEveningOnD', kaliningrad.hallId, alphaFilm, at(D, '19:00', '+02:00'));
    // Vladivostok is UTC+10 all year: its D starts at 14:00Z the day before.
    await show('vEarlyOnD', vladivostok.hallId, bravoFilm, at(D, '00:30', '+10:00')); // 14:30Z on D-1
    await show('vLateOnD', vladivostok.hallId, alphaFilm, at(D, '23:30', '+10:00')); // 13:30Z on D
    await show('vEarlyOnNext', vladivostok.hallId, alphaFilm, at(after, '00:30', '+10:00')); // 14:30Z on D
    await show('vLateBefore', vladivostok.hallId, alphaFilm, at(dayBefore, '23:30', '+10:00')); // 13:30Z on D-1
    await show('vCancelled', vladivostok.hallId, alphaFilm, at(D, '20:00', '+10:00'));
    // Kolkata is UTC+05:30: a half-hour offset.
    await show('iLateOnD', kolkata.hallId, alphaFilm, at(D, '23:45', '+05:30')); // 18:15Z on D

    const { deps } = await testSystem();
    await deps.db('showings').where({ id: shows.vCancelled!.id }).update({ cancelled_at: deps.db.fn.now() });
  });

  it('when the schedule of a city is asked for, should group showings by cinema, then film, in name and title order', async () => {
    const response = await schedule(cityId, D);
    expect(response.status).to.equal(200);
    const body = response.body;
    expect(body).to.include({ cityId, cityName, date: D });
    expect(body.cinemas.map((c) => [c.cinemaId, c.timezone])).to.deep.equal([
      [kaliningrad.cinemaId, 'Europe/Kaliningrad'],
      [vladivostok.cinemaId, 'Asia/Vladivostok'],
      [kolkata.cinemaId, 'Asia/Kolkata'],
    ]);
    const layout = body.cinemas.map((c) => c.films.map((f) => [f.filmId, f.showings.map((s) => s.showingId)]));
    expect(layout).to.deep.equal([
      [
        [alphaFilm, [shows.kEveningOnD!.id]],
        [bravoFilm, [shows.kLateOnD!.id]],
      ],
      [
        [alphaFilm, [shows.vLateOnD!.id]],
        [bravoFilm, [shows.vEarlyOnD!.id]],
      ],
      [[alphaFilm, [shows.iLateOnD!.id]]],
    ]);
  });

  it('when a showing starts at 23:30 local on D, should appear under D and not under D+1', async () => {
    const onD = showingIdsOf((await schedule(cityId, D)).body);
    const onNext = showingIdsOf((await schedule(cityId, after)).body);
    for (const key of ['kLateOnD', 'vLateOnD', 'iLateOnD']) {
      expect(onD, key).to.include(shows[key]!.id);
      expect(onNext, key).not.to.include(shows[key]!.id);
    }
  });

  it('when a showing starts at 00:30 local on D+1, should appear under D+1 and not under D, although it is still D in UTC', async () => {
    const onD = showingIdsOf((await schedule(cityId, D)).body);
    const onNext = showingIdsOf((await schedule(cityId, after)).body);
    for (const key of ['kEarlyOnNext', 'vEarlyOnNext']) {
      expect(shows[key]!.startsAt.slice(0, 10), `${key} is on D in UTC`).to.equal(D);
      expect(onD, key).not.to.include(shows[key]!.id);
      expect(onNext, key).to.include(shows[key]!.id);
    }
  });

  it('when a showing starts at 00:30 local on D, which is the day before in UTC, should appear under D', async () => {
    expect(shows.vEarlyOnD!.startsAt.slice(0, 10)).to.equal(dayBefore);
    const onD = showingIdsOf((await schedule(cityId, D)).body);
    const onBefore = showingIdsOf((await schedule(cityId, dayBefore)).body);
    expect(onD).to.include(shows.vEarlyOnD!.id);
    expect(onBefore).not.to.include(shows.vEarlyOnD!.id);
    expect(onBefore).to.include(shows.vLateBefore!.id);
    expect(onD).not.to.include(shows.vLateBefore!.id);
  });

  it('when showings are listed, should give each its start as HH:MM in its own cinema time zone', async () => {
    const body = (await schedule(cityId, D)).body;
    const local = Object.fromEntries(
      body.cinemas.flatMap((c) => c.films.flatMap((f) => f.showings.map((s) => [s.showingId, s.localStartTime]))),
    );
    expect(local).to.deep.equal({
      [shows.kLateOnD!.id]: '23:30',
      [shows.kEveningOnD!.id]: '19:00',
      [shows.vEarlyOnD!.id]: '00:30',
      [shows.vLateOnD!.id]: '23:30',
      [shows.iLateOnD!.id]: '23:45',
    });
    const kaliningradLate = body.cinemas[0]!.films.find((f) => f.filmId === bravoFilm)!.showings[0]!;
    expect(kaliningradLate.startsAt).to.equal(new Date(at(D, '21:30', 'Z')).toISOString());
    expect(kaliningradLate.currency).to.equal('EUR');
    expect(kaliningradLate.prices).to.deep.equal({ standard: 45_000, vip: 90_000 });
  });

  it('when a seat of a showing is held, should count one free seat fewer, and not count released tickets', async () => {
    const { deps } = await testSystem();
    const showing = shows.kLateOnD!;
    const seats: { id: number }[] = await deps
      .db('seats')
      .where({ hall_id: kaliningrad.hallId })
      .orderBy('id')
      .limit(2);
    const orderId = await insertOrderRow(deps.db, {
      showingId: showing.id,
      seatIds: seats.map((s) => s.id),
      status: 'awaiting_payment',
      currency: 'EUR',
    });
    await insertTicketRows(deps.db, [
      {
        orderId,
        showingId: showing.id,
        hallId: kaliningrad.hallId,
        seatId: seats[0]!.id,
        price: 45_000,
        status: 'held',
      },
      {
        orderId,
        showingId: showing.id,
        hallId: kaliningrad.hallId,
        seatId: seats[1]!.id,
        price: 45_000,
        status: 'released',
      },
    ]);

    const body = (await schedule(cityId, D)).body;
    const free = Object.fromEntries(
      body.cinemas.flatMap((c) => c.films.flatMap((f) => f.showings.map((s) => [s.showingId, s.freeSeats]))),
    );
    expect(kaliningrad.seatCount).to.equal(12);
    expect(free[showing.id]).to.equal(kaliningrad.seatCount - 1);
    expect(free[shows.kEveningOnD!.id]).to.equal(kaliningrad.seatCount);
  });

  it('when a showing is cancelled, should leave it out of the schedule', async () => {
    const onD = showingIdsOf((await schedule(cityId, D)).body);
    expect(onD).not.to.include(shows.vCancelled!.id);
    expect(onD).to.include(shows.vLateOnD!.id);
  });

  it('when a filmId is given, should list only that film', async () => {
    const body = (await schedule(cityId, D, `&filmId=${bravoFilm}`)).body;
    expect(body.cinemas.map((c) => c.cinemaId)).to.deep.equal([kaliningrad.cinemaId, vladivostok.cinemaId]);
    expect(body.cinemas.flatMap((c) => c.films.map((f) => f.filmId))).to.deep.equal([bravoFilm, bravoFilm]);
    expect(showingIdsOf(body)).to.have.members([shows.kLateOnD!.id, shows.vEarlyOnD!.id]);
  });

  it('when the city has no showings that day, should answer with no cinemas', async () => {
    const body = (await schedule(cityId, nextDay(D, 5))).body;
    expect(body).to.deep.include({ cityId, date: nextDay(D, 5), cinemas: [] });
  });

  it('when the city does not exist, should answer 404 CITY_NOT_FOUND', async () => {
    const response = await schedule(987_654_321, D);
    expect(response.status).to.equal(404);
    expect(response.body.error.code).to.equal('CITY_NOT_FOUND');
  });

  for (const date of ['2027-02-30', '2027-13-01', 'tomorrow', '2027-1-5', '']) {
    it(`when the date is "${date}", should answer 400 VALIDATION_FAILED naming the date`, async () => {
      const response = await api('GET', `/api/v1/schedule?cityId=${cityId}&date=${date}`, { token: null });
      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal('VALIDATION_FAILED');
      expect(response.body.error.details.map((d: { path: string }) => d.path)).to.deep.equal(['date']);
    });
  }

  it('when cityId is missing, should answer 400 VALIDATION_FAILED naming cityId', async () => {
    const response = await api('GET', `/api/v1/schedule?date=${D}`, { token: null });
    expect(response.status).to.equal(400);
    expect(response.body.error.details.map((d: { path: string }) => d.path)).to.deep.equal(['cityId']);
  });
});

describe('daylight saving time in Europe/Berlin', () => {
  const year = new Date().getUTCFullYear() + 1;
  const spring = lastSunday(year, 3); // 23 hours long: 02:00 CET jumps to 03:00 CEST
  const autumn = lastSunday(year, 10); // 25 hours long: 03:00 CEST falls back to 02:00 CET

  let cityId: number;
  let cinemaId: number;
  const shows: Record<string, Showing> = {};

  before(async () => {
    cityId = (await makeCity()).id;
    cinemaId = (await makeCinema({ cityId, timezone: 'Europe/Berlin' })).id;
    const hallId = (await makeHall({ cinemaId })).id;
    const filmId = (await makeFilm({ durationMinutes: 30 })).id;
    const show = async (key: string, startsAt: string) => {
      shows[key] = await makeShowing({ hallId, filmId, startsAt });
    };
    // Spring: CET (+01:00) until 01:00Z on the day, CEST (+02:00) after.
    await show('springBefore', at(nextDay(spring, -1), '23:30', '+01:00'));
    await show('springEarly', at(spring, '00:30', '+01:00'));
    await show('springAfterJump', at(spring, '03:30', '+02:00'));
    await show('springLate', at(spring, '23:30', '+02:00'));
    await show('springNext', at(nextDay(spring), '00:30', '+02:00'));
    // Autumn: CEST (+02:00) until 01:00Z on the day, CET (+01:00) after.
    await show('autumnBefore', at(nextDay(autumn, -1), '23:30', '+02:00'));
    await show('autumnEarly', at(autumn, '00:30', '+02:00'));
    await show('autumnSecondTwoThirty', at(autumn, '02:30', '+01:00'));
    await show('autumnLate', at(autumn, '23:30', '+01:00'));
    await show('autumnNext', at(nextDay(autumn), '00:30', '+01:00'));
  });

  const listIds = async (date: string) => {
    const response = await api<{ data: Showing[] }>('GET', `/api/v1/showings?cinemaId=${cinemaId}&date=${date}`, {
      token: null,
    });
    expect(response.status).to.equal(200);
    return response.body.data.map((s) => s.id);
  };

  it('when showings are listed for the 23-hour spring-forward day, should give exactly the ones starting on it in Berlin', async () => {
    expect(await listIds(spring)).to.deep.equal([
      shows.springEarly!.id,
      shows.springAfterJump!.id,
      shows.springLate!.id,
    ]);
    expect(await listIds(nextDay(spring))).to.deep.equal([shows.springNext!.id]);
    expect(await listIds(nextDay(spring, -1))).to.deep.equal([shows.springBefore!.id]);
  });

  it('when showings are listed for the 25-hour fall-back day, should give exactly the ones starting on it in Berlin', async () => {
    expect(await listIds(autumn)).to.deep.equal([
      shows.autumnEarly!.id,
      shows.autumnSecondTwoThirty!.id,
      shows.autumnLate!.id,
    ]);
    expect(await listIds(nextDay(autumn))).to.deep.equal([shows.autumnNext!.id]);
    expect(await listIds(nextDay(autumn, -1))).to.deep.equal([shows.autumnBefore!.id]);
  });

  it('when the schedule is asked for on a DST-change day, should show local start times on the right side of the change', async () => {
    const local = async (date: string) =>
      (await schedule(cityId, date)).body.cinemas.flatMap((c) =>
        c.films.flatMap((f) => f.showings.map((s) => s.localStartTime)),
      );
    expect(await local(spring)).to.deep.equal(['00:30', '03:30', '23:30']);
    expect(await local(autumn)).to.deep.equal(['00:30', '02:30', '23:30']);
  });
});
