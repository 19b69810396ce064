import { expect } from 'chai';
import { makeCinema, makeCity, makeFilm, makeHall, makeShowing, type Showing } from '../factories.js';
import { api } from '../system.js';
import { BASE, at, expectError, futureDate, idsOf, validationProblems } from './crud-support.js';

const UNKNOWN_ID = 9_007_199_254_740_991;
const get = (path: string) => api('GET', `${BASE}${path}`, { token: null });

describe('catalog relations', () => {
  describe('GET /cities/:id/cinemas', () => {
    it('when a city has cinemas, should list exactly its cinemas in id order', async () => {
      const city = await makeCity();
      const first = await makeCinema({ cityId: city.id });
      const second = await makeCinema({ cityId: city.id });
      await makeCinema(); // elsewhere
      const response = await get(`/cities/${city.id}/cinemas`);
      expect(idsOf(response)).to.deep.equal([first.id, second.id]);
      expect(response.body.data[0]).to.deep.equal(first);
      expect(response.body.nextCursor).to.equal(null);
    });

    it('when a city has no cinemas, should answer an empty page', async () => {
      const city = await makeCity();
      const response = await get(`/cities/${city.id}/cinemas`);
      expect(response.status).to.equal(200);
      expect(response.body).to.deep.equal({ data: [], nextCursor: null });
    });

    it('when the city does not exist, should answer 404 CITY_NOT_FOUND', async () => {
      const error = expectError(await get(`/cities/${UNKNOWN_ID}/cinemas`), 404, 'CITY_NOT_FOUND');
      expect(error.message).to.include(String(UNKNOWN_ID));
    });
  });

  describe('GET /cinemas/:id/halls', () => {
    it('when a cinema has halls, should list exactly its halls without layouts', async () => {
      const cinema = await makeCinema();
      const first = await makeHall({ cinemaId: cinema.id });
      const second = await makeHall({ cinemaId: cinema.id });
      await makeHall(); // elsewhere
      const response = await get(`/cinemas/${cinema.id}/halls`);
      expect(idsOf(response)).to.deep.equal([first.id, second.id]);
      const { layout: _layout, ...summary } = first;
      expect(response.body.data[0]).to.deep.equal(summary);
    });

    it('when the cinema does not exist, should answer 404 CINEMA_NOT_FOUND', async () => {
      expectError(await get(`/cinemas/${UNKNOWN_ID}/halls`), 404, 'CINEMA_NOT_FOUND');
    });
  });

  describe('showings under a parent', () => {
    // One film in two cinemas of different cities; a second film in the first cinema.
    let tokyoCinema: { id: number; cityId: number };
    let utcCinema: { id: number; cityId: number };
    let tokyoHalls: { id: number }[];
    let film: { id: number };
    let otherFilm: { id: number };
    let day: string;
    let nextDay: string;
    let showings: Record<
      'tokyoEarly' | 'tokyoLate' | 'tokyoNextDay' | 'tokyoOtherFilm' | 'utc' | 'utcNextDay',
      Showing
    >;

    before(async () => {
      day = futureDate(5);
      nextDay = futureDate(6);
      tokyoCinema = await makeCinema({ timezone: 'Asia/Tokyo' });
      utcCinema = await makeCinema({ timezone: 'UTC' });
      tokyoHalls = [await makeHall({ cinemaId: tokyoCinema.id }), await makeHall({ cinemaId: tokyoCinema.id })];
      const utcHall = await makeHall({ cinemaId: utcCinema.id });
      film = await makeFilm();
      otherFilm = await makeFilm();
      showings = {
        // 00:30 in Tokyo is still the previous day in UTC: the date filter must use the cinema's zone.
        tokyoEarly: await makeShowing({
          hallId: tokyoHalls[0]!.id,
          filmId: film.id,
          startsAt: at(day, '00:30', '+09:00'),
        }),
        tokyoLate: await makeShowing({
          hallId: tokyoHalls[1]!.id,
          filmId: film.id,
          startsAt: at(day, '21:00', '+09:00'),
        }),
        tokyoNextDay: await makeShowing({
          hallId: tokyoHalls[0]!.id,
          filmId: film.id,
          startsAt: at(nextDay, '12:00', '+09:00'),
        }),
        tokyoOtherFilm: await makeShowing({
          hallId: tokyoHalls[0]!.id,
          filmId: otherFilm.id,
          startsAt: at(day, '15:00', '+09:00'),
        }),
        utc: await makeShowing({ hallId: utcHall.id, filmId: film.id, startsAt: at(day, '18:00') }),
        utcNextDay: await makeShowing({ hallId: utcHall.id, filmId: film.id, startsAt: at(nextDay, '18:00') }),
      };
    });

    const ids = (...names: (keyof typeof showings)[]) => names.map((name) => showings[name].id);

    it('when the showings of a cinema are asked for, should list exactly its showings by start time', async () => {
      const response = await get(`/cinemas/${tokyoCinema.id}/showings`);
      expect(idsOf(response)).to.deep.equal(ids('tokyoEarly', 'tokyoOtherFilm', 'tokyoLate', 'tokyoNextDay'));
      expect(response.body.data[0]).to.deep.equal(showings.tokyoEarly);
    });

    it('when the showings of a cinema are filtered by hall, film and date, should apply each filter', async () => {
      expect(idsOf(await get(`/cinemas/${tokyoCinema.id}/showings?hallId=${tokyoHalls[1]!.id}`))).to.deep.equal(
        ids('tokyoLate'),
      );
      expect(idsOf(await get(`/cinemas/${tokyoCinema.id}/showings?filmId=${otherFilm.id}`))).to.deep.equal(
        ids('tokyoOtherFilm'),
      );
      expect(idsOf(await get(`/cinemas/${tokyoCinema.id}/showings?date=${nextDay}`))).to.deep.equal(
        ids('tokyoNextDay'),
      );
    });

    it('when the showings of a cinema are filtered by cinemaId too, should refuse the redundant parameter', async () => {
      const problems = validationProblems(await get(`/cinemas/${tokyoCinema.id}/showings?cinemaId=${tokyoCinema.id}`));
      expect(problems).to.have.length(1);
      expect(problems[0]).to.include({ in: 'query' });
      expect(problems[0]!.message).to.include('cinemaId');
    });

    it('when the showings of an unknown cinema are asked for, should answer 404 CINEMA_NOT_FOUND', async () => {
      expectError(await get(`/cinemas/${UNKNOWN_ID}/showings`), 404, 'CINEMA_NOT_FOUND');
    });

    it("when the showings of a hall are asked for, should list exactly that hall's showings", async () => {
      expect(idsOf(await get(`/halls/${tokyoHalls[0]!.id}/showings`))).to.deep.equal(
        ids('tokyoEarly', 'tokyoOtherFilm', 'tokyoNextDay'),
      );
      expect(idsOf(await get(`/halls/${tokyoHalls[0]!.id}/showings?filmId=${film.id}`))).to.deep.equal(
        ids('tokyoEarly', 'tokyoNextDay'),
      );
    });

    it('when a hall has no showings, should answer an empty page', async () => {
      const hall = await makeHall();
      expect(await get(`/halls/${hall.id}/showings`)).to.deep.include({
        status: 200,
        body: { data: [], nextCursor: null },
      });
    });

    it('when the showings of an unknown hall are asked for, should answer 404 HALL_NOT_FOUND', async () => {
      expectError(await get(`/halls/${UNKNOWN_ID}/showings`), 404, 'HALL_NOT_FOUND');
    });

    it('when the showings of a film are asked for, should list them across cities by start time', async () => {
      const response = await get(`/films/${film.id}/showings`);
      expect(idsOf(response)).to.deep.equal(ids('tokyoEarly', 'tokyoLate', 'utc', 'tokyoNextDay', 'utcNextDay'));
    });

    it('when the showings of a film are filtered by city, should keep only that city', async () => {
      expect(idsOf(await get(`/films/${film.id}/showings?cityId=${tokyoCinema.cityId}`))).to.deep.equal(
        ids('tokyoEarly', 'tokyoLate', 'tokyoNextDay'),
      );
      expect(idsOf(await get(`/films/${film.id}/showings?cityId=${utcCinema.cityId}`))).to.deep.equal(
        ids('utc', 'utcNextDay'),
      );
    });

    it("when the showings of a film are filtered by date, should read the date in each cinema's time zone", async () => {
      expect(idsOf(await get(`/films/${film.id}/showings?date=${day}`))).to.deep.equal(
        ids('tokyoEarly', 'tokyoLate', 'utc'),
      );
      expect(idsOf(await get(`/films/${film.id}/showings?date=${nextDay}`))).to.deep.equal(
        ids('tokyoNextDay', 'utcNextDay'),
      );
      expect(idsOf(await get(`/films/${film.id}/showings?date=${futureDate(4)}`))).to.deep.equal([]);
    });

    it('when the showings of a film are filtered by city and date, should combine both filters', async () => {
      expect(idsOf(await get(`/films/${film.id}/showings?cityId=${tokyoCinema.cityId}&date=${day}`))).to.deep.equal(
        ids('tokyoEarly', 'tokyoLate'),
      );
      expect(idsOf(await get(`/films/${film.id}/showings?cityId=${utcCinema.cityId}&date=${nextDay}`))).to.deep.equal(
        ids('utcNextDay'),
      );
    });

    it('when the showings of a film are filtered by filmId too, should refuse the redundant parameter', async () => {
      const problems = validationProblems(await get(`/films/${film.id}/showings?filmId=${film.id}`));
      expect(problems.map((problem) => problem.in)).to.deep.equal(['query']);
    });

    it('when the showings of an unknown film are asked for, should answer 404 FILM_NOT_FOUND', async () => {
      expectError(await get(`/films/${UNKNOWN_ID}/showings?date=${day}`), 404, 'FILM_NOT_FOUND');
    });

    it('when /showings is filtered by city, cinema, hall or film, should give exactly the matching showings', async () => {
      expect(idsOf(await get(`/showings?cityId=${utcCinema.cityId}`))).to.deep.equal(ids('utc', 'utcNextDay'));
      expect(idsOf(await get(`/showings?cinemaId=${tokyoCinema.id}&filmId=${film.id}`))).to.deep.equal(
        ids('tokyoEarly', 'tokyoLate', 'tokyoNextDay'),
      );
      expect(idsOf(await get(`/showings?hallId=${tokyoHalls[1]!.id}`))).to.deep.equal(ids('tokyoLate'));
      expect(idsOf(await get(`/showings?filmId=${otherFilm.id}`))).to.deep.equal(ids('tokyoOtherFilm'));
      expect(idsOf(await get(`/showings?cityId=${utcCinema.cityId}&cinemaId=${tokyoCinema.id}`))).to.deep.equal([]);
    });

    it('when /showings is filtered by from and to, should include from and exclude to', async () => {
      const from = encodeURIComponent(showings.tokyoLate.startsAt);
      const to = encodeURIComponent(showings.tokyoNextDay.startsAt);
      expect(idsOf(await get(`/showings?filmId=${film.id}&from=${from}`))).to.deep.equal(
        ids('tokyoLate', 'utc', 'tokyoNextDay', 'utcNextDay'),
      );
      expect(idsOf(await get(`/showings?filmId=${film.id}&to=${to}`))).to.deep.equal(
        ids('tokyoEarly', 'tokyoLate', 'utc'),
      );
      expect(idsOf(await get(`/showings?filmId=${film.id}&from=${from}&to=${to}`))).to.deep.equal(
        ids('tokyoLate', 'utc'),
      );
      // An offset other than Z names the same instant.
      const sameInstant = encodeURIComponent(at(day, '21:00', '+09:00'));
      expect(idsOf(await get(`/showings?cinemaId=${tokyoCinema.id}&from=${sameInstant}&to=${to}`))).to.deep.equal(
        ids('tokyoLate'),
      );
    });

    it('when /showings is given a from without an offset, should refuse it', async () => {
      const problems = validationProblems(await get(`/showings?from=${day}T10:00:00`));
      expect(problems).to.have.length(1);
      expect(problems[0]).to.include({ in: 'query', path: 'from' });
    });
  });

  describe('list filters', () => {
    it('when /cinemas is filtered by cityId, should give exactly the cinemas of that city', async () => {
      const city = await makeCity();
      const first = await makeCinema({ cityId: city.id });
      const second = await makeCinema({ cityId: city.id });
      await makeCinema();
      expect(idsOf(await get(`/cinemas?cityId=${city.id}`))).to.deep.equal([first.id, second.id]);
    });

    it('when /halls is filtered by cinemaId, should give exactly the halls of that cinema', async () => {
      const cinema = await makeCinema();
      const hall = await makeHall({ cinemaId: cinema.id });
      await makeHall();
      const response = await get(`/halls?cinemaId=${cinema.id}`);
      expect(idsOf(response)).to.deep.equal([hall.id]);
      expect(response.body.data[0]).to.not.have.property('layout');
    });

    it('when a list is filtered by a parent that does not exist, should answer an empty page and not 404', async () => {
      expect(await get(`/cinemas?cityId=${UNKNOWN_ID}`)).to.deep.include({
        status: 200,
        body: { data: [], nextCursor: null },
      });
      expect(await get(`/halls?cinemaId=${UNKNOWN_ID}`)).to.deep.include({
        status: 200,
        body: { data: [], nextCursor: null },
      });
      expect(await get(`/showings?filmId=${UNKNOWN_ID}`)).to.deep.include({
        status: 200,
        body: { data: [], nextCursor: null },
      });
    });

    it('when a list filter is not a positive integer, should answer 400 naming the parameter', async () => {
      for (const query of ['cityId=abc', 'cityId=0', 'cityId=-3', 'cityId=1.5', 'cityId=']) {
        const problems = validationProblems(await get(`/cinemas?${query}`));
        expect(
          problems.map((problem) => [problem.in, problem.path]),
          query,
        ).to.deep.equal([['query', 'cityId']]);
      }
    });
  });
});
