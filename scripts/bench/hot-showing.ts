import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { cpuMeter, foreignCpu } from './cpu.js';
import { jsonClient, percentile } from './load.js';
import {
  ADMIN_TOKEN,
  auditShowingSales,
  config,
  emptyOrderTables,
  log,
  prepareDatabase,
  startPeer,
  startRole,
  writeLatest,
} from './system.js';

/*
 * One hot showing, buyers who do not know the map: 500 buyers at once on a 300-seat hall (15 rows of
 * 20), each attempt a random block of 1-4 adjacent seats of one row chosen without regard to what is
 * taken, retried at once until the buyer is served or the hall is sold out. The same driver runs
 * against our system (POST /api/v1/orders, Prefer: wait=5, CONFIRM_WITHOUT_PAYMENT) and against the
 * reference, scripts/bench/naive-peer.ts (one transaction per request, row locks on pre-created
 * tickets), alternately (peer, ours, peer, ours, ...), so the machine's drift falls on both.
 *
 * With --poll <ms>, our buyers submit without waiting (202) and poll the order's Location every <ms>
 * with If-None-Match, as a client without Socket.IO would; the latency is still submit → decision.
 *
 * npm run bench:hot -- [--topology all|split|both] [--rounds 3] [--buyers 500] [--cap-seconds 60] [--poll 250] [--port 3950]
 * With BENCH_DATABASE_URL and BENCH_REDIS_PREFIX (scripts/bench/system.ts) it runs beside another benchmark.
 */
const { values: args } = parseArgs({
  options: {
    topology: { type: 'string', default: 'both' },
    rounds: { type: 'string', default: '3' },
    buyers: { type: 'string', default: '500' },
    'cap-seconds': { type: 'string', default: '60' },
    port: { type: 'string', default: '3950' },
    'peer-pool': { type: 'string', default: '16' },
    poll: { type: 'string' },
  },
});
const topologies = args.topology === 'both' ? ['all', 'split'] : [args.topology];
if (!topologies.every((topology) => topology === 'all' || topology === 'split')) {
  throw new Error(`--topology is all, split or both, not ${args.topology}`);
}
const rounds = Number(args.rounds);
const buyers = Number(args.buyers);
const capSeconds = Number(args['cap-seconds']);
const basePort = Number(args.port);
const peerPort = basePort + 9;
const pollMs = args.poll === undefined ? undefined : Number(args.poll);
const databaseName = new URL(config.DATABASE_URL).pathname.slice(1);
const ROWS = 15;
const SEATS_PER_ROW = 20;

type Outcome = { confirmed: boolean };
type Seller = (seatIds: number[]) => Promise<Outcome>;

const randomInt = (below: number) => Math.floor(Math.random() * below);
const round = (value: number) => Math.round(value);
const distribution = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? NaN),
  };
};

/**
 * The blind buyers. Every buyer's first attempt leaves at the same moment (the first burst); then
 * each buyer retries at once until it is served or the driver has seen every seat confirmed.
 */
