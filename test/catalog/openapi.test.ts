import { createConfig, lintFromString } from '@redocly/openapi-core';
import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import { API_BASE } from '../../api/http/base.js';
import type { Route } from '../../api/http/route.js';
import { makeCinema, makeCity, makeFilm, makeHall, makeShowing } from '../factories.js';
import { api, testSystem } from '../system.js';

type Operation = {
  operationId: string;
  security?: Record<string, string[]>[];
  parameters: { name: string; in: string; required: boolean }[];
  requestBody?: unknown;
  responses: Record<string, { content?: unknown; headers?: Record<string, unknown> }>;
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme: string }> };
};

let allRoutes: Route[] = [];
let catalogRoutes: Route[] = [];
const documentedPath = (route: Route) => API_BASE + route.path.replace(/:(\w+)/g, '{$1}');
const key = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

function routeFor(method: string, path: string): Route {
  const route = allRoutes.find((candidate) => candidate.method === method && candidate.path === path);
  expect(route, `${method} ${path} is a route`).to.not.equal(undefined);
  expect(route!.response, `${method} ${path} declares its response`).to.not.equal(undefined);
  return route!;
}

/** The real body must parse with the schema the route documents. */
function expectDocumented(method: string, path: string, body: unknown) {
  const result = routeFor(method, path).response!.safeParse(body);
  expect(result.success, `${method} ${path}: ${JSON.stringify(result.error?.issues)}`).to.equal(true);
}

