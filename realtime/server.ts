import type { Server as HttpServer } from 'node:http';
import { Server, type ServerOptions, type Socket } from 'socket.io';
import { z } from 'zod';
import type { Deps } from '../domain/context.js';
import { DomainError } from '../domain/errors.js';
import type { OrderView } from '../domain/model/orders.js';
import { getOrderForSubscriber } from '../domain/orders/get-order.js';
import { getSeatMapVersion } from '../domain/orders/seat-maps.js';
import type { Trace } from '../domain/ports.js';
import { inVersionOrder } from './in-order.js';
import { orderSubscriptions } from './order-subscriptions.js';

const showingRoom = (showingId: number) => `showing:${showingId}`;

const orderIdField = z.uuid();
const orderSubscription = z.strictObject({ orderId: orderIdField, token: z.string().min(1).max(200) });
const showingSubscription = z.strictObject({ showingId: z.number().int().positive() });

type Ack = (
  answer:
    { ok: true; [key: string]: unknown } | { ok: false; error: { code: string; message: string; details?: unknown } },
) => void;

/**
 * The realtime role: Socket.IO on the process's HTTP server, websocket transport only, so any
 * instance can serve any client without sticky sessions. Every instance listens to the one
 * publication each committed transaction makes (orders and seat deltas) and tells its own clients:
 * each order's subscribers every version of it once (realtime/order-subscriptions.ts), each showing's
 * room its seat deltas in version order; the adapter (Redis, from the host) links the instances for
 * broadcasts that start at one of them. A subscription reads no database when the instance has heard
 * of the order, which it has for every order queued or changed while it ran.
 *
 * client → server (with acknowledgement): order:subscribe { orderId, token } → { ok, order };
 *   showing:subscribe { showingId } → { ok, version }; order:unsubscribe, showing:unsubscribe.
 * server → client: order:update (the order as GET /orders/:id shows it, each version once);
 *   seats:update { showingId, version, seats: [{ id, status }] }.
 */
export async function startRealtime(
  deps: Deps,
  httpServer: HttpServer,
  adapter: ServerOptions['adapter'],
): Promise<{ io: Server; stop: () => Promise<void> }> {
  const { config, log } = deps;
  const io = new Server(httpServer, {
    transports: ['websocket'],
    serveClient: false,
    cors: { origin: true },
    adapter,
  });

  const watched = (room: string) => (io.of('/').adapter.rooms.get(room)?.size ?? 0) > 0;
  const seatDeltas = inVersionOrder(
    (delta) => io.local.to(showingRoom(delta.showingId)).emit('seats:update', delta),
    config.REALTIME_REORDER_WAIT_MS,
  );
  io.of('/').adapter.on('delete-room', (room: string) => {
    if (room.startsWith('showing:')) seatDeltas.forget(Number(room.slice('showing:'.length)));
  });
  const orderWatchers = orderSubscriptions<Socket>((socket, order) => socket.emit('order:update', order));
  /**
   * An order update went out to `sockets` subscribers here: a debug line under the order's request
   * id (one per update and instance, however many sockets), and for a decision, how long after its
   * commit it reached them.
   */
  const pushed = (order: OrderView, sockets: number, trace: Trace | undefined) => {
    if (trace?.decidedAt !== undefined) deps.metrics.decisionPushed(Math.max(0, Date.now() - trace.decidedAt) / 1000);
    log.debug(
      {
        orderId: order.id,
        requestId: trace?.requestIds?.[order.id],
        status: order.status,
        version: order.version,
        sockets,
      },
      'order update pushed',
    );
  };
  // Heard from the start, every order queued or changed while this instance runs is answered from memory.
  await deps.orderViews.hearPublications();
  const stopListening = await deps.events.listen(({ orders, seats, trace }) => {
    for (const order of orders) {
      const told = orderWatchers.heard(order);
      if (told > 0) pushed(order, told, trace);
    }
    // Showings nobody here watches are not tracked; a room's state goes with the room (delete-room).
    for (const delta of seats) if (watched(showingRoom(delta.showingId))) seatDeltas.accept(delta);
  });

  /** Validates; a payload that is not valid is answered VALIDATION_FAILED. */
  const validated =
    <T>(schema: z.ZodType<T>, handle: (input: T, reply: Ack) => Promise<void>) =>
    async (payload: unknown, ack?: Ack) => {
      const reply: Ack = typeof ack === 'function' ? ack : typeof payload === 'function' ? (payload as Ack) : () => {};
      const parsed = schema.safeParse(payload);
      if (!parsed.success) {
        const details = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
        reply({ ok: false, error: { code: 'VALIDATION_FAILED', message: 'The payload is not valid', details } });
        return;
      }
      await handle(parsed.data, reply);
    };

  const replyFailure = (reply: Ack, error: unknown) => {
    if (error instanceof DomainError) reply({ ok: false, error: { code: error.code, message: error.message } });
    else {
      log.error({ err: error }, 'realtime subscription failed');
      reply({ ok: false, error: { code: 'INTERNAL', message: 'Internal server error' } });
    }
  };

  /** Joins the room first (so no change slips between the read and the join), then reads. */
  const subscription =
    <T>(schema: z.ZodType<T>, room: (input: T) => string, read: (input: T) => Promise<Record<string, unknown>>) =>
    (socket: Socket) =>
      validated(schema, async (input, reply) => {
        const alreadyIn = socket.rooms.has(room(input));
        await socket.join(room(input));
        try {
          reply({ ok: true, ...(await read(input)) });
        } catch (error) {
          // A failed re-subscription keeps the subscription the socket already had.
          if (!alreadyIn) await socket.leave(room(input));
          replyFailure(reply, error);
        }
      });
  const subscribeToOrder = (socket: Socket) =>
    validated(orderSubscription, async ({ orderId, token }, reply) => {
      try {
        const order = await orderWatchers.subscribe(socket, orderId, () => getOrderForSubscriber(deps, orderId, token));
        reply({ ok: true, order });
      } catch (error) {
        replyFailure(reply, error);
      }
    });
  const subscribeToShowing = subscription(
    showingSubscription,
    ({ showingId }) => showingRoom(showingId),
    async ({ showingId }) => {
      const version = await getSeatMapVersion(deps, showingId);
      seatDeltas.startAt(showingId, version);
      return { version };
    },
  );
  const unsubscribe = <T>(socket: Socket, schema: z.ZodType<T>, room: (input: T) => string) =>
    validated(schema, async (input, reply) => {
      await socket.leave(room(input));
      reply({ ok: true });
    });

  io.on('connection', (socket) => {
    socket.on('order:subscribe', subscribeToOrder(socket));
    socket.on('showing:subscribe', subscribeToShowing(socket));
    socket.on(
      'order:unsubscribe',
      validated(z.strictObject({ orderId: orderIdField }), async ({ orderId }, reply) => {
        orderWatchers.unsubscribe(orderId, socket);
        reply({ ok: true });
      }),
    );
    socket.on('disconnect', () => orderWatchers.forget(socket));
    socket.on(
      'showing:unsubscribe',
      unsubscribe(socket, showingSubscription, (input) => showingRoom(input.showingId)),
    );
  });
  log.info('realtime started');

  return {
    io,
    async stop() {
      stopListening();
      seatDeltas.close();
      // The connections are closed, not told "disconnect": a client told so by the server stays
      // disconnected, one whose connection closes reconnects, through the load balancer, to another
      // instance (measured: after a rolling restart 0 of 8 clients came back the first way).
      // Not io.close(): the HTTP server and the adapter's connections belong to the host.
      io.engine.close();
    },
  };
}
