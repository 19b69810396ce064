import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { io as connectClient, type Socket } from 'socket.io-client';
import { cpuMeter } from './cpu.js';
import { jsonClient, openLoop, percentile } from './load.js';
import { emptyOrderTables, loadTargets, log, prepareDatabase, root, startRole, writeLatest } from './system.js';

// npm run bench:realtime -- [--rates 1500,2000,2500] [--seconds 10] [--sockets 200] [--connections 10000] [--topology all|split|both]
// 1. Under load, for each topology (every role in one process as `npm start` runs it, or tickets,
//    workers and realtime apart), after the warm-up bench:orders makes: steps of orders arriving at
//    a fixed rate (open loop), each from free seats; each buyer subscribes to its order on the
//    realtime service right after the 202 and waits for the decision to be pushed.
// 2. Memory: `connections` idle websocket clients, each watching a showing, on one realtime instance.
const { values: args } = parseArgs({
  options: {
    rates: { type: 'string', default: '1500,2000,2500' },
    seconds: { type: 'string', default: '10' },
    sockets: { type: 'string', default: '200' },
    connections: { type: 'string', default: '10000' },
    topology: { type: 'string', default: 'both' },
    'base-port': { type: 'string', default: '3920' },
  },
});
const basePort = Number(args['base-port']);
const topologies = args.topology === 'both' ? ['all', 'split'] : [args.topology];
if (!topologies.every((topology) => topology === 'all' || topology === 'split')) {
  throw new Error(`--topology is all, split or both, not ${args.topology}`);
}

type Order = { id: string; status: string; accessToken: string; decidedAt: string | null };

function connect(realtimeUrl: string): Promise<Socket> {
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
const stopped = (child: ChildProcess) =>
  child.exitCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));

/** The topology's processes, the realtime one started with the memory probe. */
async function startTopology(
  topology: string,
): Promise<{ processes: Record<string, ChildProcess>; realtimeUrl: string; realtime: ChildProcess }> {
  const probe = { MEMORY_PROBE_DIR: probeDirectory };
  const probeArgs = ['--expose-gc', '--import', `${root}/dist/scripts/bench/memory-probe.js`];
  if (topology === 'all') {
    const all = await startRole('catalog,tickets,workers,payments,realtime', basePort, probe, probeArgs);
    return { processes: { all }, realtimeUrl: `http://127.0.0.1:${basePort}`, realtime: all };
  }
  const workers = await startRole('workers', basePort + 1);
  const realtime = await startRole('realtime', basePort + 2, probe, probeArgs);
  const api = await startRole('catalog,tickets', basePort);
  return { processes: { api, workers, realtime }, realtimeUrl: `http://127.0.0.1:${basePort + 2}`, realtime };
}

const CONNECTIONS = 256;
const client = jsonClient(`http://127.0.0.1:${basePort}`, CONNECTIONS);
const sockets: Socket[] = [];
const underLoad: Record<string, unknown> = {};
let memory: Record<string, unknown> | undefined;
try {
  for (const [index, topology] of topologies.entries()) {
    const { processes, realtimeUrl, realtime } = await startTopology(topology);
    try {
      underLoad[topology] = await ordersPushed(topology, processes, realtimeUrl);
      if (index === topologies.length - 1) memory = await idleConnections(realtime, realtimeUrl);
    } finally {
      sockets.forEach((socket) => socket.close());
      sockets.length = 0;
      for (const child of Object.values(processes)) child.kill('SIGTERM');
      await Promise.all(Object.values(processes).map(stopped));
    }
  }
  const result = {
    measuredAt: new Date().toISOString(),
    machine: '2 cores; load generator, clients, API, worker, realtime and PostgreSQL on the same machine',
    underLoad,
    memory,
  };
  writeLatest('realtime', result);
} finally {
  client.close();
  await db.destroy();
  rmSync(probeDirectory, { recursive: true, force: true });
}

/**
 * Steps of orders at a fixed rate, each buyer subscribing to its order right after the 202 and
 * waiting for the push; the highest rate whose submit → push p99 stays under 500 ms.
 */
