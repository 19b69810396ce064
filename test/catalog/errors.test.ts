import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { connect } from 'node:net';
import { rawRequest } from '../raw-http.js';
import { makeCinema, makeCity, makeFilm, makeHall, makeShowing, smallLayout } from '../factories.js';
import { api, testSystem, type ApiResponse } from '../system.js';
import {
  BASE,
  at,
  expectError,
  futureDate,
  insertOrder,
  insertSoldTickets,
  uniqueName,
  validationProblems,
} from './crud-support.js';

const UNKNOWN_ID = 9_007_199_254_740_991;
const ENTITIES = [
  { path: '/cities', notFound: 'CITY_NOT_FOUND' },
  { path: '/cinemas', notFound: 'CINEMA_NOT_FOUND' },
  { path: '/halls', notFound: 'HALL_NOT_FOUND' },
  { path: '/films', notFound: 'FILM_NOT_FOUND' },
  { path: '/showings', notFound: 'SHOWING_NOT_FOUND' },
] as const;

/** A valid PATCH body per entity, so that only the id (or the token) can be what is wrong. */
const VALID_PATCH: Record<(typeof ENTITIES)[number]['path'], object> = {
  '/cities': { name: 'Patched' },
  '/cinemas': { name: 'Patched' },
  '/halls': { name: 'Patched' },
  '/films': { title: 'Patched' },
  '/showings': { prices: { standard: 1 } },
};

/** One of each entity, for tests that need existing ids. */
async function oneOfEach() {
  const showing = await makeShowing();
  const hall = await api('GET', `${BASE}/halls/${showing.hallId}`);
  const cinema = await api('GET', `${BASE}/cinemas/${hall.body.cinemaId}`);
  return {
    '/cities': cinema.body.cityId as number,
    '/cinemas': cinema.body.id as number,
    '/halls': showing.hallId,
    '/films': showing.filmId,
    '/showings': showing.id,
  };
}

/** Valid create bodies, built on existing parents. */
async function validCreateBodies() {
  const cinema = await makeCinema();
  const hall = await makeHall({ cinemaId: cinema.id });
  const film = await makeFilm();
  return {
    '/cities': { name: uniqueName('City') },
    '/cinemas': {
      cityId: cinema.cityId,
      name: uniqueName('Cinema'),
      timezone: 'UTC',
      address: 'Main 1',
      currency: 'RUB',
      defaultPrices: { vip: 1 },
    },
    '/halls': { cinemaId: cinema.id, name: uniqueName('Hall'), layout: smallLayout() },
    '/films': { title: uniqueName('Film'), durationMinutes: 90 },
    '/showings': {
      hallId: hall.id,
      filmId: film.id,
      startsAt: at(futureDate(30), '12:00'),
      prices: { standard: 1, vip: 2 },
    },
  };
}

