import { expect } from 'chai';
import type { z } from 'zod';
import * as schemas from '../../api/catalog/schemas.js';
import { makeCinema, makeCity, makeFilm, makeHall, makeShowing, smallLayout } from '../factories.js';
import { api } from '../system.js';
import { BASE, at, expectError, futureDate, listAll, uniqueName, untilDbClockPasses } from './crud-support.js';

const MINUTE = 60_000;

/** The body matches the route's documented response schema and has exactly these keys. */
function expectShape(body: unknown, schema: z.ZodType, keys: string[]) {
  const parsed = schema.safeParse(body);
  expect(parsed.success, `${JSON.stringify(body)} ${parsed.success ? '' : parsed.error.message}`).to.equal(true);
  expect(body).to.have.all.keys(...keys);
}

/** updatedAt of the answer is later than the given one, createdAt unchanged. */
function expectTouched(
  before: { createdAt: string; updatedAt: string },
  after: { createdAt: string; updatedAt: string },
) {
  expect(after.createdAt).to.equal(before.createdAt);
  expect(Date.parse(after.updatedAt), `updatedAt ${before.updatedAt} -> ${after.updatedAt}`).to.be.greaterThan(
    Date.parse(before.updatedAt),
  );
}

/** Deletes, then checks that the entity is gone for reads, changes and a second delete. */
async function expectDeleted(path: string, id: number, notFound: string, patchBody: object) {
  const deleted = await api('DELETE', `${path}/${id}`);
  expect(deleted.status, JSON.stringify(deleted.body)).to.equal(204);
  expect(deleted.body).to.equal(undefined);
  expectError(await api('GET', `${path}/${id}`, { token: null }), 404, notFound);
  expectError(await api('PATCH', `${path}/${id}`, { body: patchBody }), 404, notFound);
  expectError(await api('DELETE', `${path}/${id}`), 404, notFound);
  const listed = await listAll<{ id: number }>(path);
  expect(listed.map((item) => item.id)).to.not.include(id);
}

const CITY_KEYS = ['id', 'name', 'createdAt', 'updatedAt'];
const CINEMA_KEYS = [
  'id',
  'cityId',
  'name',
  'address',
  'timezone',
  'currency',
  'defaultPrices',
  'operatorId',
  'createdAt',
  'updatedAt',
];
const HALL_KEYS = ['id', 'cinemaId', 'name', 'seatCount', 'seating', 'createdAt', 'updatedAt'];
const FILM_KEYS = ['id', 'title', 'durationMinutes', 'description', 'ageRating', 'createdAt', 'updatedAt'];
const SHOWING_KEYS = [
  'id',
  'hallId',
  'cinemaId',
  'cityId',
  'filmId',
  'startsAt',
  'endsAt',
  'timezone',
  'prices',
  'currency',
  'status',
  'cancelledAt',
  'seatCount',
  'freeSeats',
  'createdAt',
  'updatedAt',
];

