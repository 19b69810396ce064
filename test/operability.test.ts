import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { orderRoutes } from '../api/orders/routes.js';
import { io as connectClient, type Socket } from 'socket.io-client';
import type { ProcessConfig } from '../host/config.js';
import { runRoles, type RunningProcess } from '../host/process.js';
import { ROLES } from '../host/roles.js';
import { createLogger } from '../infra/logger.js';
import { eventually, freshShowing, orderBody, type OrderView, type PlacedView } from './orders/support.js';
import { CONTRACT_METRICS } from './metric-contract.js';
import { ADMIN_TOKEN, testSystem } from './system.js';

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; text: string; body: any };

/** Exactly this request (fetch would not send an Origin header as given), the answer's headers and body. */
function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<Answer> {
  const bytes = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const all = bytes
    ? { 'content-type': 'application/json', 'content-length': String(bytes.length), ...headers }
    : headers;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: all }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(bytes);
  });
}

type Line = Record<string, unknown> & { msg?: string };

/** A process of its own (all roles, or those given), logging at debug into `lines`. */
async function startProcess(overrides: Partial<ProcessConfig> = {}) {
  const { config } = await testSystem();
  const lines: Line[] = [];
  const log = createLogger('debug', {}, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
  const running: RunningProcess = await runRoles({ ...config, PORT: 0, ROLES: [...ROLES], ...overrides }, { log });
  const port = (running.server.address() as { port: number }).port;
  return { running, port, lines };
}

type Sample = { name: string; labels: Record<string, string>; value: number };

/** The samples of a Prometheus text exposition. */
function samplesOf(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [, name, labelText = '', value] = line.match(/^(\w+)(?:\{(.*)\})? (\S+)$/)!;
      const labels = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map(([, key, val]) => [key, val]));
      return { name: name!, labels, value: Number(value) };
    });
}

