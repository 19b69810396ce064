import { randomUUID } from 'node:crypto';
import { io as connectClient, type Socket } from 'socket.io-client';
import type { Db } from '../../db/connection.js';
import { cpuMeter, foreignCpu } from './cpu.js';
import { openLoop, percentile, type JsonClient } from './load.js';
import { emptyOrderTables, loadTargets, log } from './system.js';

/**
 * Orders at fixed rates (open loop), each buyer subscribing to its order over Socket.IO right after
 * the 202 and waiting for the decision to be pushed: what bench:realtime and bench:topology measure.
 */

type Order = { id: string; status: string; accessToken: string; decidedAt: string | null };

/** A buyer whose decision comes neither by push nor by the subscription's answer has an error, not a wait for ever. */
const DECISION_TIMEOUT_MS = 30_000;

export function connectSocket(realtimeUrl: string): Promise<Socket> {
  const socket = connectClient(realtimeUrl, { transports: ['websocket'], forceNew: true, reconnection: false });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

export type PushSteps = {
  /** Names the run in progress lines. */
  label: string;
  /** Where orders are submitted (an API process, or nginx's entry). */
  client: JsonClient;
  /** Its keep-alive connections, all opened before the warm-up. */
  connections: number;
  /** Where the buyers' websockets connect. */
  realtimeUrl: string;
  sockets: number;
  db: Db;
  /** The benchmark's database: PostgreSQL backends of any other count as foreign CPU. */
  databaseName: string;
  rates: number[];
  seconds: number;
  /** At 1,000 orders/s: long enough that every process that caches showings has seen nearly all of them. */
  warmUpSeconds: number;
  /** Processes metered by pid (the load generator is added), and process groups metered whole (nginx). */
  processes: Record<string, number>;
  groups?: Record<string, number>;
  /** A step holds when submit → push p99 < 500 ms and at most this share of its orders failed (0: none). */
  maxErrorShare: number;
};

/** The steps, and the highest rate answered at a step that held. */
export async function ordersPushed(run: PushSteps) {
  const targets = await loadTargets(run.client, 1000);
  const pool: Socket[] = [];
  try {
    for (let opened = 0; opened < run.sockets; opened += 100) {
      pool.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(100, run.sockets - opened) }, () => connectSocket(run.realtimeUrl)),
        )),
      );
    }
    return await stepsOverSockets(run, targets, pool);
  } finally {
    pool.forEach((socket) => socket.close());
  }
}