describe('catalog errors', () => {
  describe('400 VALIDATION_FAILED', () => {
    it('when a body has a field the entity does not have, should reject it and name the field', async () => {
      const problems = validationProblems(
        await api('POST', `${BASE}/cities`, { body: { name: uniqueName('City'), population: 5 } }),
      );
      expect(problems).to.have.length(1);
      expect(problems[0]).to.include({ in: 'body', path: '' });
      expect(problems[0]!.message).to.include('population');

      const film = await makeFilm();
      const patched = validationProblems(
        await api('PATCH', `${BASE}/films/${film.id}`, { body: { title: 'New', rating: 5 } }),
      );
      expect(patched[0]!.message).to.include('rating');
      expect((await api('GET', `${BASE}/films/${film.id}`)).body).to.deep.equal(film);
    });

    it('when a field not changeable by PATCH is sent, should reject it (a hall cannot move, a showing cannot change hall)', async () => {
      const showing = await makeShowing();
      const other = await makeCinema();
      const hallProblems = validationProblems(
        await api('PATCH', `${BASE}/halls/${showing.hallId}`, { body: { cinemaId: other.id } }),
      );
      expect(hallProblems[0]!.message).to.include('cinemaId');
      const showingProblems = validationProblems(
        await api('PATCH', `${BASE}/showings/${showing.id}`, { body: { hallId: showing.hallId } }),
      );
      expect(showingProblems[0]!.message).to.include('hallId');
    });

    it('when a layout row or seat has an unknown field, should reject it with its path', async () => {
      const cinema = await makeCinema();
      const layout = { rows: [{ label: 'A', seats: [{ number: 1 }, { number: 2, colour: 'red' }] }] };
      const problems = validationProblems(
        await api('POST', `${BASE}/halls`, { body: { cinemaId: cinema.id, name: 'H', layout } }),
      );
      expect(problems).to.have.length(1);
      expect(problems[0]).to.include({ in: 'body', path: 'layout.rows.0.seats.1' });
      expect(problems[0]!.message).to.include('colour');
    });

    it('when fields have the wrong types, should report every one of them', async () => {
      const problems = validationProblems(
        await api('POST', `${BASE}/films`, {
          body: { title: 123, durationMinutes: '100', description: false, ageRating: ['12+'] },
        }),
      );
      expect(problems.map((problem) => [problem.in, problem.path])).to.have.deep.members([
        ['body', 'title'],
        ['body', 'durationMinutes'],
        ['body', 'description'],
        ['body', 'ageRating'],
      ]);
    });

    it('when a reference id in a body is not a number, should reject it rather than coerce it', async () => {
      const city = await makeCity();
      for (const cityId of [true, [city.id], String(city.id), { id: city.id }]) {
        const response = await api('POST', `${BASE}/cinemas`, {
          body: { cityId, name: uniqueName('Cinema'), timezone: 'UTC' },
        });
        const problems = validationProblems(response);
        expect(
          problems.map((problem) => problem.path),
          JSON.stringify(cityId),
        ).to.deep.equal(['cityId']);
      }
      const cinemas = await api('GET', `${BASE}/cities/${city.id}/cinemas`);
      expect(cinemas.body.data).to.deep.equal([]);
    });

    it('when numbers are out of range or not whole, should reject them', async () => {
      const cases: [string, object, string][] = [
        ['/films', { title: 'F', durationMinutes: 0 }, 'durationMinutes'],
        ['/films', { title: 'F', durationMinutes: 601 }, 'durationMinutes'],
        ['/films', { title: 'F', durationMinutes: 90.5 }, 'durationMinutes'],
        ['/cinemas', { cityId: -1, name: 'C', timezone: 'UTC' }, 'cityId'],
        ['/cinemas', { cityId: 1, name: 'C', timezone: 'UTC', defaultPrices: { vip: -5 } }, 'defaultPrices.vip'],
        ['/cinemas', { cityId: 1, name: 'C', timezone: 'UTC', defaultPrices: { premium: 5 } }, 'defaultPrices'],
      ];
      for (const [path, body, field] of cases) {
        const problems = validationProblems(await api('POST', `${BASE}${path}`, { body }));
        expect(
          problems.map((problem) => problem.path),
          JSON.stringify(body),
        ).to.include(field);
      }
    });

    it('when a string is only whitespace or too long, should reject it', async () => {
      for (const name of ['   ', 'x'.repeat(121)]) {
        const problems = validationProblems(await api('POST', `${BASE}/cities`, { body: { name } }));
        expect(problems.map((problem) => problem.path)).to.deep.equal(['name']);
      }
    });

    it('when a time zone, currency or timestamp is not in the required format, should reject it', async () => {
      const city = await makeCity();
      const problems = validationProblems(
        await api('POST', `${BASE}/cinemas`, {
          body: { cityId: city.id, name: 'C', timezone: '+03:00', currency: 'rub' },
        }),
      );
      expect(problems.map((problem) => problem.path)).to.have.members(['timezone', 'currency']);
      const showing = validationProblems(
        await api('POST', `${BASE}/showings`, { body: { hallId: 1, filmId: 1, startsAt: '2099-01-01 10:00' } }),
      );
      expect(showing.map((problem) => problem.path)).to.deep.equal(['startsAt']);
    });

    it('when a query has a parameter the endpoint does not know, should reject it', async () => {
      const list = validationProblems(await api('GET', `${BASE}/cities?sort=name`, { token: null }));
      expect(list).to.have.length(1);
      expect(list[0]).to.include({ in: 'query' });
      expect(list[0]!.message).to.include('sort');
      const city = await makeCity();
      const item = validationProblems(await api('GET', `${BASE}/cities/${city.id}?expand=cinemas`, { token: null }));
      expect(item[0]).to.include({ in: 'query' });
    });

    it('when an id in the path is not a number, should answer 400 for every method and entity', async () => {
      for (const { path } of ENTITIES) {
        for (const id of ['abc', '1.5', '0', '-4', '1e999']) {
          for (const method of ['GET', 'PATCH', 'DELETE']) {
            const response = await api(
              method,
              `${BASE}${path}/${id}`,
              method === 'PATCH' ? { body: VALID_PATCH[path] } : {},
            );
            const problems = validationProblems(response);
            expect(
              problems.every((problem) => problem.in === 'params' && problem.path === 'id'),
              `${method} ${path}/${id}`,
            ).to.equal(true);
          }
        }
      }
    });

    it('when an id in the path is not valid percent-encoding, should answer 400 and not 500', async () => {
      for (const { path } of ENTITIES) {
        for (const id of ['%ZZ', '%E0%A4%A', '%']) {
          const problems = validationProblems(await api('GET', `${BASE}${path}/${id}`, { token: null }));
          expect(problems, `${path}/${id}`).to.deep.equal([
            { in: 'params', path: '', message: 'not valid percent-encoding' },
          ]);
        }
      }
      validationProblems(await api('GET', `${BASE}/films/%ZZ/showings`, { token: null }));
    });

    it('when an id is beyond 2^53-1, should answer 400, while 2^53-1 itself is a plain 404', async () => {
      for (const { path, notFound } of ENTITIES) {
        for (const id of ['9007199254740992', '99999999999999999999999999']) {
          const problems = validationProblems(await api('GET', `${BASE}${path}/${id}`));
          expect(problems.map((problem) => problem.in)).to.include('params');
        }
        expectError(await api('GET', `${BASE}${path}/9007199254740991`), 404, notFound);
      }
      const relation = validationProblems(await api('GET', `${BASE}/films/9007199254740992/showings`));
      expect(relation[0]).to.include({ in: 'params', path: 'id' });
    });

    it('when a string contains a NUL character, should answer 400 and not reach the database', async () => {
      const cinema = await makeCinema();
      const film = await makeFilm();
      const cases: [string, string, object, string][] = [
        ['POST', '/cities', { name: 'Bad\u0000City' }, 'name'],
        ['POST', '/films', { title: 'Film', durationMinutes: 90, description: 'a\u0000b' }, 'description'],
        ['PATCH', `/films/${film.id}`, { ageRating: '\u0000' }, 'ageRating'],
        ['PATCH', `/cinemas/${cinema.id}`, { address: 'Main\u0000street' }, 'address'],
        [
          'POST',
          '/halls',
          { cinemaId: cinema.id, name: 'Hall', layout: { rows: [{ label: 'A\u0000', seats: [{ number: 1 }] }] } },
          'layout.rows.0.label',
        ],
      ];
      for (const [method, path, body, field] of cases) {
        const problems = validationProblems(await api(method, `${BASE}${path}`, { body }));
        expect(problems, `${method} ${path}`).to.deep.include({
          in: 'body',
          path: field,
          message: 'must not contain NUL characters',
        });
      }
    });

    it('when a string contains a lone surrogate, should answer 400 rather than store a replacement character', async () => {
      const cinema = await makeCinema();
      const cases: [string, object, string][] = [
        ['/cities', { name: 'City \ud800' }, 'name'],
        [
          '/halls',
          { cinemaId: cinema.id, name: 'Hall', layout: { rows: [{ label: '\udc00', seats: [{ number: 1 }] }] } },
          'layout.rows.0.label',
        ],
      ];
      for (const [path, body, field] of cases) {
        const problems = validationProblems(await api('POST', `${BASE}${path}`, { body }));
        expect(problems, path).to.deep.equal([
          { in: 'body', path: field, message: 'must be valid Unicode (no lone surrogates)' },
        ]);
      }
      // Characters outside the BMP are whole surrogate pairs and fine.
      const name = uniqueName('Кино 🎬');
      const created = await api('POST', `${BASE}/cities`, { body: { name } });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(created.body.name).to.equal(name);
    });

    it('when a PATCH body is empty, should answer 400 for every entity', async () => {
      const ids = await oneOfEach();
      for (const { path } of ENTITIES) {
        for (const options of [{ body: {} }, {}]) {
          const problems = validationProblems(await api('PATCH', `${BASE}${path}/${ids[path]}`, options));
          expect(problems, path).to.deep.equal([
            { in: 'body', path: '', message: 'give at least one field to change' },
          ]);
        }
      }
    });

    it('when params, query and body are all wrong, should report the problems of all three at once', async () => {
      const problems = validationProblems(
        await api('PATCH', `${BASE}/cities/abc?verbose=1`, { body: { nickname: 'x' } }),
      );
      expect([...new Set(problems.map((problem) => problem.in))]).to.deep.equal(['params', 'query', 'body']);
      expect(problems.find((problem) => problem.in === 'query')!.message).to.include('verbose');
      expect(problems.find((problem) => problem.in === 'body')!.message).to.include('nickname');
    });

    it('when a date filter names the year 0000, which PostgreSQL has not, should answer 400 and not 500', async () => {
      const film = await makeFilm();
      const problems = validationProblems(await api('GET', `${BASE}/films/${film.id}/showings?date=0000-01-01`));
      expect(problems).to.deep.include({ in: 'query', path: 'date', message: problems[0]!.message });
      expect(problems.map((problem) => problem.path)).to.deep.equal(['date']);
      validationProblems(await api('GET', `${BASE}/showings?date=0000-12-31`));
      const valid = await api('GET', `${BASE}/showings?date=0001-01-01`);
      expect(valid.status).to.equal(200);
    });
  });

  describe('400 MALFORMED_JSON and other unreadable bodies', () => {
    it('when the body is not valid JSON, should answer 400 MALFORMED_JSON', async () => {
      for (const rawBody of [
        '{"name": ',
        "{'name': 'x'}",
        '{"name": "x",}',
        'name=x',
        'null',
        '"just a string"',
        '{"name": "x"} trailing',
      ]) {
        const error = expectError(await api('POST', `${BASE}/cities`, { rawBody }), 400, 'MALFORMED_JSON');
        expect(error.message, rawBody).to.equal('The request body is not valid JSON');
      }
    });

    it('when the body is JSON but not an object, should answer 400 VALIDATION_FAILED', async () => {
      for (const rawBody of ['[]', '[{"name":"x"}]']) {
        const problems = validationProblems(await api('POST', `${BASE}/cities`, { rawBody }));
        expect(problems[0]).to.include({ in: 'body', path: '' });
      }
    });

    it('when the body is not compressed as its Content-Encoding claims, should answer 400 MALFORMED_JSON and not 500', async () => {
      for (const encoding of ['gzip', 'deflate', 'br']) {
        const response = await api('POST', `${BASE}/cities`, {
          rawBody: '{"name":"x"}',
          headers: { 'content-encoding': encoding },
        });
        const error = expectError(response, 400, 'MALFORMED_JSON');
        expect(error.message, encoding).to.equal('The request body could not be read');
      }
    });

    it('when the body is real gzipped JSON, should read it', async () => {
      const { baseUrl } = await testSystem();
      const name = uniqueName('Gzip city');
      const response = await fetch(`${baseUrl}${BASE}/cities`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          authorization: 'Bearer test-admin-token-0123456789',
        },
        body: gzipSync(JSON.stringify({ name })),
      });
      expect(response.status).to.equal(201);
      expect(((await response.json()) as { name: string }).name).to.equal(name);
    });

    it('when the body is over 1 MB, should answer 413 PAYLOAD_TOO_LARGE', async () => {
      expectError(
        await api('POST', `${BASE}/cities`, { rawBody: JSON.stringify({ name: 'x'.repeat(1_100_000) }) }),
        413,
        'PAYLOAD_TOO_LARGE',
      );
    });

    it("when Node's parser refuses a request (headers over 16 KB, bytes that are not HTTP), should still answer with a JSON code", async () => {
      const { baseUrl } = await testSystem();
      const port = Number(new URL(baseUrl).port);
      const huge = await rawRequest(port, 'GET', `${BASE}/cities`, { 'x-padding': 'a'.repeat(20_000) });
      expect(huge.status).to.equal(431);
      expect(huge.body).to.deep.equal({
        error: { code: 'HEADERS_TOO_LARGE', message: 'The request headers are too large' },
      });
      // Not HTTP at all: answered before the connection closes.
      const socket = connect(port, '127.0.0.1');
      socket.end('NOT HTTP\r\n\r\n');
      const chunks: Buffer[] = [];
      for await (const chunk of socket) chunks.push(chunk as Buffer);
      const [head, body] = Buffer.concat(chunks).toString().split('\r\n\r\n');
      expect(head).to.match(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(body!).error.code).to.equal('MALFORMED_REQUEST');
    });

    it('when the body is text, a form or XML, should answer 415 UNSUPPORTED_MEDIA_TYPE and not list every field as missing', async () => {
      for (const [type, body] of [
        ['text/plain', '{"name":"x"}'],
        ['application/x-www-form-urlencoded', 'name=x'],
        ['application/xml', '<city><name>x</name></city>'],
      ]) {
        const response = await api('POST', `${BASE}/cities`, { rawBody: body, headers: { 'content-type': type! } });
        expect(expectError(response, 415, 'UNSUPPORTED_MEDIA_TYPE').message, type).to.include('application/json');
      }
      // A JSON type with a suffix is JSON.
      const suffixed = await api('POST', `${BASE}/cities`, {
        rawBody: JSON.stringify({ name: uniqueName('City') }),
        headers: { 'content-type': 'application/vnd.cinema+json' },
      });
      expect(suffixed.status, JSON.stringify(suffixed.body)).to.equal(201);
    });

    it('when the body is in a charset other than UTF-8, should answer 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      const response = await api('POST', `${BASE}/cities`, {
        rawBody: '{"name":"x"}',
        headers: { 'content-type': 'application/json; charset=latin1' },
      });
      expectError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });
  });

  describe('401 and 403', () => {
    it('when a write comes without a token, should answer 401 UNAUTHORIZED for every write of every entity', async () => {
      const ids = await oneOfEach();
      for (const { path } of ENTITIES) {
        const writes: [string, string, object][] = [
          ['POST', `${BASE}${path}`, VALID_PATCH[path]],
          ['PATCH', `${BASE}${path}/${ids[path]}`, VALID_PATCH[path]],
          ['DELETE', `${BASE}${path}/${ids[path]}`, {}],
        ];
        for (const [method, url, body] of writes) {
          const error = expectError(await api(method, url, { token: null, body }), 401, 'UNAUTHORIZED');
          expect(error.message).to.include('Bearer');
        }
      }
      // Nothing was deleted.
      for (const { path } of ENTITIES)
        expect((await api('GET', `${BASE}${path}/${ids[path]}`)).status, path).to.equal(200);
    });

    it('when the Authorization header is not a Bearer token, should answer 401 UNAUTHORIZED', async () => {
      for (const authorization of [
        'Basic dXNlcjpwYXNz',
        'Bearer',
        'Bearer ',
        'test-admin-token-0123456789',
        'Bearer a b',
      ]) {
        const response = await api('POST', `${BASE}/cities`, {
          token: null,
          headers: { authorization },
          body: { name: uniqueName('City') },
        });
        expectError(response, 401, 'UNAUTHORIZED');
      }
    });

    it('when the token is wrong, should answer 403 FORBIDDEN and change nothing', async () => {
      const city = await makeCity();
      for (const token of [
        'wrong-token',
        'test-admin-token-012345678',
        'test-admin-token-0123456789x',
        'TEST-ADMIN-TOKEN-0123456789',
      ]) {
        expectError(
          await api('PATCH', `${BASE}/cities/${city.id}`, { token, body: { name: 'Hacked' } }),
          403,
          'FORBIDDEN',
        );
        expectError(await api('DELETE', `${BASE}/cities/${city.id}`, { token }), 403, 'FORBIDDEN');
      }
      expect((await api('GET', `${BASE}/cities/${city.id}`)).body).to.deep.equal(city);
    });

    it('when the scheme is written in another case, should accept the right token', async () => {
      const response = await api('POST', `${BASE}/cities`, {
        token: null,
        headers: { authorization: 'bearer test-admin-token-0123456789' },
        body: { name: uniqueName('City') },
      });
      expect(response.status, JSON.stringify(response.body)).to.equal(201);
    });

    it('when an invalid write comes without a token, should answer 401 before looking at the body', async () => {
      expectError(await api('POST', `${BASE}/films`, { token: null, body: { nonsense: true } }), 401, 'UNAUTHORIZED');
      expectError(await api('PATCH', `${BASE}/films/abc`, { token: 'wrong', body: {} }), 403, 'FORBIDDEN');
    });

    it('when any read is made without a token, should answer 200', async () => {
      const ids = await oneOfEach();
      const reads = [
        ...ENTITIES.flatMap(({ path }) => [`${path}`, `${path}/${ids[path]}`]),
        `/cities/${ids['/cities']}/cinemas`,
        `/cinemas/${ids['/cinemas']}/halls`,
        `/cinemas/${ids['/cinemas']}/showings`,
        `/halls/${ids['/halls']}/showings`,
        `/films/${ids['/films']}/showings`,
      ];
      for (const read of reads) {
        const response = await api('GET', `${BASE}${read}`, { token: null });
        expect(response.status, read).to.equal(200);
      }
      // The showing itself is readable, and a wrong token does not spoil a read either.
      const showing = await api('GET', `${BASE}/showings/${ids['/showings']}`, { token: 'wrong' });
      expect(showing.status).to.equal(200);
      expect(showing.body.id).to.equal(ids['/showings']);
    });
  });

  describe('404', () => {
    it('when an id does not exist, should answer 404 with the entity code for GET, PATCH and DELETE', async () => {
      for (const { path, notFound } of ENTITIES) {
        const error = expectError(await api('GET', `${BASE}${path}/${UNKNOWN_ID}`, { token: null }), 404, notFound);
        expect(error.message).to.include(String(UNKNOWN_ID));
        expectError(await api('PATCH', `${BASE}${path}/${UNKNOWN_ID}`, { body: VALID_PATCH[path] }), 404, notFound);
        expectError(await api('DELETE', `${BASE}${path}/${UNKNOWN_ID}`), 404, notFound);
      }
    });

    it('when a create or change refers to a parent that does not exist, should answer 404 with the parent code', async () => {
      const bodies = await validCreateBodies();
      const cinema = await makeCinema();
      const showing = await makeShowing();
      const cases: [string, string, object, string][] = [
        ['POST', '/cinemas', { ...bodies['/cinemas'], cityId: UNKNOWN_ID }, 'CITY_NOT_FOUND'],
        ['PATCH', `/cinemas/${cinema.id}`, { cityId: UNKNOWN_ID }, 'CITY_NOT_FOUND'],
        ['POST', '/halls', { ...bodies['/halls'], cinemaId: UNKNOWN_ID }, 'CINEMA_NOT_FOUND'],
        ['POST', '/showings', { ...bodies['/showings'], hallId: UNKNOWN_ID }, 'HALL_NOT_FOUND'],
        ['POST', '/showings', { ...bodies['/showings'], filmId: UNKNOWN_ID }, 'FILM_NOT_FOUND'],
        ['PATCH', `/showings/${showing.id}`, { filmId: UNKNOWN_ID }, 'FILM_NOT_FOUND'],
      ];
      for (const [method, path, body, code] of cases) {
        expectError(await api(method, `${BASE}${path}`, { body }), 404, code);
      }
      expect((await api('GET', `${BASE}/cinemas/${cinema.id}`)).body).to.deep.equal(cinema);
      expect((await api('GET', `${BASE}/showings/${showing.id}`)).body.filmId).to.equal(showing.filmId);
    });

    it('when no route matches, should answer 404 ROUTE_NOT_FOUND naming the method and path', async () => {
      const cases: [string, string][] = [
        ['GET', `${BASE}/theatres`],
        ['GET', '/nowhere'],
        ['PUT', `${BASE}/cities/1`],
        ['POST', `${BASE}/cities/1`],
        ['DELETE', `${BASE}/cities`],
        ['GET', `${BASE}/cities/1/halls`],
      ];
      for (const [method, path] of cases) {
        const error = expectError(
          await api(method, path, { body: method === 'GET' || method === 'DELETE' ? undefined : {} }),
          404,
          'ROUTE_NOT_FOUND',
        );
        expect(error.message).to.equal(`No route for ${method} ${path}`);
      }
    });
  });

  describe('409 conflicts', () => {
    it('when a city name is taken in any letter case, should answer 409 CITY_NAME_TAKEN on create and rename', async () => {
      const city = await makeCity();
      for (const name of [city.name, city.name.toUpperCase(), city.name.toLowerCase(), `  ${city.name}  `]) {
        expectError(await api('POST', `${BASE}/cities`, { body: { name } }), 409, 'CITY_NAME_TAKEN');
      }
      const other = await makeCity();
      const error = expectError(
        await api('PATCH', `${BASE}/cities/${other.id}`, { body: { name: city.name.toUpperCase() } }),
        409,
        'CITY_NAME_TAKEN',
      );
      expect(error.message).to.include(city.name.toUpperCase());
      expect((await api('GET', `${BASE}/cities/${other.id}`)).body).to.deep.equal(other);
    });

    it('when a city with cinemas is deleted, should answer 409 CITY_HAS_CINEMAS and keep it', async () => {
      const cinema = await makeCinema();
      expectError(await api('DELETE', `${BASE}/cities/${cinema.cityId}`), 409, 'CITY_HAS_CINEMAS');
      expect((await api('GET', `${BASE}/cities/${cinema.cityId}`)).status).to.equal(200);
    });

    it('when a cinema with halls is deleted, should answer 409 CINEMA_HAS_HALLS and keep it', async () => {
      const hall = await makeHall();
      expectError(await api('DELETE', `${BASE}/cinemas/${hall.cinemaId}`), 409, 'CINEMA_HAS_HALLS');
      expect((await api('GET', `${BASE}/cinemas/${hall.cinemaId}`)).status).to.equal(200);
    });

    it('when a hall with a showing is deleted, should answer 409 HALL_HAS_SHOWINGS and keep it', async () => {
      const showing = await makeShowing();
      expectError(await api('DELETE', `${BASE}/halls/${showing.hallId}`), 409, 'HALL_HAS_SHOWINGS');
      expect((await api('GET', `${BASE}/halls/${showing.hallId}`)).status).to.equal(200);
    });

    it('when the layout of a hall with a showing is patched, should answer 409 HALL_HAS_SHOWINGS and keep the seats', async () => {
      const showing = await makeShowing();
      const before = (await api('GET', `${BASE}/halls/${showing.hallId}`)).body;
      expectError(
        await api('PATCH', `${BASE}/halls/${showing.hallId}`, { body: { layout: smallLayout(6) } }),
        409,
        'HALL_HAS_SHOWINGS',
      );
      expectError(
        await api('PATCH', `${BASE}/halls/${showing.hallId}`, { body: { name: 'New name', layout: smallLayout(6) } }),
        409,
        'HALL_HAS_SHOWINGS',
      );
      expect((await api('GET', `${BASE}/halls/${showing.hallId}`)).body).to.deep.equal(before);
      // Renaming alone is still allowed.
      const renamed = await api('PATCH', `${BASE}/halls/${showing.hallId}`, { body: { name: uniqueName('Renamed') } });
      expect(renamed.status, JSON.stringify(renamed.body)).to.equal(200);
      expect(renamed.body.layout).to.deep.equal(before.layout);
    });

    it('when a film with a showing is deleted, should answer 409 FILM_HAS_SHOWINGS and keep it', async () => {
      const showing = await makeShowing();
      expectError(await api('DELETE', `${BASE}/films/${showing.filmId}`), 409, 'FILM_HAS_SHOWINGS');
      expect((await api('GET', `${BASE}/films/${showing.filmId}`)).status).to.equal(200);
    });

    it('when a hall name is taken in the same cinema, should answer 409 HALL_NAME_TAKEN on create and rename', async () => {
      const cinema = await makeCinema();
      const name = uniqueName('Hall');
      await makeHall({ cinemaId: cinema.id, name } as object);
      expectError(
        await api('POST', `${BASE}/halls`, { body: { cinemaId: cinema.id, name, layout: smallLayout() } }),
        409,
        'HALL_NAME_TAKEN',
      );
      const second = await makeHall({ cinemaId: cinema.id });
      expectError(await api('PATCH', `${BASE}/halls/${second.id}`, { body: { name } }), 409, 'HALL_NAME_TAKEN');
      // The same name in another cinema is fine.
      const elsewhere = await api('POST', `${BASE}/halls`, {
        body: { cinemaId: (await makeCinema()).id, name, layout: smallLayout() },
      });
      expect(elsewhere.status, JSON.stringify(elsewhere.body)).to.equal(201);
      const halls = await api('GET', `${BASE}/cinemas/${cinema.id}/halls`);
      expect(
        halls.body.data.map((hall: { name: string }) => hall.name).filter((hallName: string) => hallName === name),
      ).to.have.length(1);
    });

    it('when a showing with an order is deleted, should answer 409 SHOWING_HAS_ORDERS and keep it', async () => {
      const showing = await makeShowing();
      const hall = (await api('GET', `${BASE}/halls/${showing.hallId}`)).body;
      await insertOrder(showing.id, [hall.layout.rows[0].seats[0].id]);
      expectError(await api('DELETE', `${BASE}/showings/${showing.id}`), 409, 'SHOWING_HAS_ORDERS');
      expect((await api('GET', `${BASE}/showings/${showing.id}`)).status).to.equal(200);
    });

    it('when the start of a showing with a sold ticket is patched, should answer 409 SHOWING_HAS_TICKETS; prices may still change', async () => {
      const showing = await makeShowing();
      const hall = (await api('GET', `${BASE}/halls/${showing.hallId}`)).body;
      await insertSoldTickets(showing, [hall.layout.rows[0].seats[0].id]);
      const later = new Date(Date.parse(showing.startsAt) + 86_400_000).toISOString();
      expectError(
        await api('PATCH', `${BASE}/showings/${showing.id}`, { body: { startsAt: later } }),
        409,
        'SHOWING_HAS_TICKETS',
      );
      expectError(
        await api('PATCH', `${BASE}/showings/${showing.id}`, { body: { filmId: (await makeFilm()).id } }),
        409,
        'SHOWING_HAS_TICKETS',
      );
      const current = (await api('GET', `${BASE}/showings/${showing.id}`)).body;
      expect(current).to.include({
        startsAt: showing.startsAt,
        filmId: showing.filmId,
        freeSeats: showing.freeSeats - 1,
      });
      const repriced = await api('PATCH', `${BASE}/showings/${showing.id}`, { body: { prices: { standard: 50_000 } } });
      expect(repriced.status, JSON.stringify(repriced.body)).to.equal(200);
      expect(repriced.body.prices.standard).to.equal(50_000);
    });
  });

  describe('fuzzing', () => {
    const ODD_VALUES: unknown[] = [
      0,
      -1,
      1.5,
      2 ** 31,
      2 ** 64,
      1e308,
      -1e308,
      '',
      '\u0000',
      'x'.repeat(10_000),
      '🎬'.repeat(5_000),
      'Ünïcödé 映画 \u202e',
      '\ud800',
      "'; DROP TABLE cities; --",
      '1',
      '0x10',
      '2099-13-45',
      '0000-01-01',
      '0000-01-01T00:00:00Z',
      '9999-12-31T23:59:59Z',
      '2099-01-01T00:00:00+23:59',
      true,
      null,
      [],
      [1, 2],
      {},
      { a: { b: { c: { d: 1 } } } },
      { constructor: 'x', toString: 1 },
      { rows: [] },
    ];

    /** Replaces the value at a dotted path of a copy of the body. */
    function withValue(body: object, path: string, value: unknown): object {
      const copy = structuredClone(body) as Record<string, any>;
      const keys = path.split('.');
      let target = copy;
      for (const key of keys.slice(0, -1)) target = target[key];
      target[keys.at(-1)!] = value;
      return copy;
    }

    /** Responses that broke the contract: a 5xx, or an error without the standard envelope. */
    function contractBreaks(label: string, response: ApiResponse): string[] {
      if (response.status >= 500)
        return [`${label} -> ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`];
      if (response.status >= 400) {
        const error = response.body?.error;
        if (typeof error?.code !== 'string' || typeof error?.message !== 'string')
          return [`${label} -> ${response.status} without an error envelope`];
      }
      return [];
    }

    async function inBatches(requests: (() => Promise<string[]>)[], size = 10): Promise<string[]> {
      const breaks: string[] = [];
      for (let start = 0; start < requests.length; start += size) {
        const results = await Promise.all(requests.slice(start, start + size).map((request) => request()));
        breaks.push(...results.flat());
      }
      return breaks;
    }

    it('when odd values are posted or patched into any field, should never answer 5xx', async () => {
      const bodies = await validCreateBodies();
      const ids = await oneOfEach();
      const creates: Record<string, string[]> = {
        '/cities': ['name'],
        '/cinemas': ['cityId', 'name', 'timezone', 'currency', 'defaultPrices'],
        '/halls': [
          'cinemaId',
          'name',
          'layout.rows',
          'layout.rows.0.label',
          'layout.rows.0.seats',
          'layout.rows.0.seats.0.number',
          'layout.rows.0.seats.0.x',
          'layout.rows.0.seats.0.category',
        ],
        '/films': ['title', 'durationMinutes', 'description', 'ageRating'],
        '/showings': ['hallId', 'filmId', 'startsAt', 'prices', 'prices.standard'],
      };
      const patches: Record<string, string[]> = {
        '/cities': ['name'],
        '/cinemas': ['cityId', 'timezone', 'defaultPrices'],
        '/halls': ['name', 'layout'],
        '/films': ['title', 'durationMinutes'],
        '/showings': ['filmId', 'startsAt', 'prices'],
      };
      const requests: (() => Promise<string[]>)[] = [];
      for (const value of ODD_VALUES) {
        const shown = JSON.stringify(value)?.slice(0, 40);
        for (const [path, fields] of Object.entries(creates)) {
          const body = bodies[path as keyof typeof bodies];
          for (const field of fields) {
            requests.push(async () => {
              // A name-like field must stay unique so that a success does not block the next one.
              const fresh = 'name' in body && field !== 'name' ? { ...body, name: uniqueName('Fuzz') } : body;
              return contractBreaks(
                `POST ${path} ${field}=${shown}`,
                await api('POST', `${BASE}${path}`, { body: withValue(fresh, field, value) }),
              );
            });
          }
          requests.push(async () =>
            contractBreaks(`POST ${path} body=${shown}`, await api('POST', `${BASE}${path}`, { body: value })),
          );
        }
        for (const [path, fields] of Object.entries(patches)) {
          const id = ids[path as keyof typeof ids];
          for (const field of fields) {
            requests.push(async () =>
              contractBreaks(
                `PATCH ${path} ${field}=${shown}`,
                await api('PATCH', `${BASE}${path}/${id}`, { body: { [field]: value } }),
              ),
            );
          }
        }
        let encoded: string | undefined;
        try {
          encoded = encodeURIComponent(typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null'));
        } catch {
          encoded = undefined; // a lone surrogate cannot be put in a URL
        }
        // Node itself answers 431 to a URL over 16 KB, before the application sees it.
        if (encoded !== undefined && encoded.length < 4_000) {
          const q = encoded;
          for (const url of [`/cities/${q}`, `/showings?date=${q}`, `/films/${ids['/films']}/showings?from=${q}`]) {
            requests.push(async () =>
              contractBreaks(`GET ${url.slice(0, 60)}`, await api('GET', `${BASE}${url}`, { token: null })),
            );
          }
        }
      }
      expect(requests.length).to.be.greaterThan(900);
      const breaks = await inBatches(requests);
      expect(breaks, breaks.slice(0, 20).join('\n')).to.deep.equal([]);
    });

    it('when odd raw bodies are sent, should never answer 5xx', async () => {
      const film = await makeFilm();
      const raw = [
        '',
        ' ',
        '{',
        '}',
        '{}}',
        '[',
        '"',
        '\u0000',
        '{"name":"\\u0000"}',
        '{"name":"\\ud800"}',
        '{"__proto__":{"name":"x"}}',
        '{"name":1e999}',
        `{"name":${'['.repeat(20_000)}${']'.repeat(20_000)}}`,
        `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`,
        '{"name":"a","name":"b"}',
        '\ufeff{"name":"bom"}',
        'true',
        '12',
        '{"title":"x"}'.repeat(1_000),
      ];
      const requests = raw.flatMap((rawBody) => [
        async () =>
          contractBreaks(`POST /cities ${rawBody.slice(0, 30)}`, await api('POST', `${BASE}/cities`, { rawBody })),
        async () =>
          contractBreaks(
            `PATCH /films ${rawBody.slice(0, 30)}`,
            await api('PATCH', `${BASE}/films/${film.id}`, { rawBody }),
          ),
      ]);
      const breaks = await inBatches(requests);
      expect(breaks, breaks.join('\n')).to.deep.equal([]);
    });
  });
});