/** The value of the one sample of `name` whose labels include `labels` (0 when there is none). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter(
    (sample) => sample.name === name && Object.entries(labels).every(([key, val]) => sample.labels[key] === val),
  );
  expect(found.length, `${name} ${JSON.stringify(labels)}`).to.be.at.most(1);
  return found[0]?.value ?? 0;
}

const ALLOWED_ORIGIN = 'https://tickets.example';

describe('operability: metrics, access logs and request ids, security headers, CORS, the queue dashboard', () => {
  let system: Awaited<ReturnType<typeof startProcess>>;
  const sockets: Socket[] = [];

  const exposition = async () => {
    const answer = await send(system.port, 'GET', '/metrics');
    expect(answer.status).to.equal(200);
    expect(answer.headers['content-type']).to.match(/^text\/plain/);
    return answer.text;
  };
  const scrape = async () => samplesOf(await exposition());
  const connect = async () => {
    const socket = connectClient(`http://127.0.0.1:${system.port}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
    });
    sockets.push(socket);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return socket;
  };
  const submit = (body: unknown, headers: Record<string, string> = {}) =>
    send(system.port, 'POST', '/api/v1/orders', { 'idempotency-key': randomUUID(), ...headers }, body);

  before(async () => {
    // Payments on, so the saga runs too; a browser origin allowed.
    system = await startProcess({ CONFIRM_WITHOUT_PAYMENT: false, CORS_ORIGINS: [ALLOWED_ORIGIN] });
  });
  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await system?.running.stop();
  });

  it('when an order is placed and decided and a socket connects, should move every series of /metrics', async () => {
    const text = await exposition();
    for (const [name, type] of Object.entries({
      ...CONTRACT_METRICS,
      process_cpu_seconds_total: 'counter',
      nodejs_eventloop_lag_seconds: 'gauge',
    })) {
      expect(text, name).to.include(`# TYPE ${name} ${type}\n`);
    }
    const before = await scrape();
    expect(before.every((sample) => sample.labels.role === ROLES.join(','))).to.equal(true);
    expect(valueOf(before, 'payment_breaker_open')).to.equal(0);
    for (let partition = 0; partition < system.running.deps.config.ALLOCATION_PARTITIONS; partition += 1) {
      expect(valueOf(before, 'allocation_queue_depth', { partition: String(partition) })).to.equal(0);
    }

    const { showing, seats } = await freshShowing();
    const placed = await submit(orderBody(showing.id, [seats[0]!.id]), { prefer: 'wait=5' });
    expect(placed.status, placed.text).to.equal(200);
    expect(placed.body.status).to.equal('awaiting_payment');
    const socket = await connect();
    const after = await scrape();

    const submits = { method: 'POST', route: '/api/v1/orders', status_code: '200' };
    const moved = (name: string, labels: Record<string, string> = {}) =>
      valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(moved('http_request_duration_seconds_count', submits)).to.equal(1);
    expect(moved('orders_decided_total', { outcome: 'awaiting_payment' })).to.equal(1);
    expect(moved('order_submit_to_decision_seconds_count')).to.equal(1);
    expect(moved('allocation_queue_wait_seconds_count')).to.equal(1);
    // Its duration covers the wait for the decision.
    expect(moved('http_request_duration_seconds_sum', submits)).to.be.at.least(
      valueOf(after, 'order_submit_to_decision_seconds_sum') - valueOf(before, 'order_submit_to_decision_seconds_sum'),
    );
    expect(valueOf(after, 'realtime_connected_sockets')).to.equal(1);
    // The route's pattern, never the URL: no order id in any label.
    expect(
      after.some((sample) => Object.values(sample.labels).some((value) => value.includes(placed.body.id))),
    ).to.equal(false);

    socket.disconnect();
    await eventually('the socket to be gone', async () =>
      valueOf(await scrape(), 'realtime_connected_sockets') === 0 ? true : undefined,
    );
  });

  it('when /metrics, /healthz or /readyz is asked in other letter cases, should not serve it (the proxies refuse those paths by exact case)', async () => {
    for (const path of ['/METRICS', '/Metrics', '/HEALTHZ', '/Readyz']) {
      expect((await send(system.port, 'GET', path)).status, path).to.equal(404);
    }
  });

  it('when a path has no route, should count it as route "unmatched"', async () => {
    const before = await scrape();
    const path = `/api/v1/nothing-here/${randomUUID()}`;
    expect((await send(system.port, 'GET', path)).status).to.equal(404);
    const after = await scrape();
    const labels = { method: 'GET', route: 'unmatched', status_code: '404' };
    expect(
      valueOf(after, 'http_request_duration_seconds_count', labels) -
        valueOf(before, 'http_request_duration_seconds_count', labels),
    ).to.equal(1);
  });

  it('when a client sets X-Request-Id, should return it and log it on the request, the decision, the payment and the push of that order', async () => {
    const requestId = `test-${randomUUID()}`;
    const { showing, seats } = await freshShowing();
    // The allocation's ticket INSERT waits behind this lock: the order stays queued until the socket
    // below has subscribed, so its decision is pushed (not folded into the subscription's answer).
    const { deps } = await testSystem();
    const hold = await deps.db.transaction();
    let placed: Answer;
    let updates: OrderView[] = [];
    try {
      await hold.raw('LOCK TABLE tickets IN SHARE MODE');
      placed = await submit(
        { ...orderBody(showing.id, [seats[0]!.id]), payment: { token: 'tok_ok' } },
        { 'x-request-id': requestId },
      );
      expect(placed.status, placed.text).to.equal(202);
      expect(placed.headers['x-request-id']).to.equal(requestId);
      const order = placed.body as PlacedView;
      const socket = await connect();
      socket.on('order:update', (view: OrderView) => (updates = [...updates, view]));
      const answer = await socket
        .timeout(5_000)
        .emitWithAck('order:subscribe', { orderId: order.id, token: order.accessToken });
      expect(answer.ok, JSON.stringify(answer)).to.equal(true);
      expect(answer.order.status).to.equal('queued');
    } finally {
      await hold.commit();
    }
    const order = placed.body as PlacedView;
    await eventually('the payment to be pushed', async () =>
      updates.some((view) => view.status === 'confirmed') ? true : undefined,
    );
    expect(updates.map((view) => view.status)).to.deep.equal(['awaiting_payment', 'confirmed']);

    const { lines } = system;
    const linesOf = (msg: string) => lines.filter((line) => line.msg === msg && line.requestId === requestId);
    const [access, ...more] = linesOf('request completed');
    expect(more).to.deep.equal([]);
    expect(access).to.include({ method: 'POST', route: '/api/v1/orders', status: 202, level: 30 });
    expect(access!.responseTime).to.be.a('number');
    expect(linesOf('order decided').map((line) => ({ orderId: line.orderId, status: line.status }))).to.deep.equal([
      { orderId: order.id, status: 'awaiting_payment' },
    ]);
    expect(linesOf('order updated').map((line) => [line.orderId, line.status, line.paymentStatus])).to.deep.include([
      order.id,
      'confirmed',
      'paid',
    ]);
    expect(linesOf('order update pushed').map((line) => [line.orderId, line.status, line.sockets])).to.deep.equal([
      [order.id, 'awaiting_payment', 1],
      [order.id, 'confirmed', 1],
    ]);
    // The decision reached the socket: timed from its commit.
    expect(valueOf(await scrape(), 'order_decision_to_push_seconds_count')).to.be.at.least(1);
    // No URL in the access log: a poll's access token stays out of the logs.
    expect(lines.some((line) => JSON.stringify(line).includes(order.accessToken))).to.equal(false);
  });

  it('when a client sends no X-Request-Id or one that is not a plain token, should make one up and return it', async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const probe = await send(system.port, 'GET', '/healthz');
    expect(probe.headers['x-request-id']).to.match(uuid);
    for (const unusable of ['has space', 'x'.repeat(129), 'semi;colon']) {
      const answer = await send(system.port, 'GET', '/api/v1/cities', { 'x-request-id': unusable });
      expect(answer.headers['x-request-id'], unusable).to.match(uuid);
    }
    const plain = `A-z_0.9:-${'x'.repeat(100)}`;
    expect(
      (await send(system.port, 'GET', '/api/v1/cities', { 'x-request-id': plain })).headers['x-request-id'],
    ).to.equal(plain);
    const { lines } = system;
    expect(lines.find((line) => line.requestId === plain)).to.include({
      msg: 'request completed',
      route: '/api/v1/cities',
      status: 200,
    });
    // Probes and scrapes are measured, not logged.
    expect(lines.filter((line) => line.requestId === probe.headers['x-request-id'])).to.deep.equal([]);
  });

  it('when the API answers on the fast path or through express, should send the same security headers', async () => {
    const poll = orderRoutes.find((route) => route.method === 'get' && route.path === '/orders/:id');
    expect(poll?.fastPath, 'GET /orders/:id is served on the fast path').to.equal(true);
    const { showing, seats } = await freshShowing();
    const placed = (await submit(orderBody(showing.id, [seats[0]!.id]))).body as PlacedView;
    const fast = await send(system.port, 'GET', `/api/v1/orders/${placed.id}?token=${placed.accessToken}`);
    const viaExpress = await send(system.port, 'GET', '/api/v1/cities');
    const refused = await send(system.port, 'GET', '/api/v1/cities/not-a-number');
    for (const answer of [fast, viaExpress, refused]) {
      expect(answer.headers).to.include({
        'content-security-policy': "default-src 'none';frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'cross-origin-resource-policy': 'same-origin',
      });
      expect(answer.headers).not.to.have.property('x-powered-by');
    }
    expect([fast.status, viaExpress.status, refused.status]).to.deep.equal([200, 200, 400]);
    // The HTML pages get helmet's defaults for documents.
    const docs = await send(system.port, 'GET', '/docs/');
    expect(docs.status).to.equal(200);
    expect(docs.headers['content-security-policy']).to.include("script-src 'self'");
    expect(docs.headers['content-security-policy']).not.to.include('upgrade-insecure-requests');
    expect(docs.headers['referrer-policy']).to.equal('no-referrer');
  });

  it('when a browser page of an allowed origin calls the API, should answer its preflight and let it read the answers', async () => {
    const preflight = await send(system.port, 'OPTIONS', '/api/v1/orders', {
      origin: ALLOWED_ORIGIN,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,idempotency-key',
    });
    expect(preflight.status).to.equal(204);
    expect(preflight.headers['access-control-allow-origin']).to.equal(ALLOWED_ORIGIN);
    expect(preflight.headers['access-control-allow-methods']).to.include('POST');
    expect(preflight.headers['access-control-allow-headers']).to.include('Idempotency-Key');
    expect(preflight.headers.vary).to.include('Origin');

    const { showing, seats } = await freshShowing();
    const placed = await submit(orderBody(showing.id, [seats[0]!.id]), { origin: ALLOWED_ORIGIN });
    expect(placed.status).to.equal(202);
    const poll = await send(system.port, 'GET', `/api/v1/orders/${placed.body.id}?token=${placed.body.accessToken}`, {
      origin: ALLOWED_ORIGIN,
    });
    for (const answer of [placed, poll]) {
      expect(answer.headers['access-control-allow-origin']).to.equal(ALLOWED_ORIGIN);
      expect(answer.headers['access-control-expose-headers']).to.include('X-Request-Id');
    }
  });

  it('when a browser page of another origin calls the API, should give it no CORS header', async () => {
    const stranger = 'https://elsewhere.example';
    const preflight = await send(system.port, 'OPTIONS', '/api/v1/orders', {
      origin: stranger,
      'access-control-request-method': 'POST',
    });
    const read = await send(system.port, 'GET', '/api/v1/cities', { origin: stranger });
    expect(read.status).to.equal(200);
    for (const answer of [preflight, read]) {
      expect(Object.keys(answer.headers).filter((name) => name.startsWith('access-control-'))).to.deep.equal([]);
    }
  });

  it('when the queue dashboard is asked without the admin token, should refuse it, and serve it with the token', async () => {
    const page = '/admin/queues';
    const anonymous = await send(system.port, 'GET', page);
    expect(anonymous.status).to.equal(401);
    expect(anonymous.headers['www-authenticate']).to.match(/^Basic realm="queue dashboard"/);
    expect((await send(system.port, 'GET', page, { authorization: 'Bearer not-the-admin-token' })).status).to.equal(
      403,
    );
    const withToken = await send(system.port, 'GET', page, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(withToken.status).to.equal(200);
    expect(withToken.headers['content-type']).to.match(/^text\/html/);
    // A browser logs in with Basic credentials (any user name, the token as password), then reads the API.
    const basic = `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`;
    const queues = await send(system.port, 'GET', `${page}/api/queues`, { authorization: basic });
    expect(queues.status).to.equal(200);
    expect(queues.body.queues.map((queue: { name: string }) => queue.name)).to.include.members([
      '{alloc-0}',
      '{payments}',
    ]);
    expect((await send(system.port, 'GET', `${page}/api/queues`)).status).to.equal(401);
  });

  it('when METRICS and ACCESS_LOG are off, should serve no /metrics and log no requests, and keep request ids', async () => {
    const quiet = await startProcess({ ROLES: ['tickets'], METRICS: false, ACCESS_LOG: false });
    try {
      const metrics = await send(quiet.port, 'GET', '/metrics');
      expect(metrics.status).to.equal(404);
      const poll = await send(quiet.port, 'GET', `/api/v1/orders/${randomUUID()}?token=none`, {
        'x-request-id': 'quiet-1',
      });
      expect(poll.status).to.be.within(400, 499);
      expect(poll.headers['x-request-id']).to.equal('quiet-1');
      expect(quiet.lines.filter((line) => String(line.msg).startsWith('request '))).to.deep.equal([]);
      // Not a catalog process: nginx sends the dashboard elsewhere.
      expect(
        (await send(quiet.port, 'GET', '/admin/queues', { authorization: `Bearer ${ADMIN_TOKEN}` })).status,
      ).to.equal(404);
    } finally {
      await quiet.running.stop();
    }
  });

  it('when a catalog instance behind the entry is asked for the API reference, should describe the orders routes too, and not the simulator', async () => {
    const catalog = await startProcess({ ROLES: ['catalog'] });
    try {
      const answer = await send(catalog.port, 'GET', '/api/v1/openapi.json');
      const paths = Object.keys((answer.body as { paths: Record<string, unknown> }).paths);
      expect(paths).to.include.members([
        '/api/v1/orders',
        '/api/v1/orders/{id}/payment',
        '/api/v1/showings/{id}/seats',
      ]);
      expect(paths).not.to.include('/api/v1/charges');
    } finally {
      await catalog.running.stop();
    }
  });
});
