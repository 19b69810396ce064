import { expect } from 'chai';
import express from 'express';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import { createApp } from '../../api/app.js';
import { testSystem } from '../system.js';
import { freshShowing, orderBody } from './support.js';

type Answer = { status: number; type: string | undefined; body: any };

/** Sends exactly these headers and bytes to POST /api/v1/orders. */
function post(port: number, headers: Record<string, string>, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/orders', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          type: res.headers['content-type'],
          body: JSON.parse(Buffer.concat(chunks).toString()),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

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
});