describe('OpenAPI document', () => {
  let document: Document;
  const validator = new Validator();

  before(async () => {
    const { routes } = await testSystem();
    allRoutes = Object.values(routes).flat();
    catalogRoutes = routes.catalog;
    const response = await api<Document>('GET', `${API_BASE}/openapi.json`, { token: null });
    expect(response.status).to.equal(200);
    document = response.body;
  });

  it('when the document is fetched, should be valid OpenAPI 3.1', async () => {
    expect(document.openapi).to.equal('3.1.0');
    const result = await validator.validate(structuredClone(document));
    expect(result.errors, JSON.stringify(result.errors)).to.equal(undefined);
    expect(result.valid).to.equal(true);
    expect(validator.version).to.equal('3.1');
  });

  it('when a part of the document is broken, should be caught by the validator (so the check above can fail)', async () => {
    const broken = structuredClone(document) as unknown as {
      paths: Record<string, Record<string, { responses: unknown }>>;
    };
    broken.paths[`${API_BASE}/cities`]!.get!.responses = 'none';
    const result = await validator.validate(broken);
    expect(result.valid).to.equal(false);
  });

  it('when its paths are compared with the routes of every role, should document each route and nothing else', () => {
    const expected = new Set(allRoutes.map((route) => key(route.method, documentedPath(route))));
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => key(method, path)),
      ),
    );
    expect([...documented].sort()).to.deep.equal([...expected].sort());
    expect(expected.size).to.equal(allRoutes.length);
    expect(documented).to.include(key('get', `${API_BASE}/schedule`));
    expect(documented).to.include(key('patch', `${API_BASE}/showings/{id}`));
  });

  it("when the document is linted with Redocly's recommended rules, should have no error", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: JSON.stringify(document), absoluteRef: '/openapi.json', config });
    const errors = problems
      .filter((problem) => problem.severity === 'error')
      .map((problem) => `${problem.ruleId} at ${problem.location[0]?.pointer}: ${problem.message}`);
    expect(errors).to.deep.equal([]);
  });

  it('when a route needs a token, should say which with its bearer security schemes (any one will do), and only then', () => {
    const schemes = document.components.securitySchemes;
    for (const scheme of ['adminToken', 'operatorKey', 'paymentServiceKey', 'orderAccessToken']) {
      expect(schemes[scheme], scheme).to.include({ type: 'http', scheme: 'bearer' });
    }
    expect(schemes.orderAccessTokenQuery).to.include({ type: 'apiKey', in: 'query', name: 'token' });
    const expectedSecurity: Record<string, unknown> = {
      admin: [{ adminToken: [] }],
      manager: [{ adminToken: [] }, { operatorKey: [] }],
      serviceKey: [{ paymentServiceKey: [] }],
    };
    for (const route of allRoutes) {
      const operation = document.paths[documentedPath(route)]![route.method]!;
      const name = key(route.method, route.path);
      if (route.guard) {
        expect(operation.security, name).to.deep.equal(expectedSecurity[route.guard]);
        expect(operation.responses, name).to.include.keys('401', '403');
      } else if (route.operatorView) {
        expect(operation.security, name).to.deep.equal([{}, { operatorKey: [] }]);
      } else if (route.orderToken) {
        expect(operation.security, name).to.deep.equal([{ orderAccessToken: [] }, { orderAccessTokenQuery: [] }]);
      } else {
        expect(operation.security, name).to.deep.equal([]);
        expect(operation.responses, name).not.to.include.keys('401', '403');
      }
    }
    // Every catalog write needs a token; buyers' writes (orders) live under the tickets role.
    const catalogWrites = catalogRoutes.filter((route) => route.method !== 'get');
    expect(catalogWrites.length).to.be.above(0);
    expect(
      catalogWrites.filter((route) => route.guard === undefined).map((route) => key(route.method, route.path)),
    ).to.deep.equal([]);
  });

  it('when a route has a path parameter, should document it as required; each operation id should be unique', () => {
    const ids = new Set<string>();
    for (const route of allRoutes) {
      const operation = document.paths[documentedPath(route)]![route.method]!;
      ids.add(operation.operationId);
      for (const [, name] of route.path.matchAll(/:(\w+)/g)) {
        const parameter = operation.parameters.find((p) => p.name === name && p.in === 'path');
        expect(parameter?.required, `${key(route.method, route.path)} documents :${name}`).to.equal(true);
      }
      const success = String(route.status ?? 200);
      expect(operation.responses, key(route.method, route.path)).to.include.keys(success);
      expect(Boolean(operation.responses[success]!.content)).to.equal(success !== '204');
      expect(Boolean(operation.requestBody)).to.equal(route.body !== undefined);
    }
    expect(ids.size).to.equal(allRoutes.length);
  });

  it('when the schedule route is documented, should list its query parameters with cityId and date required, and the conditional header', () => {
    const parameters = document.paths[`${API_BASE}/schedule`]!.get!.parameters;
    expect(parameters.map((p) => [p.name, p.in, p.required])).to.deep.equal([
      ['cityId', 'query', true],
      ['date', 'query', true],
      ['filmId', 'query', false],
      ['if-none-match', 'header', false],
    ]);
  });

  it('when an answer carries headers a client acts on, should document them: where and when to poll, the ETag', () => {
    const headersOf = (path: string, method: string, status: string) =>
      Object.keys(document.paths[`${API_BASE}${path}`]![method]!.responses[status]!.headers ?? {});
    expect(headersOf('/orders', 'post', '202')).to.deep.equal(['Location', 'Retry-After', 'ETag']);
    expect(headersOf('/orders', 'post', '200')).to.deep.equal(['ETag']);
    expect(headersOf('/orders/{id}', 'get', '200')).to.deep.equal(['ETag', 'Retry-After']);
    expect(headersOf('/showings/{id}/seats', 'get', '200')).to.deep.equal(['ETag']);
    expect(headersOf('/schedule', 'get', '200')).to.deep.equal(['ETag']);
    expect(headersOf('/orders/{id}/payment', 'post', '200')).to.deep.equal(['ETag']);
    for (const path of ['/orders/{id}', '/showings/{id}/seats', '/schedule']) {
      expect(document.paths[`${API_BASE}${path}`]!.get!.responses, `${path} documents its 304`).to.have.property('304');
    }
    expect(document.paths[`${API_BASE}/orders`]!.post!.responses, 'a write is never 304').to.not.have.property('304');
  });

  it('when /docs is opened, should answer 200 with the HTML of the API explorer', async () => {
    const response = await api<string>('GET', '/docs/', { token: null });
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^text\/html/);
    expect(response.body).to.be.a('string').and.to.include('swagger-ui');
    const bare = await api<string>('GET', '/docs', { token: null });
    expect(bare.status).to.equal(200);
    expect(bare.headers.get('content-type')).to.match(/^text\/html/);
  });

  describe('real responses', () => {
    it('when a city is created, read and listed, should match the documented bodies', async () => {
      await makeCity();
      await makeCity();
      const created = await api('POST', '/api/v1/cities', { body: { name: `Documented ${Date.now()}` } });
      expect(created.status).to.equal(201);
      expectDocumented('post', '/cities', created.body);
      const read = await api('GET', `/api/v1/cities/${created.body.id}`, { token: null });
      expectDocumented('get', '/cities/:id', read.body);
      const list = await api('GET', '/api/v1/cities?limit=3', { token: null });
      expect(list.body.data).to.have.length(3);
      expectDocumented('get', '/cities', list.body);
    });

    it('when a hall with its layout is read, should match the documented body', async () => {
      const hall = await makeHall({
        layout: {
          rows: [
            {
              label: 'A',
              seats: [
                { number: 1, category: 'double' },
                { number: 2, x: 4, category: 'wheelchair' },
              ],
            },
          ],
        },
      });
      const read = await api('GET', `/api/v1/halls/${hall.id}`, { token: null });
      expect(read.body.layout.rows[0].seats).to.have.length(2);
      expectDocumented('get', '/halls/:id', read.body);
      expectDocumented('post', '/halls', hall);
      const list = await api('GET', `/api/v1/cinemas/${hall.cinemaId}/halls`, { token: null });
      expect(list.body.data).to.have.length(1);
      expectDocumented('get', '/cinemas/:id/halls', list.body);
    });

    it('when a showing is read, listed and shown in a schedule, should match the documented bodies', async () => {
      const city = await makeCity();
      const cinema = await makeCinema({ cityId: city.id, timezone: 'Europe/Moscow' });
      const hall = await makeHall({ cinemaId: cinema.id });
      const film = await makeFilm({ ageRating: '12+' });
      const date = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
      const showing = await makeShowing({ hallId: hall.id, filmId: film.id, startsAt: `${date}T12:00:00+03:00` });
      expectDocumented('post', '/showings', showing);

      const read = await api('GET', `/api/v1/showings/${showing.id}`, { token: null });
      expectDocumented('get', '/showings/:id', read.body);
      const list = await api('GET', `/api/v1/showings?cinemaId=${cinema.id}`, { token: null });
      expect(list.body.data.map((s: { id: number }) => s.id)).to.deep.equal([showing.id]);
      expectDocumented('get', '/showings', list.body);
      const ofFilm = await api('GET', `/api/v1/films/${film.id}/showings`, { token: null });
      expectDocumented('get', '/films/:id/showings', ofFilm.body);

      const schedule = await api('GET', `/api/v1/schedule?cityId=${city.id}&date=${date}`, { token: null });
      expect(schedule.body.cinemas[0].films[0].showings[0].showingId).to.equal(showing.id);
      expectDocumented('get', '/schedule', schedule.body);
    });

    it('when a body does not fit a documented schema, should be caught (so the checks above can fail)', () => {
      const result = routeFor('get', '/schedule').response!.safeParse({
        cityId: 1,
        cityName: 'X',
        date: '2027-01-01',
        cinemas: [{}],
      });
      expect(result.success).to.equal(false);
    });
  });
});
