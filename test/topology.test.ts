import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { io as connectClient, type Socket } from 'socket.io-client';
import { busyPorts } from '../scripts/topology/checks.js';
import { nginxConfig } from '../scripts/topology/nginx-config.js';
import { alive, startTopology, type ExitEvent, type Topology } from '../scripts/topology/topology.js';
import { smallLayout } from './factories.js';
import { eventually, type OrderView, type PlacedView } from './orders/support.js';
import { ensureBuilt, nginxOrSkip, topologyEnvironment } from './topology-support.js';

type Answer<T = any> = { status: number; body: T; headers: Headers };

/** Processes whose parent is `pid` (nginx's workers). */
const childrenOf = (pid: number) =>
  readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        // The field after the parenthesised command name: state, then the parent's pid.
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);

const localDate = (iso: string, timeZone: string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    new Date(iso),
  );

describe('the nginx configuration of the topology', () => {
  const plan = (payments: number[], internalPaymentsPort?: number) =>
    nginxConfig({
      runDir: '/run/topology',
      listen: { host: '127.0.0.1', port: 8080 },
      upstreams: { tickets: [4100, 4101], catalog: [4102], realtime: [4103], payments },
      internalPaymentsPort,
      workerProcesses: 1,
    });

  it('when it is written, should resend only the order submit among POSTs, and keep every file in the run directory', () => {
    const config = plan([4105]);
    const nonIdempotent = config.split('\n').filter((line) => line.includes('non_idempotent'));
    expect(nonIdempotent).to.have.length(1);
    expect(config).to.match(/location = \/api\/v1\/orders \{\n\s+proxy_next_upstream [^;]*non_idempotent;/);
    // A 503 is a shared store away: retried, it would count as a failure and take every instance out.
    expect(config).not.to.include('http_503');
    const paths = [...config.matchAll(/^\s*(?:pid|error_log|access_log|\w+_temp_path) "([^"]+)"/gm)].map((m) => m[1]);
    expect(paths).to.have.length(8);
    for (const path of paths) expect(path).to.match(/^\/run\/topology\//);
  });

  it('when there are several payment instances, should put them behind an internal listen only', () => {
    expect(plan([4105])).not.to.include('topology_payments');
    const config = plan([4105, 4106], 4107);
    expect(config).to.include('listen 127.0.0.1:4107;');
    const publicServer = config.slice(config.indexOf('listen 127.0.0.1:8080'), config.indexOf('listen 127.0.0.1:4107'));
    expect(publicServer).not.to.include('topology_payments');
  });
});

describe('the production topology behind nginx', function () {
  this.timeout(30_000);

  let topology: Topology | undefined;
  const exits: ExitEvent[] = [];
  const sockets: Socket[] = [];
  let failed = false;

  const running = () => {
    if (!topology) throw new Error('the topology did not start');
    return topology;
  };

  async function call<T = any>(
    method: string,
    path: string,
    options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(running().entryUrl + path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: nginx's own pages
    }
    return { status: response.status, body: body as T, headers: response.headers };
  }

  async function created<T = any>(path: string, body: object): Promise<T> {
    const answer = await call<T>('POST', path, { body, token: running().adminToken });
    expect(answer.status, `POST ${path}: ${JSON.stringify(answer.body)}`).to.equal(201);
    return answer.body;
  }

  const submit = (body: object, key = randomUUID()) =>
    call<PlacedView>('POST', '/api/v1/orders', { body, headers: { 'idempotency-key': key, prefer: 'wait=5' } });

  const readOrder = (order: PlacedView) =>
    call<OrderView>('GET', `/api/v1/orders/${order.id}`, { token: order.accessToken });

  let showing: { id: number; startsAt: string };
  let seats: number[];
  let cityId: number;
  let order: PlacedView;
  const orderBody = (seatId: number, payment?: string) => ({
    showingId: showing.id,
    seatIds: [seatId],
    customer: { email: 'buyer@example.com' },
    ...(payment ? { payment: { token: payment } } : {}),
  });

  before(async function () {
    this.timeout(120_000);
    nginxOrSkip(this);
    ensureBuilt();
    // Its workers pay through its own payment simulator.
    const env = await topologyEnvironment();
    topology = await startTopology({
      counts: { tickets: 2, catalog: 1, realtime: 1, workers: 1, payments: 1 },
      port: 0,
      basePort: 0,
      env,
      readyTimeoutMs: 60_000,
      onUnexpectedExit: (event) => exits.push(event),
    });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async function () {
    this.timeout(60_000);
    for (const socket of sockets) socket.close();
    if (!topology) return;
    await topology.stop();
    if (failed) console.log(`    the topology's files are kept in ${topology.runDir}`);
    else rmSync(topology.runDir, { recursive: true, force: true });
  });

  it('when it starts, should run every instance as its own process and generate the production secrets', () => {
    const { instances, generatedSecrets, adminTokenFile } = running();
    expect(instances.map((instance) => instance.name)).to.deep.equal([
      'tickets-1',
      'tickets-2',
      'catalog-1',
      'realtime-1',
      'workers-1',
      'payments-1',
    ]);
    expect(new Set(instances.map((instance) => instance.pid)).size).to.equal(6);
    expect(generatedSecrets).to.have.members(['ADMIN_TOKEN', 'ORDER_TOKEN_SECRET', 'PAYMENT_SERVICE_KEY']);
    expect(statSync(adminTokenFile!).mode & 0o777).to.equal(0o600);
    expect(readFileSync(adminTokenFile!, 'utf8').trim()).to.equal(running().adminToken);
    expect(running().paymentServiceUrl).to.equal(`${instances.find((i) => i.role === 'payments')!.url}/api/v1`);
  });

  it('when the catalog is written and read through the entry, should serve the schedule and a seat map', async () => {
    const city = await created<{ id: number }>('/api/v1/cities', { name: `Topology ${randomUUID()}` });
    cityId = city.id;
    const cinema = await created<{ id: number }>('/api/v1/cinemas', {
      name: 'Topology cinema',
      timezone: 'Europe/Moscow',
      cityId,
    });
    const hall = await created<{ id: number; layout: { rows: { seats: { id: number }[] }[] } }>('/api/v1/halls', {
      name: 'Hall 1',
      layout: smallLayout(6),
      cinemaId: cinema.id,
    });
    const film = await created<{ id: number }>('/api/v1/films', { title: 'Topology', durationMinutes: 90 });
    showing = await created('/api/v1/showings', {
      hallId: hall.id,
      filmId: film.id,
      startsAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    seats = hall.layout.rows.flatMap((row) => row.seats.map((seat) => seat.id));

    const date = localDate(showing.startsAt, 'Europe/Moscow');
    const schedule = await call('GET', `/api/v1/schedule?cityId=${cityId}&date=${date}`);
    expect(schedule.status).to.equal(200);
    const listed = schedule.body.cinemas.flatMap((c: any) => c.films.flatMap((f: any) => f.showings));
    expect(listed.map((s: any) => s.showingId)).to.include(showing.id);

    const seatMap = await call('GET', `/api/v1/showings/${showing.id}/seats`);
    expect(seatMap.status).to.equal(200);
    const statuses = seatMap.body.rows.flatMap((row: any) => row.seats.map((seat: any) => seat.status));
    expect(statuses)
      .to.have.length(seats.length)
      .and.to.satisfy((all: string[]) => all.every((s) => s === 'free'));
  });

  it('when an order is submitted with an Idempotency-Key and Prefer: wait=5, should answer it decided, and the workers should get it paid', async () => {
    const key = randomUUID();
    const answer = await submit(orderBody(seats[0]!, 'tok_ok'), key);
    expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
    expect(answer.body.status).to.be.oneOf(['awaiting_payment', 'confirmed']);
    order = answer.body;

    const replay = await submit(orderBody(seats[0]!, 'tok_ok'), key);
    expect(replay.status).to.be.oneOf([200, 202]);
    expect(replay.body.id).to.equal(order.id);

    // Through the workers and the payment simulator, on their own ports.
    const paid = await eventually('the order to be confirmed and paid', async () => {
      const view = await readOrder(order);
      return view.body.status === 'confirmed' && view.body.paymentStatus === 'paid' ? view.body : undefined;
    });
    expect(paid.total).to.be.a('number');
  });

  it('when a buyer subscribes over a websocket through nginx, should push order:update for a new order', async () => {
    const held = await submit(orderBody(seats[1]!));
    expect(held.status, JSON.stringify(held.body)).to.equal(200);
    expect(held.body.status).to.equal('awaiting_payment');

    const socket = connectClient(running().entryUrl, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    sockets.push(socket);
    const updates: OrderView[] = [];
    socket.on('order:update', (update: OrderView) => updates.push(update));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const subscribed = await socket
      .timeout(5_000)
      .emitWithAck('order:subscribe', { orderId: held.body.id, token: held.body.accessToken });
    expect(subscribed).to.deep.include({ ok: true });

    const paying = await call('POST', `/api/v1/orders/${held.body.id}/payment`, {
      body: { token: 'tok_ok' },
      token: held.body.accessToken,
    });
    expect(paying.status, JSON.stringify(paying.body)).to.equal(200);
    const confirmed = await eventually('order:update saying confirmed', async () =>
      updates.find((update) => update.id === held.body.id && update.status === 'confirmed'),
    );
    expect(confirmed.paymentStatus).to.equal('paid');
  });

  it('when a client sends X-Request-Id, should hand the same one back and log it in nginx and the instance alike, and make one when it sends none', async () => {
    const mine = `test:${randomUUID()}`;
    const echoed = await call('GET', `/api/v1/cities/${cityId}`, { headers: { 'x-request-id': mine } });
    expect(echoed.status).to.equal(200);
    expect(echoed.headers.get('x-request-id')).to.equal(mine);
    const made = await call('GET', `/api/v1/orders/${order.id}`, { token: order.accessToken });
    expect(made.headers.get('x-request-id')).to.match(/^[0-9a-f]{32}$/);
    const logged = readFileSync(running().nginx.accessLog, 'utf8');
    expect(logged).to.include(`"request_id":"${mine}"`);
    await eventually('the catalog instance to log the request under the same id', async () =>
      running()
        .instances.filter((instance) => instance.role === 'catalog')
        .some((instance) => readFileSync(instance.logFile, 'utf8').includes(`"requestId":"${mine}"`))
        ? true
        : undefined,
    );
  });

  it('when a buyer polls with the access token in the query, should keep the token out of the access log', async () => {
    const polled = await call('GET', `/api/v1/orders/${order.id}?token=${encodeURIComponent(order.accessToken)}`);
    expect(polled.status).to.equal(200);
    const logged = readFileSync(running().nginx.accessLog, 'utf8');
    expect(logged).to.include(`"path":"/api/v1/orders/${order.id}"`);
    expect(logged).not.to.include(order.accessToken);
  });

  it('when /metrics, /healthz or /readyz is asked at the entry, should not serve it (the instances do)', async () => {
    for (const path of ['/metrics', '/healthz', '/readyz', '/Metrics', '/metrics/', '//readyz']) {
      const answer = await call('GET', path);
      expect(answer.status, path).to.equal(404);
    }
    const tickets = running().instances.find((instance) => instance.role === 'tickets')!;
    expect((await fetch(`${tickets.url}/healthz`)).status).to.equal(200);
    expect((await call('GET', '/nginx-health')).status).to.equal(200);
  });

  it('when orders arrive, should spread them over more than one tickets instance', async () => {
    for (const seatId of seats.slice(2, 6)) {
      const answer = await submit(orderBody(seatId));
      expect(answer.status, JSON.stringify(answer.body)).to.be.oneOf([200, 202]);
    }
    const ticketsPorts = running()
      .instances.filter((instance) => instance.role === 'tickets')
      .map((instance) => `127.0.0.1:${instance.port}`);
    const served = readFileSync(running().nginx.accessLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { method: string; path: string; upstream: string })
      .filter((entry) => entry.method === 'POST' && entry.path === '/api/v1/orders')
      // A retried request lists every upstream it tried; the last one answered.
      .map((entry) => entry.upstream.split(', ').at(-1)!);
    expect(served.length).to.be.at.least(6);
    expect(ticketsPorts).to.include.members(served);
    expect(new Set(served).size).to.equal(2);
  });

  it('when a tickets instance is killed with SIGKILL, should keep answering through the other', async () => {
    const victim = running().instances.find((instance) => instance.name === 'tickets-1')!;
    process.kill(victim.pid, 'SIGKILL');
    await eventually('tickets-1 to be gone', async () => !alive(victim.pid));

    for (let i = 0; i < 6; i += 1) {
      const answer = await readOrder(order);
      expect(answer.status, `GET ${i}: ${JSON.stringify(answer.body)}`).to.equal(200);
    }
    const after = await submit(orderBody(seats[6]!));
    expect(after.status, JSON.stringify(after.body)).to.be.oneOf([200, 202]);
    expect((await call('GET', `/api/v1/showings/${showing.id}/seats`)).status).to.equal(200);

    await eventually('the exit to be reported', async () => exits.length > 0);
    expect(exits.map(({ name, signal }) => [name, signal])).to.deep.equal([['tickets-1', 'SIGKILL']]);
    expect(running().instances.find((instance) => instance.name === 'tickets-1')!.running).to.equal(false);
  });

  it('when stopped, should end every process it started and free every port', async () => {
    const { nginx, instances, entryUrl } = running();
    const pids = [nginx.pid, ...childrenOf(nginx.pid), ...instances.map((instance) => instance.pid)];
    expect(pids.length).to.be.at.least(instances.length + 2);
    const ports = [Number(new URL(entryUrl).port), ...instances.map((instance) => instance.port)];

    await running().stop();

    expect(pids.filter(alive)).to.deep.equal([]);
    expect(await busyPorts(ports)).to.deep.equal([]);
    expect(running().nginx.running).to.equal(false);
    expect(exits).to.have.length(1);
  });
});