async function blindBuyers(rows: number[][], sell: Seller) {
  const totalSeats = rows.flat().length;
  const sold = new Set<number>();
  const latencies: number[] = [];
  const firstBurst: number[] = [];
  /** Decisions per 500 ms since the start. */
  const timeline: number[] = [];
  let doubleSales = 0;
  let errors = 0;
  const soldOut = { seconds: null as number | null };
  const started = performance.now();
  const deadline = started + capSeconds * 1000;
  const pick = () => {
    const row = rows[randomInt(rows.length)]!;
    const want = 1 + randomInt(4);
    const first = randomInt(row.length - want + 1);
    return row.slice(first, first + want);
  };
  await Promise.all(
    Array.from({ length: buyers }, async () => {
      for (let attempt = 0; sold.size < totalSeats && performance.now() < deadline; attempt += 1) {
        const seats = pick();
        const sent = performance.now();
        let outcome: Outcome;
        try {
          outcome = await sell(seats);
        } catch (error) {
          errors += 1;
          if (errors <= 3) log(`attempt failed: ${(error as Error).message}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        const now = performance.now();
        latencies.push(now - sent);
        if (attempt === 0) firstBurst.push(now - sent);
        const slot = Math.floor((now - started) / 500);
        while (timeline.length <= slot) timeline.push(0);
        timeline[slot]! += 1;
        if (outcome.confirmed) {
          for (const seatId of seats) {
            if (sold.has(seatId)) doubleSales += 1;
            sold.add(seatId);
          }
          if (sold.size === totalSeats) soldOut.seconds ??= (now - started) / 1000;
          return;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    decisions: latencies.length,
    seconds: Number(seconds.toFixed(2)),
    decisionsPerSecond: round(latencies.length / seconds),
    ...distribution(latencies),
    soldOutSeconds: soldOut.seconds === null ? null : Number(soldOut.seconds.toFixed(2)),
    seatsSold: sold.size,
    doubleSales,
    errors,
    firstBurst: distribution(firstBurst),
    decisionsPer500ms: timeline,
  };
}

type Client = ReturnType<typeof jsonClient>;
/** Polls of undecided orders, and how many of them the API answered 304 Not Modified. */
const polls = { sent: 0, notModified: 0 };

/**
 * Our system: the real submit, with `Prefer: wait=5` (polling should the wait run out), or with
 * --poll a submit that answers 202 at once and a poll of its Location every pollMs.
 */
function oursSeller(client: Client, showingId: number): Seller {
  return async (seatIds) => {
    const started = performance.now();
    const response = await client.request(
      'POST',
      '/api/v1/orders',
      { showingId, seatIds, customer: { email: 'hot@example.com' } },
      { 'idempotency-key': randomUUID(), ...(pollMs === undefined ? { prefer: 'wait=5' } : {}) },
    );
    // Seats known taken when the request arrived are refused at once: a decision too.
    if (response.status === 409 && response.body?.error?.code === 'SEAT_TAKEN') return { confirmed: false };
    if (response.status !== 200 && response.status !== 202) {
      throw new Error(`submit answered ${response.status} ${response.body?.error?.code ?? ''}`);
    }
    let order = response.body;
    let etag: string | undefined;
    const location = `${response.headers.location ?? `/api/v1/orders/${order.id}`}?token=${order.accessToken}`;
    while (order.status === 'queued') {
      if (performance.now() - started > 30_000) throw new Error('undecided after 30 s');
      await new Promise((resolve) => setTimeout(resolve, pollMs ?? 100));
      const poll = await client.request('GET', location, undefined, etag ? { 'if-none-match': etag } : {});
      polls.sent += 1;
      if (poll.status === 304) {
        polls.notModified += 1;
        continue;
      }
      if (poll.status !== 200) throw new Error(`poll answered ${poll.status}`);
      order = poll.body;
      etag = poll.headers.etag;
    }
    return { confirmed: order.status === 'confirmed' || order.status === 'awaiting_payment' };
  };
}

function peerSeller(client: Client, showingId: number): Seller {
  return async (seatIds) => {
    const response = await client.request('POST', '/orders', { showingId, seatIds });
    if (response.status !== 200) throw new Error(`peer answered ${response.status} ${String(response.body)}`);
    return { confirmed: response.body.status === 'confirmed' };
  };
}

/** A new 300-seat hall and a showing in it, through the admin API; its seat ids row by row. */
async function newHotShowing(api: Client) {
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const cinemas = await api.request('GET', '/api/v1/cinemas?limit=1');
  const layout = {
    rows: Array.from({ length: ROWS }, (_, row) => ({
      label: String.fromCharCode(65 + row),
      seats: Array.from({ length: SEATS_PER_ROW }, (_, seat) => ({ number: seat + 1 })),
    })),
  };
  const hall = await api.request(
    'POST',
    '/api/v1/halls',
    { cinemaId: cinemas.body.data[0].id, name: `Hot ${randomUUID()}`, layout },
    admin,
  );
  const films = await api.request('GET', '/api/v1/films?limit=1');
  const startsAt = new Date(Date.now() + 3 * 86_400_000).toISOString();
  const showing = await api.request(
    'POST',
    '/api/v1/showings',
    { hallId: hall.body.id, filmId: films.body.data[0].id, startsAt },
    admin,
  );
  if (showing.status !== 201) throw new Error(`showing not created: ${showing.status} ${JSON.stringify(showing.body)}`);
  const rows: number[][] = hall.body.layout.rows.map((row: { seats: { id: number }[] }) =>
    row.seats.map((seat) => seat.id),
  );
  return { showingId: showing.body.id as number, rows };
}

type Db = Awaited<ReturnType<typeof prepareDatabase>>;

/** What the database holds for our showing: active tickets per seat, orders left queued, the drain batches. */
async function auditOurs(db: Db, showingId: number) {
  const sales = await auditShowingSales(db, showingId);
  // Orders decided in one transaction share its decided_at (now() is the transaction's start).
  const batches = await db.raw(
    `SELECT count(*)::int AS size, extract(epoch FROM decided_at - lag(decided_at) OVER (ORDER BY decided_at)) * 1000 AS "gapMs"
     FROM orders WHERE showing_id = ? AND decided_at IS NOT NULL GROUP BY decided_at ORDER BY decided_at`,
    [showingId],
  );
  // created_at is stamped by the API as the request arrives: arrival → start of its drain transaction.
  const waits = await db.raw(
    `SELECT extract(epoch FROM decided_at - created_at) * 1000 AS ms FROM orders WHERE showing_id = ? AND decided_at IS NOT NULL`,
    [showingId],
  );
  const sizes: number[] = batches.rows.map((row: { size: number }) => row.size);
  const gaps: number[] = batches.rows.slice(1).map((row: { gapMs: string }) => Number(row.gapMs));
  return {
    ...sales,
    drainBatches: {
      ...distribution(sizes),
      mean: Number((sizes.reduce((sum, size) => sum + size, 0) / Math.max(1, sizes.length)).toFixed(1)),
      gapBetweenStartsMs: distribution(gaps),
    },
    arrivalToDrainStartMs: distribution(waits.rows.map((row: { ms: string }) => Number(row.ms))),
  };
}

async function auditPeer(db: Db, showingId: number) {
  const { rows } = await db.raw(
    `SELECT count(*) FILTER (WHERE status = 'sold')::int AS "seatsSold" FROM bench_peer.tickets WHERE showing_id = ?`,
    [showingId],
  );
  return rows[0] as { seatsSold: number };
}

/** Our processes for a topology: every role in one process, or a tickets API beside a workers process. */
async function startOurs(topology: string): Promise<{ processes: Record<string, ChildProcess>; apiPort: number }> {
  const env = { CONFIRM_WITHOUT_PAYMENT: 'true' };
  if (topology === 'all') {
    return {
      processes: { all: await startRole('catalog,tickets,workers,payments,realtime', basePort + 1, env) },
      apiPort: basePort + 1,
    };
  }
  const workers = await startRole('workers', basePort + 2, env);
  const api = await startRole('catalog,tickets', basePort + 3, env);
  return { processes: { api, workers }, apiPort: basePort + 3 };
}

const stopped = (child: ChildProcess) =>
  child.exitCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));

const db = await prepareDatabase();
const peer = await startPeer(peerPort, Number(args['peer-pool']));
const peerClient = jsonClient(`http://127.0.0.1:${peerPort}`, 2048);
let peerShowing = 0;
const results: Record<string, unknown>[] = [];
type Pair = { peer: { decisionsPerSecond: number; p99: number; foreignCpuPercent: number } } & {
  ours: { decisionsPerSecond: number; p99: number; foreignCpuPercent: number };
};
const pairsByTopology: Record<string, Pair[]> = {};
/** A pair whose rounds something else used more CPU in than this (% of one core) is left out of the clean figures. */
const DISTURBED_PERCENT = 25;

/** A fresh 300-seat showing of the peer's, then the blind buyers on it. */
async function peerRound(label: string, processes: Record<string, number>) {
  peerShowing += 1;
  const seatIds = Array.from({ length: ROWS * SEATS_PER_ROW }, (_, index) => index + 1);
  await peerClient.request('POST', '/showings', { showingId: peerShowing, seatIds });
  const rows = Array.from({ length: ROWS }, (_, row) => seatIds.slice(row * SEATS_PER_ROW, (row + 1) * SEATS_PER_ROW));
  const meter = cpuMeter({ ...processes, peer: peer.pid!, loadgen: process.pid }).start();
  const foreign = foreignCpu(databaseName);
  const run = await blindBuyers(rows, peerSeller(peerClient, peerShowing));
  const cpuMsPerDecision = meter(run.decisions);
  const foreignCpuPercent = foreign(cpuMsPerDecision);
  const audit = await auditPeer(db, peerShowing);
  const result = { system: 'peer', label, ...run, audit, cpuMsPerDecision, foreignCpuPercent };
  log(`${label} peer: ${JSON.stringify({ ...result, decisionsPer500ms: undefined })}`);
  return result;
}

try {
  await peerRound('warm-up', {});
  await db.raw('ANALYZE bench_peer.tickets');
  for (const topology of topologies) {
    const { processes, apiPort } = await startOurs(topology);
    const pids = Object.fromEntries(Object.entries(processes).map(([name, child]) => [name, child.pid!]));
    const client = jsonClient(`http://127.0.0.1:${apiPort}`, 2048);
    const pairs: Pair[] = (pairsByTopology[topology] = []);
    try {
      const oursRound = async (label: string) => {
        // Every round sells from empty order tables, as the first does (statistics kept from the warm-up).
        await emptyOrderTables(db);
        const { showingId, rows } = await newHotShowing(client);
        const meter = cpuMeter({ ...pids, peer: peer.pid!, loadgen: process.pid }).start();
        const foreign = foreignCpu(databaseName);
        Object.assign(polls, { sent: 0, notModified: 0 });
        const run = await blindBuyers(rows, oursSeller(client, showingId));
        const cpuMsPerDecision = meter(run.decisions);
        const foreignCpuPercent = foreign(cpuMsPerDecision);
        const audit = await auditOurs(db, showingId);
        const result = {
          system: 'ours',
          topology,
          label,
          ...run,
          ...(pollMs === undefined ? {} : { polls: { ...polls, perSecond: round(polls.sent / run.seconds) } }),
          audit,
          cpuMsPerDecision,
          foreignCpuPercent,
        };
        log(`${label} ours (${topology}): ${JSON.stringify({ ...result, decisionsPer500ms: undefined })}`);
        return result;
      };
      // Warm-up, not reported: connections opened, the JIT at work, then the column statistics of
      // orders and tickets in service (autovacuum is off here), as bench:orders does.
      await oursRound('warm-up');
      await db.raw('ANALYZE orders, tickets');
      for (let index = 1; index <= rounds; index += 1) {
        const peerResult = await peerRound(`${topology} round ${index}`, pids);
        const ours = await oursRound(`round ${index}`);
        results.push({ ...peerResult, topology }, ours);
        pairs.push({ peer: peerResult, ours });
      }
    } finally {
      client.close();
      for (const child of Object.values(processes)) child.kill('SIGTERM');
      await Promise.all(Object.values(processes).map(stopped));
    }
  }
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const result = {
    measuredAt: new Date().toISOString(),
    machine: '2 cores; load generator, our processes, the peer, PostgreSQL and Redis on the same machine',
    setup: {
      buyers,
      seats: ROWS * SEATS_PER_ROW,
      hall: `${ROWS} rows of ${SEATS_PER_ROW}`,
      attempt: 'a random block of 1-4 adjacent seats of one row, blind to what is taken, retried at once',
      capSeconds,
      disturbedAbovePercent: DISTURBED_PERCENT,
      ours: `${pollMs === undefined ? 'Prefer: wait=5' : `202 at once, then a poll of the Location every ${pollMs} ms with If-None-Match`}, CONFIRM_WITHOUT_PAYMENT=true, default settings`,
      peer: `scripts/bench/naive-peer.ts, one transaction per request, SELECT ... FOR UPDATE, pool ${args['peer-pool']}`,
    },
    summary: Object.fromEntries(
      Object.entries(pairsByTopology).map(([topology, pairs]) => {
        const clean = pairs.filter(
          (pair) => Math.max(pair.peer.foreignCpuPercent, pair.ours.foreignCpuPercent) <= DISTURBED_PERCENT,
        );
        const ratioOfMeans = (of: Pair[]) =>
          of.length === 0
            ? null
            : Number(
                (
                  mean(of.map((pair) => pair.ours.decisionsPerSecond)) /
                  mean(of.map((pair) => pair.peer.decisionsPerSecond))
                ).toFixed(2),
              );
        return [
          topology,
          {
            oursDecisionsPerSecond: pairs.map((pair) => pair.ours.decisionsPerSecond),
            oursP99: pairs.map((pair) => pair.ours.p99),
            peerDecisionsPerSecond: pairs.map((pair) => pair.peer.decisionsPerSecond),
            peerP99: pairs.map((pair) => pair.peer.p99),
            ratios: pairs.map((pair) =>
              Number((pair.ours.decisionsPerSecond / pair.peer.decisionsPerSecond).toFixed(2)),
            ),
            foreignCpuPercent: pairs.map((pair) => [pair.peer.foreignCpuPercent, pair.ours.foreignCpuPercent]),
            ratioOfMeans: ratioOfMeans(pairs),
            undisturbedPairs: clean.length,
            undisturbedRatioOfMeans: ratioOfMeans(clean),
          },
        ];
      }),
    ),
    rounds: results,
  };
  writeLatest(pollMs === undefined ? 'hot-showing' : 'hot-showing-polling', result, result.summary);
} finally {
  peerClient.close();
  peer.kill('SIGTERM');
  await stopped(peer);
  await db.destroy();
}