async function stepsOverSockets(run: PushSteps, targets: Awaited<ReturnType<typeof loadTargets>>, pool: Socket[]) {
  let next = 0;
  const tally = {
    submitToPush: [] as number[],
    /** How long the POST took to answer (202), the first part of submit → push. */
    submitAnswered: [] as number[],
    commitToEvent: [] as number[],
    byAck: 0,
    errors: 0,
    errorKinds: {} as Record<string, number>,
    refusedAtOnce: 0,
  };
  const resetTally = () =>
    Object.assign(tally, {
      submitToPush: [],
      submitAnswered: [],
      commitToEvent: [],
      byAck: 0,
      errors: 0,
      errorKinds: {},
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
      const fail = (error: unknown) => {
        clearTimeout(deadline);
        waiting.delete(order.id);
        reject(error);
      };
      const deadline = setTimeout(() => fail(new Error('no decision in 30 s')), DECISION_TIMEOUT_MS);
      waiting.set(order.id, (decided, pushed) => {
        clearTimeout(deadline);
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
        .catch(fail);
    });

  const buy = async () => {
    const target = targets[Math.floor(Math.random() * targets.length)]!;
    const first = Math.floor(Math.random() * (target.seatIds.length - 1));
    const started = performance.now();
    try {
      const response = await run.client.request(
        'POST',
        '/api/v1/orders',
        {
          showingId: target.showingId,
          seatIds: target.seatIds.slice(first, first + 1),
          customer: { email: `realtime-${randomUUID().slice(0, 8)}@example.com` },
        },
        { 'idempotency-key': randomUUID() },
      );
      // Seats known taken when the request arrived are refused at once: nothing to push.
      if (response.status === 409 && response.body?.error?.code === 'SEAT_TAKEN') {
        tally.refusedAtOnce += 1;
        return;
      }
      if (response.status !== 202 && response.status !== 200) throw new Error(`submit answered ${response.status}`);
      tally.submitAnswered.push(performance.now() - started);
      const { order, pushed } = await decision(pool[next++ % pool.length]!, response.body);
      tally.submitToPush.push(performance.now() - started);
      if (pushed && order.decidedAt) tally.commitToEvent.push(Date.now() - Date.parse(order.decidedAt));
      else tally.byAck += 1;
    } catch (error) {
      tally.errors += 1;
      const kind = (error as Error).message;
      tally.errorKinds[kind] = (tally.errorKinds[kind] ?? 0) + 1;
    }
  };
  // Warm-up, not reported, as bench:orders makes it: the connection pool open, the API's caches
  // filled for nearly every showing, the JIT at work, then the column statistics of orders and
  // tickets as autovacuum would keep them. At 200/s a third of the showings stayed cold and the
  // first step spent its first second loading them: a backlog that took it 8 s to work off.
  await Promise.all(Array.from({ length: run.connections }, () => run.client.request('GET', '/healthz')));
  log(`${run.label}: warming up (${run.warmUpSeconds} s at 1,000 orders/s)`);
  await openLoop(1000, run.warmUpSeconds, buy);
  await run.db.raw('ANALYZE orders, tickets');
  const meter = cpuMeter({ ...run.processes, loadgen: process.pid }, run.groups);
  const milliseconds = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return {
      p50: Math.round(percentile(sorted, 50)),
      p95: Math.round(percentile(sorted, 95)),
      p99: Math.round(percentile(sorted, 99)),
    };
  };
  const steps = [];
  for (const rate of run.rates) {
    await emptyOrderTables(run.db);
    resetTally();
    log(
      `${run.label}: ${rate} orders/s for ${run.seconds} s, each buyer subscribing to its order over ${pool.length} websockets`,
    );
    const stopMeter = meter.start();
    const foreign = foreignCpu(run.databaseName);
    const loop = await openLoop(rate, run.seconds, buy);
    const answered = tally.submitToPush.length + tally.refusedAtOnce;
    const cpuMsPerOrder = stopMeter(answered);
    const errors = tally.errors + loop.refused;
    const step = {
      rate,
      /** Orders answered: pushed to their subscriber, or refused at once (seats known taken). */
      ordersPerSecond: Math.round(answered / loop.seconds),
      errors,
      errorPercent: Number(((errors / (loop.sent + loop.refused)) * 100).toFixed(3)),
      ...(tally.errors > 0 ? { errorKinds: tally.errorKinds } : {}),
      submitToPushMs: milliseconds(tally.submitToPush),
      submitAnsweredMs: milliseconds(tally.submitAnswered),
      decisionToEventMs: { events: tally.commitToEvent.length, ...milliseconds(tally.commitToEvent) },
      answeredBySubscriptionAck: tally.byAck,
      refusedAtOnce: tally.refusedAtOnce,
      cpuMsPerOrder,
      /** Percent of one core used meanwhile by anything this run did not start. */
      foreignCpuPercent: foreign(cpuMsPerOrder),
    };
    steps.push(step);
    log(`${run.label} at ${rate}/s: ${JSON.stringify(step)}`);
    if (step.submitToPushMs.p99 > 3000) break;
  }
  const held = steps.filter(
    (step) => step.submitToPushMs.p99 < 500 && (step.errors === 0 || step.errorPercent / 100 < run.maxErrorShare),
  );
  return { steps, bestRateAtP99Under500ms: Math.max(0, ...held.map((step) => step.ordersPerSecond)) };
}
