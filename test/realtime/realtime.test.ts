import { expect } from 'chai';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { io as connectClient, type Socket } from 'socket.io-client';
import { ordersRepository } from '../../db/repositories/orders.js';
import { createDeps } from '../../host/deps.js';
import { startRealtimeRole } from '../../host/process.js';
import { createLogger } from '../../infra/logger.js';
import {
  LiveSeatMap,
  snapshotOf,
  type SeatMapBody,
  type SeatStatus,
  type SeatsUpdate,
} from '../../scripts/realtime/live-seat-map.js';
import { api, testSystem } from '../system.js';
import {
  eventually,
  freshShowing,
  getOrder,
  overrideConfig,
  place,
  workerControl,
  type OrderView,
} from '../orders/support.js';
import { placePaying } from '../payments/support.js';

/** A realtime instance of its own (own connections, own subscription), as a separate process would have. */
async function realtimeInstance() {
  const { config } = await testSystem();
  const { deps, close } = createDeps(config, createLogger(config.LOG_LEVEL), 2);
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const realtime = await startRealtimeRole(config, deps, server);
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    io: realtime.io,
    async stop() {
      await realtime.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await close();
    },
  };
}

type Instance = Awaited<ReturnType<typeof realtimeInstance>>;

const nextEvent = (socket: Socket, event: string) =>
  new Promise<unknown[]>((resolve) => socket.once(event, (...args: unknown[]) => resolve(args)));

async function connect(instance: Instance): Promise<Socket> {
  const socket = connectClient(instance.url, { transports: ['websocket'], forceNew: true, reconnection: false });
  await nextEvent(socket, 'connect');
  return socket;
}

const ask = (socket: Socket, event: string, payload: unknown) => socket.timeout(5_000).emitWithAck(event, payload);

async function restSnapshot(showingId: number) {
  return snapshotOf((await api<SeatMapBody>('GET', `/api/v1/showings/${showingId}/seats`, { token: null })).body);
}

