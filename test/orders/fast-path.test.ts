import { expect } from 'chai';
import express from 'express';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createApp } from '../../api/app.js';
import { rawRequest, type RawAnswer } from '../raw-http.js';
import { testSystem } from '../system.js';
import { freshShowing, orderBody } from './support.js';

type Answer = RawAnswer;

/** Sends exactly this GET (or HEAD) with these headers. */
const get = (port: number, path: string, headers: Record<string, string> = {}, method = 'GET') =>
  rawRequest(port, method, path, headers);

/** Sends exactly these headers and bytes to POST /api/v1/orders. */
const post = (port: number, headers: Record<string, string>, body: string) =>
  rawRequest(port, 'POST', '/api/v1/orders', headers, body);

async function listen(listener: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  const server = createServer(listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

describe('orders: the submit fast path against express', () => {
  let withFastPath: { server: Server; port: number };
  let expressOnly: { server: Server; port: number };
  /** Requests the app with the fast path handed to express. */
  let handedToExpress = 0;

  before(async () => {
    const { deps, routes: byRole, readiness } = await testSystem();
    const routes = Object.values(byRole).flat();
    // express copies `handle` onto each app it creates: an app created meanwhile counts its requests.
    const application = express.application as unknown as { handle: (...args: unknown[]) => unknown };
    const handle = application.handle;
    application.handle = function counted(this: unknown, ...args: unknown[]) {
      handedToExpress += 1;
      return handle.apply(this, args);
    };
    try {
      withFastPath = await listen(createApp(deps, routes, readiness));
    } finally {
      application.handle = handle;
    }
    expressOnly = await listen(
      createApp(
        deps,
        routes.map(({ fastPath: _fastPath, ...route }) => route),
        readiness,
      ),
    );
  });
  after(() =>
    Promise.all([withFastPath, expressOnly].map(({ server }) => new Promise((resolve) => server.close(resolve)))),
  );

  it('when the same requests come to both, should answer the same, and take the plain ones without express', async () => {
    const { showing, seats } = await freshShowing(8);
    const free = [...seats];
    const json = { 'content-type': 'application/json' };
    const valid = () => JSON.stringify(orderBody(showing.id, [free.shift()!.id]));
    const cases: [string, () => Record<string, string>, () => string, 'fast path' | 'express'][] = [
      ['a valid order', () => ({ ...json, 'idempotency-key': randomUUID() }), valid, 'fast path'],
      [
        'charset=utf-8',
        () => ({ 'content-type': 'application/json; charset=utf-8', 'idempotency-key': randomUUID() }),
        valid,
        'fast path',
      ],
      [
        'a byte-order mark',
        () => ({ ...json, 'idempotency-key': randomUUID() }),
        () => `\uFEFF${valid()}`,
        'fast path',
      ],
      ['no Idempotency-Key', () => json, valid, 'fast path'],
      [
        'an invalid e-mail',
        () => ({ ...json, 'idempotency-key': randomUUID() }),
        () => JSON.stringify(orderBody(showing.id, [seats[0]!.id], 'x')),
        'fast path',
      ],
      [
        'an unknown showing',
        () => ({ ...json, 'idempotency-key': randomUUID() }),
        () => JSON.stringify(orderBody(987_654_321, [seats[0]!.id])),
        'fast path',
      ],
      ['broken JSON', () => ({ ...json, 'idempotency-key': randomUUID() }), () => '{"showingId":', 'fast path'],
      ['a JSON string', () => ({ ...json, 'idempotency-key': randomUUID() }), () => '"order"', 'fast path'],
      [
        'latin1',
        () => ({ 'content-type': 'application/json; charset=latin1', 'idempotency-key': randomUUID() }),
        valid,
        'express',
      ],
      ['text/plain', () => ({ 'content-type': 'text/plain', 'idempotency-key': randomUUID() }), valid, 'express'],
    ];
    for (const [what, headers, body, expectedPath] of cases) {
      const before = handedToExpress;
      const fast = await post(withFastPath.port, headers(), body());
      expect(handedToExpress - before, `${what}: served by`).to.equal(expectedPath === 'express' ? 1 : 0);
      const reference = await post(expressOnly.port, headers(), body());
      expect(fast.status, what).to.equal(reference.status);
      expect(fast.type, what).to.equal(reference.type);
      if (reference.status < 300) {
        expect(Object.keys(fast.body), what).to.have.members(Object.keys(reference.body));
        const shape = (answer: Answer) => ({
          status: answer.body.status,
          showingId: answer.body.showingId,
          seats: answer.body.seats.length,
        });
        expect(shape(fast), what).to.deep.equal(shape(reference));
      } else {
        expect(fast.body, what).to.deep.equal(reference.body);
      }
    }
  });

  it('when the same reads come to both, should answer the same bytes and ETags, and take the plain ones without express', async () => {
    const { showing } = await freshShowing(8);
    const seatMap = `/api/v1/showings/${showing.id}/seats`;
    const city = (await get(withFastPath.port, `/api/v1/showings/${showing.id}`)).body.cityId;
    const date = new Date(showing.startsAt).toISOString().slice(0, 10);
    const schedule = `/api/v1/schedule?cityId=${city}&date=${date}`;
    const current = (await get(expressOnly.port, seatMap)).etag!;
    const cases: [string, string, Record<string, string>, 'fast path' | 'express', string?][] = [
      ['a seat map', seatMap, {}, 'fast path'],
      ['a seat map not changed since its ETag', seatMap, { 'if-none-match': current }, 'fast path'],
      ['a seat map with a stale ETag', seatMap, { 'if-none-match': '"0-0"' }, 'fast path'],
      ['an unknown showing', '/api/v1/showings/987654321/seats', {}, 'fast path'],
      ['an id that is no number', '/api/v1/showings/abc/seats', {}, 'fast path'],
      ['a query the route does not read', `${seatMap}?x=1`, {}, 'express'],
      ['malformed percent-encoding', '/api/v1/showings/%ZZ/seats', {}, 'express'],
      ['another spelling of the path', `/API/v1/showings/${showing.id}/seats`, {}, 'express'],
      ['a trailing slash', `${seatMap}/`, {}, 'express'],
      ['HEAD', seatMap, {}, 'express', 'HEAD'],
      ['a schedule', schedule, {}, 'fast path'],
      ['a schedule with a bad date', `/api/v1/schedule?cityId=${city}&date=tomorrow`, {}, 'fast path'],
      ['a schedule of no city', `/api/v1/schedule?cityId=987654321&date=${date}`, {}, 'fast path'],
    ];
    for (const [what, path, headers, expectedPath, method] of cases) {
      const before = handedToExpress;
      const fast = await get(withFastPath.port, path, headers, method);
      expect(handedToExpress - before, `${what}: served by`).to.equal(expectedPath === 'express' ? 1 : 0);
      const reference = await get(expressOnly.port, path, headers, method);
      expect([fast.status, fast.type, fast.etag], what).to.deep.equal([
        reference.status,
        reference.type,
        reference.etag,
      ]);
      expect(fast.body, what).to.deep.equal(reference.body);
    }
  });
});