describe('catalog CRUD', () => {
  describe('cities', () => {
    it('when a city is created, should answer 201 with the stored city and a trimmed name', async () => {
      const name = uniqueName('Kazan');
      const response = await api('POST', `${BASE}/cities`, { body: { name: `  ${name}  ` } });
      expect(response.status, JSON.stringify(response.body)).to.equal(201);
      expectShape(response.body, schemas.city, CITY_KEYS);
      expect(response.body.name).to.equal(name);
      expect(response.body.id).to.be.a('number').greaterThan(0);
      expect(response.body.updatedAt).to.equal(response.body.createdAt);
      expect(Math.abs(Date.parse(response.body.createdAt) - Date.now())).to.be.lessThan(60_000);
    });

    it('when a created city is read by id without a token, should answer it unchanged', async () => {
      const city = await makeCity();
      const response = await api('GET', `${BASE}/cities/${city.id}`, { token: null });
      expect(response.status).to.equal(200);
      expect(response.body).to.deep.equal(city);
    });

    it('when cities are listed, should include a created city as created', async () => {
      const city = await makeCity();
      const listed = await listAll(`${BASE}/cities`);
      expect(listed.filter((item) => item.id === city.id)).to.deep.equal([city]);
    });

    it('when a city is patched, should apply the new name and advance updatedAt', async () => {
      const city = await makeCity();
      await untilDbClockPasses(city);
      const name = uniqueName('Renamed');
      const response = await api('PATCH', `${BASE}/cities/${city.id}`, { body: { name } });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expectShape(response.body, schemas.city, CITY_KEYS);
      expect(response.body).to.include({ id: city.id, name });
      expectTouched(city as never, response.body);
      expect((await api('GET', `${BASE}/cities/${city.id}`)).body).to.deep.equal(response.body);
    });

    it('when a city is patched to its own name in another case, should accept it', async () => {
      const city = await makeCity();
      const response = await api('PATCH', `${BASE}/cities/${city.id}`, { body: { name: city.name.toUpperCase() } });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body.name).to.equal(city.name.toUpperCase());
    });

    it('when a city is deleted, should answer 204 and then 404 CITY_NOT_FOUND everywhere', async () => {
      const city = await makeCity();
      await expectDeleted(`${BASE}/cities`, city.id, 'CITY_NOT_FOUND', { name: uniqueName('Gone') });
    });
  });

  describe('cinemas', () => {
    it('when a cinema is created with only the required fields, should answer 201 with the defaults filled in', async () => {
      const city = await makeCity();
      const name = uniqueName('Cinema');
      const response = await api('POST', `${BASE}/cinemas`, {
        body: { cityId: city.id, name, timezone: 'Asia/Tokyo' },
      });
      expect(response.status, JSON.stringify(response.body)).to.equal(201);
      expectShape(response.body, schemas.cinema, CINEMA_KEYS);
      expect(response.body).to.include({
        cityId: city.id,
        name,
        address: null,
        timezone: 'Asia/Tokyo',
        currency: 'RUB',
      });
      expect(response.body.defaultPrices).to.deep.equal({
        standard: 45_000,
        vip: 90_000,
        double: 100_000,
        wheelchair: 30_000,
      });
    });

    it('when a cinema is created with all fields, should store them and merge its prices over the defaults', async () => {
      const city = await makeCity();
      const body = {
        cityId: city.id,
        name: uniqueName('Cinema'),
        address: 'Lenina 1',
        timezone: 'UTC',
        currency: 'EUR',
        defaultPrices: { vip: 1_234 },
      };
      const response = await api('POST', `${BASE}/cinemas`, { body });
      expect(response.status, JSON.stringify(response.body)).to.equal(201);
      expect(response.body).to.include({
        cityId: city.id,
        name: body.name,
        address: 'Lenina 1',
        timezone: 'UTC',
        currency: 'EUR',
      });
      expect(response.body.defaultPrices).to.deep.equal({
        standard: 45_000,
        vip: 1_234,
        double: 100_000,
        wheelchair: 30_000,
      });
    });

    it('when a created cinema is read by id without a token, should answer it unchanged', async () => {
      const cinema = await makeCinema();
      const response = await api('GET', `${BASE}/cinemas/${cinema.id}`, { token: null });
      expect(response.status).to.equal(200);
      expect(response.body).to.deep.equal(cinema);
    });

    it('when cinemas are listed, should include a created cinema as created', async () => {
      const cinema = await makeCinema();
      const listed = await listAll(`${BASE}/cinemas`);
      expect(listed.filter((item) => item.id === cinema.id)).to.deep.equal([cinema]);
    });

    it('when a cinema is patched, should apply every change and advance updatedAt', async () => {
      const cinema = await makeCinema({ address: 'Old street 1' } as object);
      const otherCity = await makeCity();
      await untilDbClockPasses(cinema);
      const changes = {
        cityId: otherCity.id,
        name: uniqueName('Moved'),
        address: null,
        timezone: 'Europe/Berlin',
        currency: 'EUR',
      };
      const response = await api('PATCH', `${BASE}/cinemas/${cinema.id}`, { body: changes });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expectShape(response.body, schemas.cinema, CINEMA_KEYS);
      expect(response.body).to.include({ id: cinema.id, ...changes });
      expectTouched(cinema as never, response.body);
      expect((await api('GET', `${BASE}/cinemas/${cinema.id}`)).body).to.deep.equal(response.body);
    });

    it('when a cinema is deleted, should answer 204 and then 404 CINEMA_NOT_FOUND everywhere', async () => {
      const cinema = await makeCinema();
      await expectDeleted(`${BASE}/cinemas`, cinema.id, 'CINEMA_NOT_FOUND', { name: 'x' });
    });
  });

  describe('halls', () => {
    it('when a hall is created, should answer 201 with its seat count and a fully positioned layout', async () => {
      const cinema = await makeCinema();
      const name = uniqueName('Hall');
      const response = await api('POST', `${BASE}/halls`, {
        body: { cinemaId: cinema.id, name, layout: smallLayout() },
      });
      expect(response.status, JSON.stringify(response.body)).to.equal(201);
      expectShape(response.body, schemas.hallWithLayout, [...HALL_KEYS, 'layout']);
      expect(response.body).to.include({ cinemaId: cinema.id, name, seatCount: 12 });
      const rows = response.body.layout.rows as {
        id: number;
        label: string;
        y: number;
        seats: { id: number; number: number; x: number; width: number; category: string }[];
      }[];
      expect(rows.map((row) => [row.label, row.y])).to.deep.equal([
        ['A', 0],
        ['B', 1],
        ['C', 2],
      ]);
      expect(rows[0]!.seats.map(({ number, x, width, category }) => ({ number, x, width, category }))).to.deep.equal([
        { number: 1, x: 0, width: 1, category: 'standard' },
        { number: 2, x: 1, width: 1, category: 'standard' },
        { number: 3, x: 3, width: 1, category: 'standard' },
        { number: 4, x: 4, width: 1, category: 'standard' },
      ]);
      expect(rows[2]!.seats.every((seat) => seat.category === 'vip')).to.equal(true);
      const seatIds = rows.flatMap((row) => row.seats.map((seat) => seat.id));
      expect(new Set(seatIds).size).to.equal(12);
    });

    it('when a created hall is read by id without a token, should answer it with the same layout', async () => {
      const hall = await makeHall();
      const response = await api('GET', `${BASE}/halls/${hall.id}`, { token: null });
      expect(response.status).to.equal(200);
      expect(response.body).to.deep.equal(hall);
    });

    it('when halls are listed, should include a created hall without its layout', async () => {
      const hall = await makeHall();
      const listed = await listAll(`${BASE}/halls`);
      const { layout: _layout, ...summary } = hall;
      const found = listed.filter((item) => item.id === hall.id);
      expect(found).to.deep.equal([summary]);
      expectShape(found[0], schemas.hall, HALL_KEYS);
    });

    it('when a hall is patched with a new name and layout, should replace the layout and recount its seats', async () => {
      const hall = await makeHall();
      await untilDbClockPasses(hall);
      const name = uniqueName('Renamed hall');
      const layout = {
        rows: [
          {
            label: 'Z',
            y: 5,
            seats: [
              { number: 1, category: 'double' },
              { number: 2, category: 'wheelchair' },
            ],
          },
        ],
      };
      const response = await api('PATCH', `${BASE}/halls/${hall.id}`, { body: { name, layout } });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expectShape(response.body, schemas.hallWithLayout, [...HALL_KEYS, 'layout']);
      expect(response.body).to.include({ id: hall.id, cinemaId: hall.cinemaId, name, seatCount: 2 });
      expect(response.body.layout.rows).to.have.length(1);
      expect(response.body.layout.rows[0]).to.include({ label: 'Z', y: 5 });
      expect(
        response.body.layout.rows[0].seats.map(({ number, x, width, category }: Record<string, unknown>) => ({
          number,
          x,
          width,
          category,
        })),
      ).to.deep.equal([
        { number: 1, x: 0, width: 2, category: 'double' },
        { number: 2, x: 2, width: 1, category: 'wheelchair' },
      ]);
      expectTouched(hall as never, response.body);
      expect((await api('GET', `${BASE}/halls/${hall.id}`)).body).to.deep.equal(response.body);
    });

    it('when only the layout of a hall is patched, should keep its name and advance updatedAt', async () => {
      const hall = await makeHall();
      await untilDbClockPasses(hall);
      const response = await api('PATCH', `${BASE}/halls/${hall.id}`, { body: { layout: smallLayout(5) } });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body).to.include({ name: (hall as unknown as { name: string }).name, seatCount: 15 });
      expectTouched(hall as never, response.body);
    });

    it('when a hall is deleted, should answer 204 and then 404 HALL_NOT_FOUND everywhere', async () => {
      const hall = await makeHall();
      await expectDeleted(`${BASE}/halls`, hall.id, 'HALL_NOT_FOUND', { name: 'x' });
    });
  });

  describe('films', () => {
    it('when a film is created with only the required fields, should answer 201 with null optionals', async () => {
      const title = uniqueName('Film');
      const response = await api('POST', `${BASE}/films`, { body: { title, durationMinutes: 95 } });
      expect(response.status, JSON.stringify(response.body)).to.equal(201);
      expectShape(response.body, schemas.film, FILM_KEYS);
      expect(response.body).to.include({ title, durationMinutes: 95, description: null, ageRating: null });
    });

    it('when a film is created with all fields, should store them', async () => {
      const body = {
        title: uniqueName('Солярис'),
        durationMinutes: 167,
        description: 'A space station 🚀',
        ageRating: '12+',
      };
      const response = await api('POST', `${BASE}/films`, { body });
      expect(response.status, JSON.stringify(response.body)).to.equal(201);
      expect(response.body).to.include(body);
    });

    it('when a created film is read by id without a token, should answer it unchanged', async () => {
      const film = await makeFilm();
      const response = await api('GET', `${BASE}/films/${film.id}`, { token: null });
      expect(response.status).to.equal(200);
      expect(response.body).to.deep.equal(film);
    });

    it('when films are listed, should include a created film as created', async () => {
      const film = await makeFilm();
      const listed = await listAll(`${BASE}/films`);
      expect(listed.filter((item) => item.id === film.id)).to.deep.equal([film]);
    });

    it('when a film is patched, should apply every change and advance updatedAt', async () => {
      const film = await makeFilm({ description: 'old', ageRating: '16+' });
      await untilDbClockPasses(film);
      const changes = { title: uniqueName('Retitled'), durationMinutes: 121, description: null, ageRating: '6+' };
      const response = await api('PATCH', `${BASE}/films/${film.id}`, { body: changes });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expectShape(response.body, schemas.film, FILM_KEYS);
      expect(response.body).to.include({ id: film.id, ...changes });
      expectTouched(film as never, response.body);
      expect((await api('GET', `${BASE}/films/${film.id}`)).body).to.deep.equal(response.body);
    });

    it('when a film is deleted, should answer 204 and then 404 FILM_NOT_FOUND everywhere', async () => {
      const film = await makeFilm();
      await expectDeleted(`${BASE}/films`, film.id, 'FILM_NOT_FOUND', { title: 'x' });
    });
  });

  describe('showings', () => {
    it("when a showing is created, should answer 201 with its end from the film's length and the cinema's prices", async () => {
      const cinema = await makeCinema({ timezone: 'Asia/Tokyo', defaultPrices: { vip: 77_000 } } as object);
      const hall = await makeHall({ cinemaId: cinema.id });
      const film = await makeFilm({ durationMinutes: 95 });
      const startsAt = at(futureDate(3), '18:30', '+09:00');
      const response = await api('POST', `${BASE}/showings`, { body: { hallId: hall.id, filmId: film.id, startsAt } });
      expect(response.status, JSON.stringify(response.body)).to.equal(201);
      expectShape(response.body, schemas.showing, SHOWING_KEYS);
      const start = Date.parse(startsAt);
      expect(response.body).to.include({
        hallId: hall.id,
        cinemaId: cinema.id,
        cityId: cinema.cityId,
        filmId: film.id,
        startsAt: new Date(start).toISOString(),
        endsAt: new Date(start + 95 * MINUTE).toISOString(),
        timezone: 'Asia/Tokyo',
        currency: 'RUB',
        status: 'scheduled',
        cancelledAt: null,
        seatCount: 12,
        freeSeats: 12,
      });
      // Only the categories the hall has, priced from the cinema.
      expect(response.body.prices).to.deep.equal({ standard: 45_000, vip: 77_000 });
    });

    it('when a showing is created with its own prices, should use them for the categories of the hall', async () => {
      const hall = await makeHall();
      const film = await makeFilm();
      const body = {
        hallId: hall.id,
        filmId: film.id,
        startsAt: at(futureDate(4), '10:00'),
        prices: { standard: 100, vip: 200, double: 300 },
      };
      const response = await api('POST', `${BASE}/showings`, { body });
      expect(response.status, JSON.stringify(response.body)).to.equal(201);
      expect(response.body.prices).to.deep.equal({ standard: 100, vip: 200 });
    });

    it('when a created showing is read by id without a token, should answer it unchanged', async () => {
      const showing = await makeShowing();
      const response = await api('GET', `${BASE}/showings/${showing.id}`, { token: null });
      expect(response.status).to.equal(200);
      expect(response.body).to.deep.equal(showing);
    });

    it('when showings are listed, should include a created showing as created', async () => {
      const showing = await makeShowing();
      const listed = await listAll(`${BASE}/showings`);
      expect(listed.filter((item) => item.id === showing.id)).to.deep.equal([showing]);
    });

    it('when a showing is patched with a new time, film and prices, should recompute its end and merge the prices', async () => {
      const showing = await makeShowing();
      const film = await makeFilm({ durationMinutes: 42 });
      await untilDbClockPasses(showing);
      const startsAt = at(futureDate(6), '21:15', '+03:00');
      const response = await api('PATCH', `${BASE}/showings/${showing.id}`, {
        body: { startsAt, filmId: film.id, prices: { vip: 99_900 } },
      });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expectShape(response.body, schemas.showing, SHOWING_KEYS);
      const start = Date.parse(startsAt);
      expect(response.body).to.include({
        id: showing.id,
        hallId: showing.hallId,
        filmId: film.id,
        startsAt: new Date(start).toISOString(),
        endsAt: new Date(start + 42 * MINUTE).toISOString(),
      });
      expect(response.body.prices).to.deep.equal({ ...showing.prices, vip: 99_900 });
      expectTouched(showing as never, response.body);
      expect((await api('GET', `${BASE}/showings/${showing.id}`)).body).to.deep.equal(response.body);
    });

    it('when only the prices of a showing are patched, should keep its time and film', async () => {
      const showing = await makeShowing();
      const response = await api('PATCH', `${BASE}/showings/${showing.id}`, { body: { prices: { standard: 1 } } });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body).to.include({ startsAt: showing.startsAt, endsAt: showing.endsAt, filmId: showing.filmId });
      expect(response.body.prices).to.deep.equal({ ...showing.prices, standard: 1 });
    });

    it('when a showing is deleted, should answer 204 and then 404 SHOWING_NOT_FOUND everywhere', async () => {
      const showing = await makeShowing();
      await expectDeleted(`${BASE}/showings`, showing.id, 'SHOWING_NOT_FOUND', { prices: { standard: 1 } });
    });

    it('when the showing of a hall is deleted, should let the hall be deleted afterwards', async () => {
      const showing = await makeShowing();
      expect((await api('DELETE', `${BASE}/showings/${showing.id}`)).status).to.equal(204);
      const deleted = await api('DELETE', `${BASE}/halls/${showing.hallId}`);
      expect(deleted.status, JSON.stringify(deleted.body)).to.equal(204);
    });
  });
});
