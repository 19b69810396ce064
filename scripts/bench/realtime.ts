import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { io as connectClient, type Socket } from 'socket.io-client';
import { jsonClient, openLoop, percentile } from './load.js';
import { loadTargets, log, prepareDatabase, root, startRole } from './system.js';

// npm run bench:realtime -- [--rate 1000] [--seconds 10] [--sockets 200] [--connections 10000]
// 1. Under load: orders arrive at a fixed rate (open loop); each buyer subscribes to its order on
//    the realtime service right after the 202 and waits for the decision to be pushed.
// 2. Memory: `connections` idle websocket clients, each watching a showing, on one realtime instance.
const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    sockets: { type: 'string', default: '200' },
    connections: { type: 'string', default: '10000' },
    'base-port': { type: 'string', default: '3920' },
  },
});
const basePort = Number(args['base-port']);
const realtimeUrl = `http://127.0.0.1:${basePort + 2}`;

type Order = { id: string; status: string; accessToken: string; decidedAt: string | null };

function connect(): Promise<Socket> {
  const socket = connectClient(realtimeUrl, { transports: ['websocket'], forceNew: true, reconnection: false });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** Heap (after a full GC) and RSS of a process started with the memory probe. */
async function memoryOf(child: ChildProcess, directory: string): Promise<{ heapUsedMb: number; rssMb: number }> {
  const before = new Set(readdirSync(directory));
  child.kill('SIGUSR2');
  for (let waited = 0; waited < 30_000; waited += 100) {
    const written = readdirSync(directory).find((name) => !before.has(name));
    if (written) {
      const { heapUsed, rss } = JSON.parse(readFileSync(`${directory}/${written}`, 'utf8'));
      return { heapUsedMb: Math.round(heapUsed / 1e5) / 10, rssMb: Math.round(rss / 1e5) / 10 };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the memory probe did not answer');
}

const db = await prepareDatabase();
const probeDirectory = mkdtempSync(`${tmpdir()}/realtime-memory-`);
const processes = [
  await startRole('workers', basePort + 1),
  await startRole('realtime', basePort + 2, { MEMORY_PROBE_DIR: probeDirectory }, [
    '--expose-gc',
    '--import',
    `${root}/dist/scripts/bench/memory-probe.js`,
  ]),
  await startRole('catalog,tickets', basePort),
];
const client = jsonClient(`http://127.0.0.1:${basePort}`, 256);
const sockets: Socket[] = [];
try {
  const targets = await loadTargets(client, 1000);
  const pool = await Promise.all(Array.from({ length: Number(args.sockets) }, connect));
  sockets.push(...pool);
  let next = 0;
  const submitToPush: number[] = [];
  const commitToEvent: number[] = [];
  let byAck = 0;
  let errors = 0;
  let refusedAtOnce = 0;

  /** Resolves with the decided order, from the subscription's answer or from a pushed update. */
  const decision = (socket: Socket, order: Order) =>
    new Promise<{ order: Order; pushed: boolean }>((resolve, reject) => {
      const onUpdate = (update: Order) => {
        if (update.id !== order.id || update.status === 'queued') return;
        socket.off('order:update', onUpdate);
        resolve({ order: update, pushed: true });
      };
      socket.on('order:update', onUpdate);
      socket
        .timeout(10_000)
        .emitWithAck('order:subscribe', { orderId: order.id, token: order.accessToken })
        .then((answer: { ok: boolean; order: Order }) => {
          if (!answer.ok) return reject(new Error('subscription refused'));
          if (answer.order.status !== 'queued') {
            socket.off('order:update', onUpdate);
            resolve({ order: answer.order, pushed: false });
          }
        }, reject);
    }).finally(() => socket.emit('order:unsubscribe', { orderId: order.id }));

  const buy = async () => {
    const target = targets[Math.floor(Math.random() * targets.length)]!;
    const first = Math.floor(Math.random() * (target.seatIds.length - 1));
    const started = performance.now();
    try {
      const response = await client.request(
        'POST',
        '/api/v1/orders',
        {
          showingId: target.showingId,
          seatIds: target.seatIds.slice(first, first + 1),
          customer: { email: 'realtime@example.com' },
        },
        { 'idempotency-key': randomUUID() },
      );
      // Seats known taken when the request arrived are refused at once: nothing to push.
      if (response.status === 409 && response.body?.error?.code === 'SEAT_TAKEN') {
        refusedAtOnce += 1;
        return;
      }
      if (response.status !== 202 && response.status !== 200) throw new Error(String(response.status));
      const { order, pushed } = await decision(pool[next++ % pool.length]!, {
        ...response.body,
        accessToken: response.body.accessToken,
      });
      submitToPush.push(performance.now() - started);
      if (pushed && order.decidedAt) commitToEvent.push(Date.now() - Date.parse(order.decidedAt));
      else byAck += 1;
    } catch {
      errors += 1;
    }
  };
  log('warming up (5 s at 200 orders/s)');
  await openLoop(200, 5, buy);
  submitToPush.length = 0;
  commitToEvent.length = 0;
  byAck = 0;
  errors = 0;
  refusedAtOnce = 0;
  const rate = Number(args.rate);
  log(`${rate} orders/s for ${args.seconds} s, each buyer subscribing to its order over ${pool.length} websockets`);
  const run = await openLoop(rate, Number(args.seconds), buy);
  submitToPush.sort((a, b) => a - b);
  commitToEvent.sort((a, b) => a - b);
  const underLoad = {
    rate,
    decidedPerSecond: Math.round(submitToPush.length / run.seconds),
    errors: errors + run.refused,
    submitToPushMs: {
      p50: Math.round(percentile(submitToPush, 50)),
      p95: Math.round(percentile(submitToPush, 95)),
      p99: Math.round(percentile(submitToPush, 99)),
    },
    decisionToEventMs: {
      events: commitToEvent.length,
      p50: Math.round(percentile(commitToEvent, 50)),
      p95: Math.round(percentile(commitToEvent, 95)),
      p99: Math.round(percentile(commitToEvent, 99)),
    },
    answeredBySubscriptionAck: byAck,
    refusedAtOnce,
  };
  log(`under load: ${JSON.stringify(underLoad)}`);
  pool.forEach((socket) => socket.close());
  sockets.length = 0;

  const realtime = processes[1]!;
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const idle = await memoryOf(realtime, probeDirectory);
  const wanted = Number(args.connections);
  for (let opened = 0; opened < wanted; opened += 500) {
    const batch = await Promise.all(Array.from({ length: Math.min(500, wanted - opened) }, connect));
    await Promise.all(
      batch.map((socket, index) =>
        socket
          .timeout(10_000)
          .emitWithAck('showing:subscribe', { showingId: targets[(opened + index) % targets.length]!.showingId }),
      ),
    );
    sockets.push(...batch);
    if ((opened + 500) % 2_500 === 0) log(`${sockets.length} clients connected and watching a showing`);
  }
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const loaded = await memoryOf(realtime, probeDirectory);
  const memory = {
    connections: sockets.length,
    idle,
    loaded,
    heapPerConnectionKb: Math.round(((loaded.heapUsedMb - idle.heapUsedMb) * 1e6) / sockets.length / 100) / 10,
    rssPerConnectionKb: Math.round(((loaded.rssMb - idle.rssMb) * 1e6) / sockets.length / 100) / 10,
  };
  log(`memory: ${JSON.stringify(memory)}`);
  const result = {
    measuredAt: new Date().toISOString(),
    machine: '2 cores; load generator, clients, API, worker, realtime and PostgreSQL on the same machine',
    underLoad,
    memory,
  };
  mkdirSync(`${root}/docs/benchmarks`, { recursive: true });
  writeFileSync(`${root}/docs/benchmarks/realtime-latest.json`, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
} finally {
  sockets.forEach((socket) => socket.close());
  client.close();
  for (const child of processes) child.kill('SIGTERM');
  await db.destroy();
  rmSync(probeDirectory, { recursive: true, force: true });
}