describe('realtime: order notifications and live seat maps', () => {
  const workers = workerControl();
  const instances: Instance[] = [];
  const sockets: Socket[] = [];
  let restore: () => void = () => {};

  before(async () => {
    restore = await overrideConfig({ CONFIRM_WITHOUT_PAYMENT: false });
    instances.push(await realtimeInstance(), await realtimeInstance());
  });
  afterEach(async () => {
    sockets.splice(0).forEach((socket) => socket.close());
    await workers.stop();
  });
  after(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    restore();
  });

  const client = async (instance: Instance) => {
    const socket = await connect(instance);
    sockets.push(socket);
    return socket;
  };

  it('when a buyer subscribes to their order, should get its current state and then every change of that order only; a wrong token is refused', async () => {
    const { showing, seats } = await freshShowing();
    const mine = await placePaying(showing.id, [seats[0]!.id], 'tok_ok');
    const other = await placePaying(showing.id, [seats[1]!.id], 'tok_ok');
    const socket = await client(instances[0]!);
    const updates: OrderView[] = [];
    socket.on('order:update', (order: OrderView) => updates.push(order));

    const subscribed = await ask(socket, 'order:subscribe', { orderId: mine.id, token: mine.accessToken });
    expect(subscribed).to.deep.include({ ok: true });
    expect(subscribed.order).to.deep.include({ id: mine.id, status: 'queued' });
    const refused = await ask(socket, 'order:subscribe', { orderId: other.id, token: mine.accessToken });
    expect(refused).to.deep.equal({
      ok: false,
      error: { code: 'ORDER_NOT_FOUND', message: `Order ${other.id} does not exist or the token does not open it` },
    });
    const invalid = await ask(socket, 'order:subscribe', { orderId: 'nope' });
    expect([invalid.ok, invalid.error.code]).to.deep.equal([false, 'VALIDATION_FAILED']);
    // A failed attempt to subscribe again (a stale token) keeps the subscription the socket has.
    const stale = await ask(socket, 'order:subscribe', { orderId: mine.id, token: other.accessToken });
    expect(stale.ok).to.equal(false);

    await workers.start();
    await eventually('the confirmation to be pushed', async () =>
      updates.some((order) => order.status === 'confirmed'),
    );
    expect(updates.every((order) => order.id === mine.id)).to.equal(true);
    expect(updates.map((order) => order.status)).to.include.members(['awaiting_payment', 'confirmed']);
    // What was pushed last is what a read gives.
    expect(updates.at(-1)).to.deep.equal((await getOrder(mine.id, mine.accessToken)).body);

    // A buyer who subscribes only now gets the decision in the answer: no race between submit and subscribe.
    const late = await client(instances[1]!);
    const lateAnswer = await ask(late, 'order:subscribe', { orderId: mine.id, token: mine.accessToken });
    expect(lateAnswer.order).to.deep.include({ status: 'confirmed', paymentStatus: 'paid' });
  });

  it('when a buyer subscribes before or after the decision, should hear each version of the order exactly once, and subscribe without reading the database', async () => {
    const { showing, seats } = await freshShowing();
    const socket = await client(instances[0]!);
    const heard = new Map<string, number[]>();
    socket.on('order:update', (order: OrderView) =>
      heard.set(order.id, [...(heard.get(order.id) ?? []), order.version]),
    );
    // Full reads of orders made while subscribing: none, the instance heard of every order it is asked about.
    let fullReads = 0;
    const withSeats = ordersRepository.withSeats;
    const subscribe = async (order: { id: string; accessToken: string }) => {
      ordersRepository.withSeats = (...args) => ((fullReads += 1), withSeats(...args));
      try {
        const answer = await ask(socket, 'order:subscribe', { orderId: order.id, token: order.accessToken });
        expect(answer.ok, JSON.stringify(answer)).to.equal(true);
        return answer.order as OrderView;
      } finally {
        ordersRepository.withSeats = withSeats;
      }
    };

    // Before: queued when subscribing, decided and paid afterwards.
    const early = await placePaying(showing.id, [seats[0]!.id], 'tok_ok');
    expect((await subscribe(early)).version).to.equal(1);
    await workers.start();
    await eventually('the payment to be pushed', async () => {
      const now = (await getOrder(early.id, early.accessToken)).body;
      return now.status === 'confirmed' && heard.get(early.id)?.includes(now.version);
    });
    const versions = heard.get(early.id)!;
    expect(versions, 'each version once, in order').to.deep.equal([...new Set(versions)].sort((a, b) => a - b));
    expect(versions[0]).to.be.above(1);

    // After: decided before subscribing; only what changes later is pushed.
    const late = await place(showing.id, [seats[1]!.id], { wait: 5 });
    expect(late.status).to.equal('awaiting_payment');
    const answer = await subscribe(late);
    expect(answer.version).to.equal(late.version);
    expect((await api('POST', `/api/v1/orders/${late.id}/cancel`, { token: late.accessToken })).status).to.equal(200);
    await eventually('the cancellation to be pushed', async () => heard.get(late.id)?.length);
    expect(heard.get(late.id), 'the decision is not told again').to.deep.equal([late.version + 1]);
    expect(fullReads, 'full order reads while subscribing').to.equal(0);
  });

  it('when seats change, should deliver the deltas in version order, the same on two realtime instances', async () => {
    await workers.start();
    const { showing, seats } = await freshShowing();
    const [onFirst, onSecond] = [await client(instances[0]!), await client(instances[1]!)];
    const received: SeatsUpdate[][] = [[], []];
    onFirst.on('seats:update', (delta: SeatsUpdate) => received[0]!.push(delta));
    onSecond.on('seats:update', (delta: SeatsUpdate) => received[1]!.push(delta));
    const [first, second] = [
      await ask(onFirst, 'showing:subscribe', { showingId: showing.id }),
      await ask(onSecond, 'showing:subscribe', { showingId: showing.id }),
    ];
    expect(first).to.deep.equal({ ok: true, version: second.version });

    // Holds, a conflict, sales, a release by cancellation: changes from the allocation, the saga and the API.
    const orders = await Promise.all([
      place(showing.id, [seats[0]!.id, seats[1]!.id]),
      placePaying(showing.id, [seats[2]!.id], 'tok_ok'),
      placePaying(showing.id, [seats[3]!.id], 'tok_decline'),
      place(showing.id, [seats[1]!.id]),
    ]);
    await eventually('the orders to settle', async () => {
      const views = await Promise.all(orders.map((order) => getOrder(order.id, order.accessToken)));
      return views.every((view) => !['queued'].includes(view.body.status) && view.body.paymentStatus !== 'processing');
    });
    expect(
      (await api('POST', `/api/v1/orders/${orders[0]!.id}/cancel`, { token: orders[0]!.accessToken })).status,
    ).to.equal(200);

    const { version: finalVersion } = await restSnapshot(showing.id);
    expect(finalVersion).to.be.greaterThan(first.version + 2);
    for (const deltas of received) {
      await eventually('every delta', async () => deltas.at(-1)?.version === finalVersion);
      expect(deltas.map((delta) => delta.version)).to.deep.equal(
        Array.from({ length: finalVersion - first.version }, (_, index) => first.version + 1 + index),
      );
    }
    expect(received[0]).to.deep.equal(received[1]);
    const fromDeltas = new Map<number, SeatStatus>();
    for (const delta of received[0]!) for (const seat of delta.seats) fromDeltas.set(seat.id, seat.status);
    const snapshot = await restSnapshot(showing.id);
    for (const [seatId, status] of fromDeltas) expect(snapshot.seats.get(seatId), `seat ${seatId}`).to.equal(status);
  });

  it('when a client reconnects after missing changes, should repair its map to what the REST snapshot shows', async () => {
    await workers.start();
    const { showing, seats } = await freshShowing();
    const map = new LiveSeatMap(() => restSnapshot(showing.id));
    const watch = async () => {
      const socket = await client(instances[0]!);
      socket.on('seats:update', (delta: SeatsUpdate) => map.apply(delta));
      const answer = await ask(socket, 'showing:subscribe', { showingId: showing.id });
      await map.resume(answer.version);
      return socket;
    };
    const socket = await watch();
    await place(showing.id, [seats[0]!.id], { wait: 5 });
    await eventually('the first hold to arrive', async () => map.seats.get(seats[0]!.id) === 'held');
    const repairsBefore = map.repairs;

    socket.close();
    await place(showing.id, [seats[1]!.id], { wait: 5 });
    await place(showing.id, [seats[2]!.id], { wait: 5 });
    await watch();
    expect(map.repairs).to.equal(repairsBefore + 1);
    const snapshot = await restSnapshot(showing.id);
    expect(map.version).to.equal(snapshot.version);
    expect(map.seats).to.deep.equal(snapshot.seats);
    expect([map.seats.get(seats[1]!.id), map.seats.get(seats[2]!.id)]).to.deep.equal(['held', 'held']);
  });

  it('when one instance broadcasts to a room, should reach that room’s clients on the other instance (Redis adapter over RESP2)', async () => {
    const { showing } = await freshShowing();
    const socket = await client(instances[1]!);
    await ask(socket, 'showing:subscribe', { showingId: showing.id });
    const heard = nextEvent(socket, 'notice');
    instances[0]!.io.to(`showing:${showing.id}`).emit('notice', { showingId: showing.id });
    expect((await heard)[0]).to.deep.equal({ showingId: showing.id });
  });

  it('when the showing does not exist, should refuse the subscription with SHOWING_NOT_FOUND', async () => {
    const socket = await client(instances[0]!);
    const answer = await ask(socket, 'showing:subscribe', { showingId: 987654321 });
    expect([answer.ok, answer.error.code]).to.deep.equal([false, 'SHOWING_NOT_FOUND']);
  });
});
