import type { Server as HttpServer } from 'node:http';
import { Server, type ServerOptions, type Socket } from 'socket.io';
import { z } from 'zod';
import type { Deps } from '../domain/context.js';
import { DomainError } from '../domain/errors.js';
import { getOrder } from '../domain/orders/get-order.js';
import { getSeatMapVersion } from '../domain/orders/seat-map.js';
import { inVersionOrder } from './in-order.js';

const orderRoom = (orderId: string) => `order:${orderId}`;
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
 * publication each committed transaction makes (orders and seat deltas) and emits to its own
 * clients' rooms; the adapter (Redis, from the host) links the instances for broadcasts that start
 * at one of them.
 *
 * client → server (with acknowledgement): order:subscribe { orderId, token } → { ok, order };
 *   showing:subscribe { showingId } → { ok, version }; order:unsubscribe, showing:unsubscribe.
 * server → client: order:update (the order as GET /orders/:id shows it);
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
  const stopListening = await deps.events.listen(({ orders, seats }) => {
    for (const order of orders) io.local.to(orderRoom(order.id)).emit('order:update', order);
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
          if (error instanceof DomainError) reply({ ok: false, error: { code: error.code, message: error.message } });
          else {
            log.error({ err: error }, 'realtime subscription failed');
            reply({ ok: false, error: { code: 'INTERNAL', message: 'Internal server error' } });
          }
        }
      });
  const subscribeToOrder = subscription(
    orderSubscription,
    ({ orderId }) => orderRoom(orderId),
    async ({ orderId, token }) => ({ order: await getOrder(deps, orderId, token) }),
  );
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
      unsubscribe(socket, z.strictObject({ orderId: orderIdField }), (input) => orderRoom(input.orderId)),
    );
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
      io.local.disconnectSockets(true);
      // Not io.close(): the HTTP server and the adapter's connections belong to the host.
      io.engine.close();
    },
  };
}
