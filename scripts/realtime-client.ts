import { parseArgs } from 'node:util';
import { io } from 'socket.io-client';
import { LiveSeatMap, snapshotOf, type SeatMapBody, type SeatsUpdate } from './realtime/live-seat-map.js';

// The realtime protocol, shown end to end:
//   npx tsx scripts/realtime-client.ts --url http://localhost:3000 --showing 12 [--order <id> --token <accessToken>]
// Keeps a live seat map of the showing (snapshot by REST, deltas by Socket.IO, repaired after gaps and
// reconnects) and, given an order, prints each of its status changes.
const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://localhost:3000' },
    showing: { type: 'string' },
    order: { type: 'string' },
    token: { type: 'string' },
  },
});
if (!args.showing) {
  console.error('usage: realtime-client --url <base url> --showing <id> [--order <id> --token <token>]');
  process.exit(64);
}
const showingId = Number(args.showing);

const map = new LiveSeatMap(async () => {
  const response = await fetch(`${args.url}/api/v1/showings/${showingId}/seats`);
  if (!response.ok) throw new Error(`seat map: ${response.status}`);
  return snapshotOf((await response.json()) as SeatMapBody);
});
const freeSeats = () => [...map.seats.values()].filter((status) => status === 'free').length;

// Websocket only: any instance behind the load balancer can take the connection, no sticky sessions.
const socket = io(args.url, { transports: ['websocket'] });
socket.on('seats:update', (delta: SeatsUpdate) => {
  map.apply(delta);
  console.log(
    `seats v${delta.version}: ${delta.seats.map((seat) => `${seat.id}→${seat.status}`).join(' ')} (${freeSeats()} free)`,
  );
});
socket.on(
  'order:update',
  (order: { id: string; status: string; paymentStatus: string | null; reason: string | null }) => {
    console.log(
      `order ${order.id}: ${order.status}${order.paymentStatus ? ` / ${order.paymentStatus}` : ''}${order.reason ? ` (${order.reason})` : ''}`,
    );
  },
);
// Also after every reconnect: subscriptions belong to a connection.
socket.on('connect', async () => {
  const showing = await socket.emitWithAck('showing:subscribe', { showingId });
  if (!showing.ok) throw new Error(`showing:subscribe: ${showing.error.code}`);
  await map.resume(showing.version);
  console.log(`watching showing ${showingId} at v${map.version}: ${freeSeats()} of ${map.seats.size} seats free`);
  if (args.order) {
    const order = await socket.emitWithAck('order:subscribe', { orderId: args.order, token: args.token });
    console.log(
      order.ok ? `order ${args.order}: ${order.order.status}` : `order:subscribe refused: ${order.error.code}`,
    );
  }
});
socket.on('connect_error', (error) => console.error(`cannot connect: ${error.message}`));
process.on('SIGINT', () => {
  socket.close();
  process.exit(0);
});