async function ordersPushed(topology: string, processes: Record<string, ChildProcess>, realtimeUrl: string) {
  const targets = await loadTargets(client, 1000);
  const pool = await Promise.all(Array.from({ length: Number(args.sockets) }, () => connect(realtimeUrl)));
  sockets.push(...pool);
  let next = 0;
  const tally = {
    submitToPush: [] as number[],
    /** How long the POST took to answer (202), the first part of submit → push. */
    submitAnswered: [] as number[],
    commitToEvent: [] as number[],
    byAck: 0,
    errors: 0,
    refusedAtOnce: 0,
  };
  const resetTally = () =>
    Object.assign(tally, {
      submitToPush: [],
      submitAnswered: [],
      commitToEvent: [],
      byAck: 0,
      errors: 0,
      refusedAtOnce: 0,
    });
  /** Buyers waiting for their order's decision, by order id: one listener per socket hands each update over. */
  const waiting = new Map<string, (order: Order, pushed: boolean) => void>();
  for (const socket of pool) {
    socket.on('order:update', (update: Order) => {
      if (update.status !== 'queued') waiting.get(update.id)?.(update, true);
    });
  }
  /**
   * Resolves with the decided order, from the subscription's answer or from a pushed update. The
   * buyer stays subscribed, as one watching its order page does until it leaves.
   */
  const decision = (socket: Socket, order: Order) =>
    new Promise<{ order: Order; pushed: boolean }>((resolve, reject) => {
      waiting.set(order.id, (decided, pushed) => {
        waiting.delete(order.id);
        resolve({ order: decided, pushed });
      });
      socket
        .timeout(10_000)
        .emitWithAck('order:subscribe', { orderId: order.id, token: order.accessToken })
        .then((answer: { ok: boolean; order: Order }) => {
          if (!answer.ok) throw new Error('subscription refused');
          if (answer.order.status !== 'queued') waiting.get(order.id)?.(answer.order, false);
        })
        .catch((error: unknown) => {
          waiting.delete(order.id);
          reject(error);
        });
    });

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
        tally.refusedAtOnce += 1;
        return;
      }
      if (response.status !== 202 && response.status !== 200) throw new Error(String(response.status));
      tally.submitAnswered.push(performance.now() - started);
      const { order, pushed } = await decision(pool[next++ % pool.length]!, {
        ...response.body,
        accessToken: response.body.accessToken,
      });
      tally.submitToPush.push(performance.now() - started);
      if (pushed && order.decidedAt) tally.commitToEvent.push(Date.now() - Date.parse(order.decidedAt));
      else tally.byAck += 1;
    } catch {
      tally.errors += 1;
    }
  };
  // Warm-up, not reported, as bench:orders makes it: the connection pool open, the API's caches
  // filled for nearly every showing, the JIT at work, then the column statistics of orders and
  // tickets as autovacuum would keep them. At 200/s a third of the showings stayed cold and the
  // first step spent its first second loading them: a backlog that took it 8 s to work off.
  await Promise.all(Array.from({ length: CONNECTIONS }, () => client.request('GET', '/healthz')));
  log(`${topology}: warming up (5 s at 1,000 orders/s)`);
  await openLoop(1000, 5, buy);
  await db.raw('ANALYZE orders, tickets');
  const pids = Object.fromEntries(Object.entries(processes).map(([name, child]) => [name, child.pid!]));
  const meter = cpuMeter({ ...pids, loadgen: process.pid });
  const milliseconds = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return {
      p50: Math.round(percentile(sorted, 50)),
      p95: Math.round(percentile(sorted, 95)),
      p99: Math.round(percentile(sorted, 99)),
    };
  };
  const steps = [];
  for (const rate of args.rates.split(',').map(Number)) {
    await emptyOrderTables(db);
    resetTally();
    log(
      `${topology}: ${rate} orders/s for ${args.seconds} s, each buyer subscribing to its order over ${pool.length} websockets`,
    );
    const stopMeter = meter.start();
    const run = await openLoop(rate, Number(args.seconds), buy);
    const step = {
      rate,
      /** Orders answered: pushed to their subscriber, or refused at once (seats known taken). */
      ordersPerSecond: Math.round((tally.submitToPush.length + tally.refusedAtOnce) / run.seconds),
      errors: tally.errors + run.refused,
      submitToPushMs: milliseconds(tally.submitToPush),
      submitAnsweredMs: milliseconds(tally.submitAnswered),
      decisionToEventMs: { events: tally.commitToEvent.length, ...milliseconds(tally.commitToEvent) },
      answeredBySubscriptionAck: tally.byAck,
      refusedAtOnce: tally.refusedAtOnce,
      cpuMsPerOrder: stopMeter(tally.submitToPush.length + tally.refusedAtOnce),
    };
    steps.push(step);
    log(`${topology} at ${rate}/s: ${JSON.stringify(step)}`);
    if (step.submitToPushMs.p99 > 3000) break;
  }
  pool.forEach((socket) => socket.close());
  const held = steps.filter((step) => step.submitToPushMs.p99 < 500 && step.errors === 0);
  return { steps, bestRateAtP99Under500ms: Math.max(0, ...held.map((step) => step.ordersPerSecond)) };
}

/** Heap and RSS per idle websocket client watching a showing, on the realtime process. */
async function idleConnections(realtime: ChildProcess, realtimeUrl: string) {
  const targets = await loadTargets(client, 1000);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const idle = await memoryOf(realtime, probeDirectory);
  const wanted = Number(args.connections);
  const watching: Socket[] = [];
  for (let opened = 0; opened < wanted; opened += 500) {
    const batch = await Promise.all(Array.from({ length: Math.min(500, wanted - opened) }, () => connect(realtimeUrl)));
    sockets.push(...batch);
    watching.push(...batch);
    await Promise.all(
      batch.map((socket, index) =>
        socket
          .timeout(10_000)
          .emitWithAck('showing:subscribe', { showingId: targets[(opened + index) % targets.length]!.showingId }),
      ),
    );
    if ((opened + 500) % 2_500 === 0) log(`${watching.length} clients connected and watching a showing`);
  }
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const loaded = await memoryOf(realtime, probeDirectory);
  const result = {
    connections: watching.length,
    idle,
    loaded,
    heapPerConnectionKb: Math.round(((loaded.heapUsedMb - idle.heapUsedMb) * 1e6) / watching.length / 100) / 10,
    rssPerConnectionKb: Math.round(((loaded.rssMb - idle.rssMb) * 1e6) / watching.length / 100) / 10,
  };
  log(`memory: ${JSON.stringify(result)}`);
  return result;
}
