import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createApp } from '../api/app.js';
import { parseConfig } from '../host/config.js';
import { createDeps } from '../host/deps.js';
import { httpRoutes, ROLES, routesByRole } from '../host/roles.js';
import { eventually } from './orders/support.js';
import { freshShowing } from './orders/support.js';
import { freePort, spawnProcess, startRedisServer } from './system.js';

type Answer = { status: number; ms: number; headers: Headers; body: any };

async function call(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const started = Date.now();
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    ms: Date.now() - started,
    headers: response.headers,
    body: text ? JSON.parse(text) : undefined,
  } as Answer;
}

const readyz = async (baseUrl: string) => (await fetch(`${baseUrl}/readyz`)).status;

describe('a store that goes away', () => {
  it('when Redis goes away under a running process, should keep serving, answer every write at once, log a few structured lines, and catch up when Redis is back', async function () {
    this.timeout(90_000);
    const redisPort = await freePort();
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    let redis = await startRedisServer(redisPort);
    const service = await spawnProcess('catalog,tickets,workers,payments,realtime', 'realtime started', {
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      PORT: String(port),
      PAYMENT_SERVICE_URL: `${baseUrl}/api/v1`,
      CONFIRM_WITHOUT_PAYMENT: 'false',
    });
    try {
      const { showing, seats } = await freshShowing();
      const order = (seatId: number) =>
        call(
          baseUrl,
          'POST',
          '/api/v1/orders',
          { showingId: showing.id, seatIds: [seatId], customer: { email: 'buyer@example.com' } },
          {
            'idempotency-key': randomUUID(),
            prefer: 'wait=5',
          },
        );
      const toPay = (await order(seats[0]!.id)).body;
      const toCancel = (await order(seats[1]!.id)).body;
      expect([toPay.status, toCancel.status]).to.deep.equal(['awaiting_payment', 'awaiting_payment']);

      redis.kill('SIGKILL');
      await once(redis, 'exit');
      const outageStarted = service.output().length;
      await eventually('the process to say it is not ready', async () =>
        (await readyz(baseUrl)) === 503 ? true : undefined,
      );

      const seatMap = await call(baseUrl, 'GET', `/api/v1/showings/${showing.id}/seats`);
      const queued = await order(seats[2]!.id);
      const paid = await call(
        baseUrl,
        'POST',
        `/api/v1/orders/${toPay.id}/payment`,
        { token: 'tok_ok' },
        { authorization: `Bearer ${toPay.accessToken}` },
      );
      const cancelled = await call(baseUrl, 'POST', `/api/v1/orders/${toCancel.id}/cancel`, undefined, {
        authorization: `Bearer ${toCancel.accessToken}`,
      });
      expect([seatMap.status, queued.status, paid.status, cancelled.status]).to.deep.equal([200, 202, 200, 200]);
      expect([queued.body.status, paid.body.status, cancelled.body.status]).to.deep.equal([
        'queued',
        'awaiting_payment',
        'cancelled',
      ]);
      // Committed writes answer without waiting for Redis (they used to hang for 20 s, or answer 500 after 3.7 s).
      expect(Math.max(queued.ms, paid.ms, cancelled.ms)).to.be.below(2_000);

      // Five seconds of outage: every line structured, no errors, and a few throttled warnings. Info
      // lines are not counted: the process shares the suite's database, and its sweeps log each order
      // of earlier tests whose hold expires meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      const lines = service.output().slice(outageStarted).trim().split('\n');
      expect(
        lines.filter((line) => !line.startsWith('{') || JSON.parse(line).level > 40),
        'unstructured or error lines',
      ).to.deep.equal([]);
      const warnings = lines.filter((line) => JSON.parse(line).level === 40);
      expect(warnings.length, warnings.join('\n')).to.be.within(1, 20);

      redis = await startRedisServer(redisPort);
      const redisBack = Date.now();
      await eventually(
        'the process to be ready again',
        async () => ((await readyz(baseUrl)) === 200 ? true : undefined),
        20_000,
      );
      const decided = await eventually(
        'the order queued during the outage to be decided',
        async () => {
          const view = await call(baseUrl, 'GET', `/api/v1/orders/${queued.body.id}`, undefined, {
            authorization: `Bearer ${queued.body.accessToken}`,
          });
          return view.body.status === 'queued' ? undefined : view.body;
        },
        20_000,
      );
      expect(decided.status).to.equal('awaiting_payment');
      // The workers reconnect within a second of Redis coming back (infra/job-queues.ts).
      expect(Date.now() - redisBack).to.be.below(8_000);
      const confirmed = await eventually(
        'the order paid during the outage to be charged',
        async () => {
          const view = await call(baseUrl, 'GET', `/api/v1/orders/${toPay.id}`, undefined, {
            authorization: `Bearer ${toPay.accessToken}`,
          });
          return view.body.status === 'confirmed' ? view.body : undefined;
        },
        20_000,
      );
      expect(confirmed.paymentStatus).to.equal('paid');
    } finally {
      const exited = once(service, 'exit');
      service.kill('SIGTERM');
      await exited;
      redis.kill('SIGKILL');
    }
  });

  it('when PostgreSQL cannot be reached, should answer 503 SERVICE_UNAVAILABLE with Retry-After on every path, report not ready at once, and log a few lines', async () => {
    const lines: { msg: string; level: number }[] = [];
    const capture = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().trim().split('\n')) lines.push(JSON.parse(line));
        done();
      },
    });
    const config = parseConfig({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/cinema',
      REDIS_PREFIX: `outage-${process.pid}`,
    });
    const { deps, readiness, close } = createDeps(config, pino({ level: 'info' }, capture));
    const server: Server = createServer(
      createApp(deps, httpRoutes(ROLES, routesByRole(deps, config)), readiness),
    ).listen(0);
    await once(server, 'listening');
    const baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const answers = [
        await call(baseUrl, 'GET', '/api/v1/cities'), // express
        await call(baseUrl, 'GET', '/api/v1/showings/1/seats'), // the fast path
        await call(
          baseUrl,
          'POST',
          '/api/v1/orders',
          { showingId: 1, seatIds: [1], customer: { email: 'buyer@example.com' } },
          {
            'idempotency-key': randomUUID(),
          },
        ),
      ];
      for (let i = 0; i < 20; i += 1) answers.push(await call(baseUrl, 'GET', '/api/v1/films'));
      for (const answer of answers) {
        expect([answer.status, answer.headers.get('retry-after'), answer.body.error.code]).to.deep.equal([
          503,
          '2',
          'SERVICE_UNAVAILABLE',
        ]);
      }
      const ready = await call(baseUrl, 'GET', '/readyz');
      expect([ready.status, ready.body.checks.database]).to.deep.equal([503, 'unavailable']);
      expect(ready.ms).to.be.below(1_500);
      expect(lines.filter((line) => line.level >= 50)).to.deep.equal([]);
      expect(lines.length).to.be.within(1, 4);
    } finally {
      server.close();
      await close();
    }
  });
});
