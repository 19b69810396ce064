import { expect } from 'chai';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { pino } from 'pino';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { createApp } from '../api/app.js';
import { addressBucket } from '../api/http/rate-limits.js';
import { parseConfig, type ProcessConfig } from '../host/config.js';
import type { Wiring } from '../host/deps.js';
import { httpRoutes, ROLES } from '../host/roles.js';
import { createSharedCounters } from '../infra/rate-limiter.js';
import { freshShowing, orderBody } from './orders/support.js';
import { call, from, listen, startInstance, type Answer } from './instances.js';
import { freePort, startRedisServer, testSystem } from './system.js';

/**
 * Resolves once an instance's requests are counted: its counters' connection is a fresh one, and a
 * request that arrives before it is ready goes through uncounted (fail open). The count taken to find
 * out is wiped.
 */
async function countingFor(baseUrl: string, headers: Record<string, string>) {
  const { redis, config } = await testSystem();
  const key = `${config.REDIS_PREFIX}:rate-limit:ip:${headers['x-forwarded-for'] ?? '127.0.0.1'}`;
  for (let attempt = 0; attempt < 100; attempt += 1) {
    await call(baseUrl, 'GET', '/api/v1/cities', { headers });
    if ((await redis.del(key)) === 1) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${baseUrl} never counted a request`);
}

/** Expects a refusal as every error is answered, with Retry-After and the limit reached in the details. */
function expectRateLimited(answer: Answer, scope: string, limit: number) {
  expect(answer.status).to.equal(429);
  expect(answer.body.error.code).to.equal('RATE_LIMITED');
  expect(answer.body.error.details).to.include({ scope, limit, windowSeconds: 60 });
  const retryAfter = answer.headers.get('retry-after');
  expect(Number(retryAfter)).to.be.within(1, 60);
  expect(answer.body.error.details.retryAfterSeconds).to.equal(Number(retryAfter));
}

const statuses = (answers: Answer[]) => answers.map((answer) => answer.status);

describe('rate limits shared in Redis', function () {
  this.timeout(30_000);
  const instances: { server: Server; wiring: Wiring }[] = [];
  /** Two instances of one deployment (same database, same Redis prefix) behind a proxy on loopback. */
  let pair: [string, string];
  let config: ProcessConfig;
  const LIMITS = {
    RATE_LIMIT_PER_IP_PER_MINUTE: '10',
    RATE_LIMIT_ORDERS_PER_IP_PER_MINUTE: '4',
    RATE_LIMIT_ORDERS_PER_EMAIL_PER_MINUTE: '3',
    TRUST_PROXY: 'loopback',
  };

  before(async () => {
    const started = [await startInstance(LIMITS), await startInstance(LIMITS)];
    instances.push(...started);
    pair = [started[0]!.baseUrl, started[1]!.baseUrl];
    config = started[0]!.config;
    await Promise.all(started.map((instance, index) => countingFor(instance.baseUrl, from(`192.0.2.${index + 1}`))));
  });
  after(async () => {
    for (const { server, wiring } of instances.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await wiring.close();
    }
  });

  /** `count` requests at once, spread round-robin over the two instances. */
  const spread = (count: number, request: (baseUrl: string, index: number) => Promise<Answer>) =>
    Promise.all(Array.from({ length: count }, (_, index) => request(pair[index % 2]!, index)));

  it('when N requests from one client are spread round-robin over two instances, should admit exactly N and answer the rest 429 RATE_LIMITED with Retry-After', async () => {
    const answers = await spread(16, (baseUrl) =>
      call(baseUrl, 'GET', '/api/v1/cities', { headers: from('198.51.100.1') }),
    );
    expect(statuses(answers).filter((status) => status === 200)).to.have.length(10);
    const refused = answers.filter((answer) => answer.status !== 200);
    expect(refused).to.have.length(6);
    for (const answer of refused) expectRateLimited(answer, 'ip', 10);
    // Each instance refused some: the count is the deployment's, not a process's.
    expect(statuses(answers.filter((_, index) => index % 2 === 0))).to.include(429);
    expect(statuses(answers.filter((_, index) => index % 2 === 1))).to.include(429);

    const { redis } = await testSystem();
    expect(await redis.keys(`${config.REDIS_PREFIX}:rate-limit:ip:198.51.100.1`)).to.have.length(1);
    // Another client is not affected.
    expect((await call(pair[0], 'GET', '/api/v1/cities', { headers: from('198.51.100.2') })).status).to.equal(200);
  });

  it('when the fast path serves the requests, should limit them too', async () => {
    const { showing } = await freshShowing();
    const { routes } = await testSystem();
    const seatMap = Object.values(routes)
      .flat()
      .find((route) => route.path === '/showings/:id/seats');
    expect(seatMap?.fastPath).to.equal(true);
    const answers = await spread(13, (baseUrl) =>
      call(baseUrl, 'GET', `/api/v1/showings/${showing.id}/seats`, { headers: from('198.51.100.3') }),
    );
    expect(statuses(answers).filter((status) => status === 200)).to.have.length(10);
    for (const answer of answers.filter((one) => one.status !== 200)) expectRateLimited(answer, 'ip', 10);
  });

  it('when a client probes, scrapes or calls as the workers do, should never limit /healthz, /readyz, /metrics nor internal calls', async () => {
    const client = from('198.51.100.4');
    const probes = await spread(36, (baseUrl, index) =>
      call(baseUrl, 'GET', ['/healthz', '/readyz', '/metrics'][index % 3]!, { headers: client }),
    );
    expect(new Set(statuses(probes))).to.deep.equal(new Set([200]));
    const internal = { ...client, authorization: `Bearer ${config.PAYMENT_SERVICE_KEY}` };
    const charges = await spread(15, (baseUrl) =>
      call(baseUrl, 'GET', `/api/v1/charges?reference=${randomUUID()}`, { headers: internal }),
    );
    expect(new Set(statuses(charges))).to.deep.equal(new Set([200]));
    // The same client's API calls are still counted: none of the above was.
    const reads = await spread(11, (baseUrl) => call(baseUrl, 'GET', '/api/v1/films', { headers: client }));
    expect(statuses(reads).filter((status) => status === 429)).to.have.length(1);
  });

  it('when one customer email submits more orders than its limit from many addresses, should refuse the rest 429, whatever the case of the address', async () => {
    const { showing, seats } = await freshShowing(8);
    const emails = ['Limited@Example.com', 'limited@example.com', 'LIMITED@example.com', 'limited@EXAMPLE.com'];
    const answers = await spread(5, (baseUrl, index) =>
      call(baseUrl, 'POST', '/api/v1/orders', {
        headers: { ...from(`198.51.100.${10 + index}`), 'idempotency-key': randomUUID() },
        body: orderBody(showing.id, [seats[index]!.id], emails[index % emails.length]),
      }),
    );
    expect(statuses(answers).filter((status) => status === 202)).to.have.length(3);
    const refused = answers.filter((answer) => answer.status !== 202);
    expect(refused).to.have.length(2);
    for (const answer of refused) expectRateLimited(answer, 'orders-per-email', 3);
    // Through express as well (a quoted charset is not the fast path's to take).
    const throughExpress = await call(pair[1], 'POST', '/api/v1/orders', {
      headers: {
        ...from('198.51.100.16'),
        'idempotency-key': randomUUID(),
        'content-type': 'application/json; charset="utf-8"',
      },
      body: orderBody(showing.id, [seats[5]!.id], 'limited@example.com'),
    });
    expectRateLimited(throughExpress, 'orders-per-email', 3);
    const other = await call(pair[0], 'POST', '/api/v1/orders', {
      headers: { ...from('198.51.100.20'), 'idempotency-key': randomUUID() },
      body: orderBody(showing.id, [seats[6]!.id], 'someone-else@example.com'),
    });
    expect(other.status).to.equal(202);
  });

  it('when one address submits more orders than its limit, should refuse the rest 429 before reading them, under the stricter limit of orders', async () => {
    const { showing, seats } = await freshShowing(8);
    // express routes every spelling of the path to the submission: each counts as one.
    const spellings = ['/api/v1/orders', '/api/v1/ORDERS', '/api/v1/Orders/'];
    const answers = await spread(6, (baseUrl, index) =>
      call(baseUrl, 'POST', spellings[index % spellings.length]!, {
        headers: { ...from('198.51.100.30'), 'idempotency-key': randomUUID() },
        body: orderBody(showing.id, [seats[index]!.id], `buyer-${index}@example.com`),
      }),
    );
    expect(statuses(answers).filter((status) => status === 202)).to.have.length(4);
    for (const answer of answers.filter((one) => one.status !== 202)) expectRateLimited(answer, 'orders-per-ip', 4);
  });

  it('when X-Forwarded-For comes from a proxy TRUST_PROXY names, should count each client apart; from any other, should count the connection', async () => {
    // Behind loopback (trusted): four clients, one request each, whatever they put in front of the chain.
    const clients = ['198.51.100.40', '198.51.100.41', '198.51.100.42', '198.51.100.43'];
    for (const client of clients) {
      for (let i = 0; i < 3; i += 1) {
        const answer = await call(pair[i % 2]!, 'GET', '/api/v1/cities', {
          headers: from(`203.0.113.${i}, ${client}`),
        });
        expect(answer.status).to.equal(200);
      }
    }
    const answers = await spread(9, (baseUrl) =>
      call(baseUrl, 'GET', '/api/v1/cities', { headers: from(`203.0.113.99, ${clients[0]}`) }),
    );
    expect(statuses(answers).filter((status) => status === 429)).to.have.length(2);

    // An instance that trusts another proxy: the same headers all count against 127.0.0.1.
    const untrusting = await startInstance({ ...LIMITS, RATE_LIMIT_PER_IP_PER_MINUTE: '3', TRUST_PROXY: '192.0.2.1' });
    instances.push(untrusting);
    await countingFor(untrusting.baseUrl, {});
    const direct: Answer[] = [];
    for (const client of clients) {
      direct.push(await call(untrusting.baseUrl, 'GET', '/api/v1/cities', { headers: from(client) }));
    }
    expect(statuses(direct)).to.deep.equal([200, 200, 200, 429]);
    expectRateLimited(direct[3]!, 'ip', 3);
  });

  it('when clients come over IPv6, should count each /64 as one client', () => {
    expect(addressBucket('2001:db8:1:2::a')).to.equal(addressBucket('2001:db8:1:2:ffff::b'));
    expect(addressBucket('2001:db8:1:2::a')).to.equal('2001:db8:1:2::/64');
    expect(addressBucket('2001:db8:1:3::a')).to.not.equal(addressBucket('2001:db8:1:2::a'));
    expect(addressBucket('::ffff:192.0.2.7')).to.equal('192.0.2.7');
    expect(addressBucket('192.0.2.7')).to.equal('192.0.2.7');
  });

  it('when the limits are not set, should have production defaults, and 0 should switch each off', () => {
    const defaults = parseConfig({});
    expect([
      defaults.RATE_LIMIT_PER_IP_PER_MINUTE,
      defaults.RATE_LIMIT_ORDERS_PER_IP_PER_MINUTE,
      defaults.RATE_LIMIT_ORDERS_PER_EMAIL_PER_MINUTE,
    ]).to.deep.equal([1200, 60, 10]);
    expect(parseConfig({ RATE_LIMIT_PER_IP_PER_MINUTE: '0' }).RATE_LIMIT_PER_IP_PER_MINUTE).to.equal(0);
    expect(() => parseConfig({ RATE_LIMIT_ORDERS_PER_EMAIL_PER_MINUTE: '-1' })).to.throw(
      /RATE_LIMIT_ORDERS_PER_EMAIL_PER_MINUTE/,
    );
  });

  it('when the limits’ Redis goes away, should serve every request at once and log one throttled warning', async () => {
    const lines: { level: number; kind?: string; msg: string }[] = [];
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().trim().split('\n')) lines.push(JSON.parse(line));
          done();
        },
      }),
    );
    const { deps, routes, readiness } = await testSystem();
    const port = await freePort();
    const redis = await startRedisServer(port);
    const shared = createSharedCounters(
      { redisUrl: `redis://127.0.0.1:${port}`, redisPrefix: 'outage', perMinute: { ip: 2, 'orders-email': 1 } },
      log,
    );
    const { server, baseUrl } = await listen(
      createApp({ ...deps, log }, httpRoutes(ROLES, routes), readiness, {
        trustProxy: 'loopback',
        rateLimits: { perIp: shared.counters.ip, ordersPerEmail: shared.counters['orders-email'] },
      }),
    );
    try {
      await shared.ready();
      const counted: Answer[] = [];
      for (let i = 0; i < 3; i += 1)
        counted.push(await call(baseUrl, 'GET', '/api/v1/cities', { headers: from('198.51.100.50') }));
      expect(statuses(counted)).to.deep.equal([200, 200, 429]);

      const exited = once(redis, 'exit');
      redis.kill('SIGKILL');
      await exited;
      const { showing, seats } = await freshShowing();
      const started = performance.now();
      const answers: Answer[] = [];
      for (let i = 0; i < 10; i += 1) {
        answers.push(await call(baseUrl, 'GET', '/api/v1/cities', { headers: from('198.51.100.51') }));
      }
      for (let i = 0; i < 3; i += 1) {
        answers.push(
          await call(baseUrl, 'POST', '/api/v1/orders', {
            headers: { ...from(`198.51.100.${52 + i}`), 'idempotency-key': randomUUID() },
            body: orderBody(showing.id, [seats[i]!.id], 'unlimited@example.com'),
          }),
        );
      }
      expect(statuses(answers)).to.deep.equal([...Array(10).fill(200), 202, 202, 202]);
      expect(performance.now() - started).to.be.below(2_000);
      const warnings = lines.filter((line) => line.kind === 'rate-limits');
      expect(warnings).to.have.length(1);
      expect(warnings[0]!.level).to.equal(40);
      expect(lines.filter((line) => line.level >= 50)).to.deep.equal([]);
    } finally {
      server.close();
      await shared.close();
      if (redis.exitCode === null && redis.signalCode === null) redis.kill('SIGKILL');
    }
  });
});
