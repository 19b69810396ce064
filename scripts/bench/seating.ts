import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_SEATING_RULES, type PlanRow } from '../../domain/model/seating.js';
import { bestSeats } from '../../domain/seating/best-seats.js';
import { cpuMeter, foreignCpu } from './cpu.js';
import { jsonClient, percentile, rawGetClient, submitAndDecide, type JsonClient } from './load.js';
import {
  ADMIN_TOKEN,
  auditShowingSales,
  config,
  emptyOrderTables,
  log,
  prepareDatabase,
  startRole,
  writeLatest,
} from './system.js';

/*
 * "Best available seats", each figure beside a baseline measured in the same run:
 *
 * 1. Best-seat answers on a 400-seat hall (20 rows of 20, an aisle after seat 10) at 50 % and 95 %
 *    of its seats taken at random, count 2-4 at random: (a) bestSeats() in this process against one
 *    pass over the same plans that only counts the free seats (the least any answer must do);
 *    (b) over HTTP on a catalog process, GET /showings/:id/seats/best against GET /showings/:id/seats
 *    of the same showings, closed loop (each connection sends its next request once answered).
 * 2. Group search: a city with 100 showings of one film on one local day (5 cinemas × 4 halls × 5
 *    showings, 400-seat halls, 0-90 % of each taken), GET /search/seats against
 *    GET /schedule?cityId&date&filmId of the same city and day: the first answer of a fresh process
 *    for each (cold), then --requests of each, one at a time, interleaved (warm), then the first of
 *    each after a catalog write. Target p99 < 100 ms.
 * 3. One hot showing: the rows of a 400-seat hall cut into blocks of 2-4 adjacent seats on one side
 *    of the aisle, each block wanted by --demand buyers, all of them ordering at one instant: naming
 *    the block's seats (one buyer of each block can be served) or asking for "best N" of its size,
 *    which the allocation chooses at decision time. Each round sells a fresh showing in each mode,
 *    explicit then best, --rounds after a warm-up of both; Prefer: wait=5, CONFIRM_WITHOUT_PAYMENT=true.
 *
 * Seats are taken with seat blocks through the admin API: a block moves the showing's seat-map
 * version on as a sale does, so the processes' seat-map caches stay exact (a direct INSERT would not).
 *
 * npm run bench:seating -- [--seconds 5] [--connections 16] [--requests 200] [--rounds 5] [--demand 3] [--port 3940]
 * With BENCH_DATABASE_URL and BENCH_REDIS_PREFIX (scripts/bench/system.ts) it runs beside another benchmark.
 */
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    requests: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '5' },
    demand: { type: 'string', default: '3' },
    port: { type: 'string', default: '3940' },
  },
});
const seconds = Number(args.seconds);
const connections = Number(args.connections);
const requests = Number(args.requests);
const rounds = Number(args.rounds);
const demand = Number(args.demand);
const catalogPort = Number(args.port);
const allRolesPort = catalogPort + 1;
const databaseName = new URL(config.DATABASE_URL).pathname.slice(1);

const ROWS = 20;
const SEATS_PER_ROW = 20;
const HALL_SEATS = ROWS * SEATS_PER_ROW;
/** Seats 1-10 and 11-20 of a row sit apart: no group crosses the aisle. */
const AISLE_AFTER = 10;
const OCCUPANCIES = [0.5, 0.95];
const COUNTS = [2, 3, 4];
/** Showings per occupancy read over HTTP, each with other seats taken. */
const SHOWINGS_PER_OCCUPANCY = 10;
/** Random plans per occupancy for the in-process figure, and how long each is timed. */
const PLANS = 100;
const IN_PROCESS_SECONDS = 2;
const SEARCH_CINEMAS = 5;
const HALLS_PER_CINEMA = 4;
/** Local starts of each search hall's showings: a 100-minute film and the 15-minute cleaning gap fit between two. */
const SEARCH_STARTS = ['10:00', '12:30', '15:00', '17:30', '20:00'];
const FILM_MINUTES = 100;
const SEARCH_MAX_OCCUPANCY = 0.9;
const SEARCH_TARGET_P99_MS = 100;
/** The search city's zone; Moscow keeps UTC+3 all year, so a local start is `${date}T${time}:00+03:00`. */
const ZONE = 'Europe/Moscow';
const ZONE_OFFSET = '+03:00';
/** The most seats one block request may name (the route's limit). */
const MAX_BLOCK = 100;
const HOUR = 3_600_000;

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const randomInt = (below: number) => Math.floor(Math.random() * below);
const pick = <T>(items: T[]) => items[randomInt(items.length)]!;
const randomCount = () => pick(COUNTS);
function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = randomInt(index + 1);
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}
const percent = (share: number) => `${Math.round(share * 100)}%`;
const fixed = (value: number, digits = 1) => Number(value.toFixed(digits));
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const thousands = (value: number) => Math.round(value).toLocaleString('en-US');
const outcomesOf = (outcomes: Record<string, number>) =>
  Object.entries(outcomes)
    .map(([outcome, orders]) => `${outcome} ${orders}`)
    .join(', ');
function distribution(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: fixed(percentile(sorted, 50)),
    p99: fixed(percentile(sorted, 99)),
    max: fixed(sorted.at(-1) ?? NaN),
  };
}

type Meter = () => ReturnType<ReturnType<typeof cpuMeter>['start']>;
/** CPU of these processes and of this one (the load generator), per unit of work. */
const meterOf =
  (processes: Record<string, ChildProcess>): Meter =>
  () =>
    cpuMeter({
      ...Object.fromEntries(Object.entries(processes).map(([name, child]) => [name, child.pid!])),
      loadgen: process.pid,
    }).start();

const running = new Set<ChildProcess>();
async function start(roles: string, port: number, env: Record<string, string> = {}) {
  const child = await startRole(roles, port, env);
  running.add(child);
  return child;
}
async function stop(child: ChildProcess) {
  if (child.exitCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
  running.delete(child);
}

async function created(api: JsonClient, path: string, body: unknown) {
  const response = await api.request('POST', path, body, admin);
  if (response.status !== 201) throw new Error(`POST ${path}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** A 20 × 20 hall with its aisle; its seat ids row by row. */
async function newHall(api: JsonClient, cinemaId: number, name: string): Promise<{ hallId: number; rows: number[][] }> {
  const layout = {
    rows: Array.from({ length: ROWS }, (_, row) => ({
      label: String.fromCharCode(65 + row),
      seats: Array.from({ length: SEATS_PER_ROW }, (_, seat) => ({
        number: seat + 1,
        // x is given only after the aisle, one position further than the seats before it run to.
        ...(seat === AISLE_AFTER ? { x: seat + 1 } : {}),
      })),
    })),
  };
  const hall = await created(api, '/api/v1/halls', { cinemaId, name, layout });
  return {
    hallId: hall.id,
    rows: hall.layout.rows.map((row: { seats: { id: number }[] }) => row.seats.map((seat) => seat.id)),
  };
}

/** Takes this share of the showing's seats, chosen at random, off sale. */
async function occupy(api: JsonClient, showingId: number, seatIds: number[], share: number) {
  const taken = shuffled(seatIds).slice(0, Math.round(share * seatIds.length));
  for (let first = 0; first < taken.length; first += MAX_BLOCK) {
    await created(api, `/api/v1/showings/${showingId}/blocks`, {
      seatIds: taken.slice(first, first + MAX_BLOCK),
      reason: 'bench occupancy',
    });
  }
}

// 1a. The pure function.

/** The hall as bestSeats() sees it, with this share of its seats taken at random. */
function randomPlan(share: number): PlanRow[] {
  const taken = new Set(shuffled([...Array(HALL_SEATS).keys()]).slice(0, Math.round(share * HALL_SEATS)));
  return Array.from({ length: ROWS }, (_, row) => ({
    label: String.fromCharCode(65 + row),
    y: row,
    seats: Array.from({ length: SEATS_PER_ROW }, (_, seat) => ({
      id: row * SEATS_PER_ROW + seat + 1,
      number: seat + 1,
      x: seat + (seat >= AISLE_AFTER ? 1 : 0),
      width: 1,
      category: 'standard' as const,
      free: !taken.has(row * SEATS_PER_ROW + seat),
    })),
  }));
}

/** Calls `call(i)` for i = 0, 1, ... during `forSeconds`, reading the clock every 1,000 calls. */
function timed(forSeconds: number, call: (index: number) => void) {
  let calls = 0;
  const started = performance.now();
  const deadline = started + forSeconds * 1000;
  while (performance.now() < deadline) {
    for (let index = calls; index < calls + 1000; index += 1) call(index);
    calls += 1000;
  }
  const elapsed = (performance.now() - started) / 1000;
  return { calls, callsPerSecond: Math.round(calls / elapsed), microsecondsPerCall: fixed((elapsed * 1e6) / calls, 3) };
}

function measureInProcess(share: number) {
  const plans = Array.from({ length: PLANS }, () => randomPlan(share));
  // 997 counts against 100 plans: the pairs keep changing, so no plan is always asked the same count.
  const counts = Array.from({ length: 997 }, randomCount);
  // What the calls answer is tallied, so that neither loop is work the JIT could drop.
  let answers: Record<string, number> = {};
  const best = (index: number) => {
    const { rule } = bestSeats(plans[index % PLANS]!, { count: counts[index % counts.length]! }, DEFAULT_SEATING_RULES);
    answers[rule] = (answers[rule] ?? 0) + 1;
  };
  let freeSeen = 0;
  const scan = (index: number) => {
    for (const row of plans[index % PLANS]!) for (const seat of row.seats) if (seat.free) freeSeen += 1;
  };
  // Warm-up: both compiled before either is timed.
  timed(0.5, best);
  timed(0.5, scan);
  answers = {};
  freeSeen = 0;
  const bestRun = timed(IN_PROCESS_SECONDS, best);
  const scanRun = timed(IN_PROCESS_SECONDS, scan);
  return {
    bestSeats: { ...bestRun, answers },
    freeSeatScan: { ...scanRun, meanFreeSeats: fixed(freeSeen / scanRun.calls) },
    ratio: fixed(bestRun.microsecondsPerCall / scanRun.microsecondsPerCall, 2),
  };
}

// 1b. Best seats over HTTP.

type RawClient = ReturnType<typeof rawGetClient>;

/** `connections` loops, each sending its next GET as soon as the last is answered, for `forSeconds`. */
async function readRate(client: RawClient, paths: string[], forSeconds: number, meter: Meter) {
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let bytes = 0;
  let failures = 0;
  const stopMeter = meter();
  const foreign = foreignCpu(databaseName);
  const started = performance.now();
  const deadline = started + forSeconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const sent = performance.now();
        try {
          const response = await client.get(pick(paths));
          latencies.push(performance.now() - sent);
          statuses[response.status] = (statuses[response.status] ?? 0) + 1;
          bytes += response.bytes;
        } catch {
          failures += 1;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpuPerAnswer = stopMeter(latencies.length);
  return {
    answersPerSecond: Math.round(latencies.length / elapsed),
    latencyMs: distribution(latencies),
    statuses,
    failures,
    meanBytes: Math.round(bytes / Math.max(1, latencies.length)),
    cpuPerAnswer,
    foreignCpuPercent: foreign(cpuPerAnswer),
  };
}

async function measureHttp(client: RawClient, showingIds: number[], meter: Meter) {
  const seatMapPaths = showingIds.map((id) => `/api/v1/showings/${id}/seats`);
  const bestPaths = showingIds.flatMap((id) =>
    COUNTS.map((count) => `/api/v1/showings/${id}/seats/best?count=${count}`),
  );
  // Warm-up, not reported: every map read into the process, the JIT at work on both routes.
  for (const path of seatMapPaths) await client.get(path);
  await readRate(client, seatMapPaths, 1, meter);
  await readRate(client, bestPaths, 1, meter);
  // Seat map, best, best, seat map: a drift of the machine during the four falls on both alike.
  const runs: Record<'seatMap' | 'best', Awaited<ReturnType<typeof readRate>>[]> = { seatMap: [], best: [] };
  for (const endpoint of ['seatMap', 'best', 'best', 'seatMap'] as const) {
    const run = await readRate(client, endpoint === 'best' ? bestPaths : seatMapPaths, seconds, meter);
    log(`  ${endpoint}: ${JSON.stringify(run)}`);
    runs[endpoint].push(run);
  }
  const meanRate = (of: typeof runs.best) => Math.round(mean(of.map((run) => run.answersPerSecond)));
  const [best, seatMap] = [meanRate(runs.best), meanRate(runs.seatMap)];
  // p99: the higher of the two runs.
  const worstP99 = (of: typeof runs.best) => Math.max(...of.map((run) => run.latencyMs.p99));
  // The catalog's CPU per answer, which the load generator's share of the two cores does not cap.
  const catalogMs = (of: typeof runs.best) => fixed(mean(of.map((run) => run.cpuPerAnswer.catalog!.msPerUnit!)), 3);
  const statuses: Record<number, number> = {};
  for (const run of runs.best) {
    for (const [status, answers] of Object.entries(run.statuses))
      statuses[Number(status)] = (statuses[Number(status)] ?? 0) + answers;
  }
  return {
    best: { answersPerSecond: best, p99: worstP99(runs.best), catalogCpuMsPerAnswer: catalogMs(runs.best), statuses },
    seatMap: { answersPerSecond: seatMap, p99: worstP99(runs.seatMap), catalogCpuMsPerAnswer: catalogMs(runs.seatMap) },
    ratio: fixed(best / seatMap, 2),
    cpuRatio: fixed(catalogMs(runs.best) / catalogMs(runs.seatMap), 2),
    foreignCpuPercent: [...runs.seatMap, ...runs.best].map((run) => run.foreignCpuPercent),
    runs,
  };
}

// 2. The group search.

/** One GET, alone: its latency in ms and its size. */
async function timedGet(client: RawClient, path: string) {
  const sent = performance.now();
  const response = await client.get(path);
  if (response.status !== 200) throw new Error(`GET ${path}: ${response.status}`);
  return { ms: performance.now() - sent, bytes: response.bytes };
}

/**
 * Cold, then warm. Cold is the first answer of a catalog process started for it, each endpoint in a
 * process of its own; and, in the schedule's process, the first search after it: the schedule read
 * and the routes compiled, only the seat maps not read yet.
 */
async function measureSearch(searchPath: (count: number) => string, schedulePath: string) {
  let catalog = await start('catalog', catalogPort);
  let client = rawGetClient(`http://127.0.0.1:${catalogPort}`, 1);
  const coldSearch = await timedGet(client, searchPath(randomCount()));
  client.close();
  await stop(catalog);
  catalog = await start('catalog', catalogPort);
  client = rawGetClient(`http://127.0.0.1:${catalogPort}`, 1);
  const api = jsonClient(`http://127.0.0.1:${catalogPort}`, 1);
  try {
    const coldSchedule = await timedGet(client, schedulePath);
    const mapsCold = await timedGet(client, searchPath(randomCount()));
    const cold = {
      search: fixed(coldSearch.ms),
      schedule: fixed(coldSchedule.ms),
      ratio: fixed(coldSearch.ms / coldSchedule.ms, 2),
      searchWithOnlyTheMapsCold: fixed(mapsCold.ms),
    };
    log(`  cold: ${JSON.stringify(cold)}`);
    const search: number[] = [];
    const schedule: number[] = [];
    const searchBytes: number[] = [];
    // A tenth as many of each first, not reported; then one at a time, alternating, so drift falls on both.
    for (let index = -Math.ceil(requests / 10); index < requests; index += 1) {
      const found = await timedGet(client, searchPath(randomCount()));
      const listed = await timedGet(client, schedulePath);
      if (index < 0) continue;
      search.push(found.ms);
      searchBytes.push(found.bytes);
      schedule.push(listed.ms);
      if ((index + 1) % 50 === 0) log(`  ${index + 1}/${requests} of each`);
    }
    const showingsListed: Record<number, number> = {};
    for (const count of COUNTS)
      showingsListed[count] = (await api.request('GET', searchPath(count))).body.showings.length;
    // Any catalog write (here a film of no showing) moves the one catalog version on, and every map
    // and schedule held is read again at its next request: a cold answer in a warm process.
    const firstAfterACatalogWrite = async (path: string) => {
      await created(api, '/api/v1/films', { title: 'Bench seating, a catalog write', durationMinutes: FILM_MINUTES });
      return fixed((await timedGet(client, path)).ms);
    };
    const afterACatalogWrite = {
      search: await firstAfterACatalogWrite(searchPath(randomCount())),
      schedule: await firstAfterACatalogWrite(schedulePath),
    };
    const warmSearch = { ...distribution(search), meanBytes: Math.round(mean(searchBytes)) };
    const warmSchedule = { ...distribution(schedule), meanBytes: coldSchedule.bytes };
    return {
      showingsListed,
      cold,
      afterACatalogWrite,
      warm: {
        search: warmSearch,
        schedule: warmSchedule,
        ratioP50: fixed(warmSearch.p50 / warmSchedule.p50, 2),
        ratioP99: fixed(warmSearch.p99 / warmSchedule.p99, 2),
      },
      targetP99Ms: SEARCH_TARGET_P99_MS,
      targetMet: warmSearch.p99 < SEARCH_TARGET_P99_MS,
    };
  } finally {
    client.close();
    api.close();
    await stop(catalog);
  }
}

// 3. The hot showing.

type Buyer = { count: number; seatIds: number[] };
type Mode = 'explicit' | 'best';

/**
 * Each side of every row cut at random into blocks of 2-4 adjacent seats, disjoint and covering the
 * hall, each block wanted by `demand` buyers.
 */
function hotBuyers(rows: number[][]): Buyer[] {
  const blocks: Buyer[] = [];
  for (const side of rows.flatMap((row) => [row.slice(0, AISLE_AFTER), row.slice(AISLE_AFTER)])) {
    let first = 0;
    while (first < side.length) {
      const left = side.length - first;
      // Never a single seat left over: no buyer of 2-4 could take it.
      const count = pick(COUNTS.filter((size) => size === left || left - size >= 2));
      blocks.push({ count, seatIds: side.slice(first, first + count) });
      first += count;
    }
  }
  return Array.from({ length: demand }, () => blocks).flat();
}

/** How the order ended (refused at the door, or its decision), and how many seats it got. */
async function decide(client: JsonClient, body: object): Promise<{ outcome: string; seats: number }> {
  const { order, refused } = await submitAndDecide(client, body);
  if (refused !== undefined) return { outcome: `refused at submit: ${refused}`, seats: 0 };
  const served = order.status === 'confirmed' || order.status === 'awaiting_payment';
  return {
    outcome: served ? order.status : `${order.status}: ${order.reason}`,
    seats: served ? order.seats.length : 0,
  };
}

/** Every buyer's order sent at one instant: decisions per second until the last, submit → decision. */
async function burst(client: JsonClient, showingId: number, buyers: Buyer[], mode: Mode) {
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  let seatsGiven = 0;
  let errors = 0;
  const started = performance.now();
  let lastDecision = started;
  await Promise.all(
    shuffled(buyers).map(async (buyer) => {
      const seats = mode === 'best' ? { best: { count: buyer.count } } : { seatIds: buyer.seatIds };
      try {
        const decided = await decide(client, { showingId, ...seats, customer: { email: 'seating@example.com' } });
        const now = performance.now();
        latencies.push(now - started);
        lastDecision = Math.max(lastDecision, now);
        outcomes[decided.outcome] = (outcomes[decided.outcome] ?? 0) + 1;
        seatsGiven += decided.seats;
      } catch (error) {
        errors += 1;
        if (errors <= 3) log(`  ${mode} order failed: ${(error as Error).message}`);
      }
    }),
  );
  const burstSeconds = (lastDecision - started) / 1000;
  return {
    orders: buyers.length,
    decisions: latencies.length,
    seconds: fixed(burstSeconds, 3),
    decisionsPerSecond: Math.round(latencies.length / burstSeconds),
    submitToDecisionMs: distribution(latencies),
    outcomes,
    seatsGiven,
    errors,
  };
}

type Db = Awaited<ReturnType<typeof prepareDatabase>>;

type HotRound = Awaited<ReturnType<typeof burst>> & {
  audit: Awaited<ReturnType<typeof auditShowingSales>>;
  foreignCpuPercent: number;
};

/**
 * The rounds on one process running every role. `nextStart` gives each round's showing a start of
 * its own in the hot hall.
 */
async function measureHot(db: Db, cinemaId: number, filmId: number, nextStart: () => string) {
  const all = await start('catalog,tickets,workers,payments,realtime', allRolesPort, {
    CONFIRM_WITHOUT_PAYMENT: 'true',
  });
  const client = jsonClient(`http://127.0.0.1:${allRolesPort}`, 2048);
  const meter = meterOf({ all });
  const measured: Record<Mode, HotRound[]> = { explicit: [], best: [] };
  try {
    const hall = await newHall(client, cinemaId, 'Hot');
    for (let round = 0; round <= rounds; round += 1) {
      // The same buyers in both modes of a round.
      const buyers = hotBuyers(hall.rows);
      for (const mode of ['explicit', 'best'] as const) {
        // Every round sells from empty order tables, as the first does.
        await emptyOrderTables(db);
        const showing = await created(client, '/api/v1/showings', {
          hallId: hall.hallId,
          filmId,
          startsAt: nextStart(),
        });
        const stopMeter = meter();
        const foreign = foreignCpu(databaseName);
        const run = await burst(client, showing.id, buyers, mode);
        const cpuPerDecision = stopMeter(run.decisions);
        const result = {
          ...run,
          audit: await auditShowingSales(db, showing.id),
          cpuPerDecision,
          foreignCpuPercent: foreign(cpuPerDecision),
        };
        log(`  ${round === 0 ? 'warm-up' : `round ${round}`} ${mode}: ${JSON.stringify(result)}`);
        if (round > 0) measured[mode].push(result);
      }
      // Then the column statistics of orders and tickets in service (autovacuum is off here), as bench:hot does.
      if (round === 0) await db.raw('ANALYZE orders, tickets');
    }
  } finally {
    client.close();
    await stop(all);
  }
  const summaryOf = (runs: HotRound[]) => ({
    decisionsPerSecond: runs.map((run) => run.decisionsPerSecond),
    meanDecisionsPerSecond: Math.round(mean(runs.map((run) => run.decisionsPerSecond))),
    p50: runs.map((run) => run.submitToDecisionMs.p50),
    p99: runs.map((run) => run.submitToDecisionMs.p99),
    orders: runs.map((run) => run.orders),
    seatsSold: runs.map((run) => run.audit.seatsSold),
    outcomes: runs.reduce<Record<string, number>>((sum, run) => {
      for (const [outcome, orders] of Object.entries(run.outcomes)) sum[outcome] = (sum[outcome] ?? 0) + orders;
      return sum;
    }, {}),
    doubleSold: runs.reduce((sum, run) => sum + run.audit.doubleSold, 0),
    stillQueued: runs.reduce((sum, run) => sum + run.audit.stillQueued, 0),
    foreignCpuPercent: runs.map((run) => run.foreignCpuPercent),
  });
  const [explicit, best] = [summaryOf(measured.explicit), summaryOf(measured.best)];
  return {
    summary: {
      explicit,
      best,
      ratioOfMeans: fixed(best.meanDecisionsPerSecond / explicit.meanDecisionsPerSecond, 2),
      ratios: best.decisionsPerSecond.map((rate, index) => fixed(rate / explicit.decisionsPerSecond[index]!, 2)),
    },
    rounds: measured,
  };
}

// The run.

const runStarted = performance.now();
const elapsed = () => `${Math.round((performance.now() - runStarted) / 1000)} s`;
const db = await prepareDatabase();
try {
  log(`1a. bestSeats() in this process against a scan for free seats, ${IN_PROCESS_SECONDS} s each (${elapsed()})`);
  const inProcess: Record<string, ReturnType<typeof measureInProcess>> = {};
  for (const share of OCCUPANCIES) {
    inProcess[percent(share)] = measureInProcess(share);
    log(`  ${percent(share)} taken: ${JSON.stringify(inProcess[percent(share)])}`);
  }

  log(
    `setup: a city, ${SEARCH_CINEMAS * HALLS_PER_CINEMA + 1} halls of ${HALL_SEATS} seats, their showings and blocks (${elapsed()})`,
  );
  const catalog = await start('catalog', catalogPort);
  const api = jsonClient(`http://127.0.0.1:${catalogPort}`, 64);
  const city = await created(api, '/api/v1/cities', { name: `Bench seating ${randomUUID().slice(0, 8)}` });
  const film = await created(api, '/api/v1/films', { title: 'Bench seating', durationMinutes: FILM_MINUTES });
  // Tomorrow in the cinemas' zone: every start of that day is ahead, so on sale and searched.
  const date = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE }).format(Date.now() + 24 * HOUR);
  const cinemaIds: number[] = [];
  for (let cinemaIndex = 1; cinemaIndex <= SEARCH_CINEMAS; cinemaIndex += 1) {
    const cinema = await created(api, '/api/v1/cinemas', {
      cityId: city.id,
      name: `Bench seating ${cinemaIndex}`,
      timezone: ZONE,
    });
    cinemaIds.push(cinema.id);
    for (let hallIndex = 1; hallIndex <= HALLS_PER_CINEMA; hallIndex += 1) {
      const hall = await newHall(api, cinema.id, `Hall ${hallIndex}`);
      for (const time of SEARCH_STARTS) {
        const startsAt = `${date}T${time}:00${ZONE_OFFSET}`;
        const showing = await created(api, '/api/v1/showings', { hallId: hall.hallId, filmId: film.id, startsAt });
        await occupy(api, showing.id, hall.rows.flat(), Math.random() * SEARCH_MAX_OCCUPANCY);
      }
    }
    log(
      `  cinema ${cinemaIndex}/${SEARCH_CINEMAS}: ${HALLS_PER_CINEMA * SEARCH_STARTS.length} showings on ${date} (${elapsed()})`,
    );
  }
  // The other showings of the run start 3 hours apart from three days on, after the search's day.
  let slot = 0;
  const firstStart = Math.ceil(Date.now() / HOUR) * HOUR + 72 * HOUR;
  const nextStart = () => new Date(firstStart + 3 * HOUR * slot++).toISOString();
  const readHall = await newHall(api, cinemaIds[0]!, 'Reads');
  const readShowings: Record<string, number[]> = {};
  for (const share of OCCUPANCIES) {
    const ids: number[] = [];
    for (let index = 0; index < SHOWINGS_PER_OCCUPANCY; index += 1) {
      const showing = await created(api, '/api/v1/showings', {
        hallId: readHall.hallId,
        filmId: film.id,
        startsAt: nextStart(),
      });
      await occupy(api, showing.id, readHall.rows.flat(), share);
      ids.push(showing.id);
    }
    readShowings[percent(share)] = ids;
  }
  api.close();

  log(`1b. GET /showings/:id/seats/best against /seats, ${seconds} s each, ${connections} connections (${elapsed()})`);
  const http: Record<string, Awaited<ReturnType<typeof measureHttp>>> = {};
  const reads = rawGetClient(`http://127.0.0.1:${catalogPort}`, connections);
  for (const share of OCCUPANCIES) {
    log(` ${percent(share)} taken`);
    http[percent(share)] = await measureHttp(reads, readShowings[percent(share)]!, meterOf({ catalog }));
  }
  reads.close();
  await stop(catalog);

  log(`2. GET /search/seats against GET /schedule, city ${city.id}, film ${film.id}, ${date} (${elapsed()})`);
  const search = await measureSearch(
    (count) => `/api/v1/search/seats?filmId=${film.id}&cityId=${city.id}&date=${date}&count=${count}`,
    `/api/v1/schedule?cityId=${city.id}&date=${date}&filmId=${film.id}`,
  );
  log(`  ${JSON.stringify(search)}`);

  log(`3. one hot showing: explicit seats, then best N, ${rounds} rounds after a warm-up (${elapsed()})`);
  const hot = await measureHot(db, cinemaIds[0]!, film.id, nextStart);

  const summary = {
    inProcess: Object.fromEntries(
      Object.entries(inProcess).map(([share, { bestSeats: best, freeSeatScan: scan, ratio }]) => [
        share,
        {
          bestSeats: { callsPerSecond: best.callsPerSecond, microsecondsPerCall: best.microsecondsPerCall },
          freeSeatScan: { callsPerSecond: scan.callsPerSecond, microsecondsPerCall: scan.microsecondsPerCall },
          ratio,
        },
      ]),
    ),
    http: Object.fromEntries(
      Object.entries(http).map(([share, { best, seatMap, ratio, cpuRatio }]) => [
        share,
        { best, seatMap, ratio, cpuRatio },
      ]),
    ),
    search: {
      cold: search.cold,
      afterACatalogWrite: search.afterACatalogWrite,
      warm: search.warm,
      targetP99Ms: search.targetP99Ms,
      targetMet: search.targetMet,
    },
    hot: hot.summary,
  };
  const runSeconds = Math.round((performance.now() - runStarted) / 1000);
  writeLatest(
    'seating',
    {
      measuredAt: new Date().toISOString(),
      machine: `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; load generator, services, PostgreSQL and Redis on the same machine`,
      runSeconds,
      setup: {
        hall: `${ROWS} rows of ${SEATS_PER_ROW}, an aisle after seat ${AISLE_AFTER}, standard seats, default seating rules`,
        occupancy: 'seat blocks through the admin API, seats chosen at random',
        inProcess: `bestSeats() over ${PLANS} random plans per occupancy, count 2-4; baseline one pass counting free seats; ${IN_PROCESS_SECONDS} s each`,
        http: `one catalog process, ${SHOWINGS_PER_OCCUPANCY} showings per occupancy, count 2-4, closed loop of ${connections} connections, ${seconds} s each`,
        search: `${SEARCH_CINEMAS * HALLS_PER_CINEMA * SEARCH_STARTS.length} showings of the film in the city that day, 0-${percent(SEARCH_MAX_OCCUPANCY)} taken; cold: the first request of a fresh catalog process, and the first search after a cold schedule; the first of each after a catalog write (a film created); warm: ${requests} of each, one at a time, alternating, after ${Math.ceil(requests / 10)} of each not reported; count 2-4`,
        hot: `the ${HALL_SEATS}-seat hall cut into blocks of 2-4 seats, each wanted by ${demand} buyers, all at one instant; explicit: the block's seats; best: its size; Prefer: wait=5, CONFIRM_WITHOUT_PAYMENT=true, every role in one process; ${rounds} rounds of each after a warm-up of each`,
      },
      summary,
      inProcess,
      http,
      search,
      hot,
    },
    summary,
  );

  const rows: [string, string, string, string][] = [
    ['', 'best available', 'baseline, same run', 'ratio'],
    ...Object.entries(inProcess).map(
      ([share, { bestSeats: best, freeSeatScan: scan, ratio }]): [string, string, string, string] => [
        `1a bestSeats(), ${share} taken`,
        `${thousands(best.callsPerSecond)} calls/s, ${best.microsecondsPerCall} µs`,
        `free-seat scan ${thousands(scan.callsPerSecond)}/s, ${scan.microsecondsPerCall} µs`,
        `${ratio} × the µs`,
      ],
    ),
    ...Object.entries(http).map(([share, { best, seatMap, ratio, cpuRatio }]): [string, string, string, string] => [
      `1b HTTP, ${share} taken`,
      `${thousands(best.answersPerSecond)}/s, p99 ${best.p99} ms, ${best.catalogCpuMsPerAnswer} ms CPU (${thousands(best.statuses[409] ?? 0)} of ${thousands(Object.values(best.statuses).reduce((sum, answers) => sum + answers, 0))} answers 409)`,
      `seat map ${thousands(seatMap.answersPerSecond)}/s, p99 ${seatMap.p99} ms, ${seatMap.catalogCpuMsPerAnswer} ms CPU`,
      `${ratio} × the answers/s, ${cpuRatio} × the CPU`,
    ]),
    [
      '2 search, cold',
      `${search.cold.search} ms (only the maps cold: ${search.cold.searchWithOnlyTheMapsCold} ms)`,
      `schedule ${search.cold.schedule} ms`,
      `${search.cold.ratio} ×`,
    ],
    [
      '2 search, first after a catalog write',
      `${search.afterACatalogWrite.search} ms`,
      `schedule ${search.afterACatalogWrite.schedule} ms`,
      `${fixed(search.afterACatalogWrite.search / search.afterACatalogWrite.schedule, 2)} ×`,
    ],
    [
      `2 search, warm p50 / p99`,
      `${search.warm.search.p50} / ${search.warm.search.p99} ms (p99 < ${SEARCH_TARGET_P99_MS} ms: ${search.targetMet ? 'met' : 'missed'})`,
      `schedule ${search.warm.schedule.p50} / ${search.warm.schedule.p99} ms`,
      `${search.warm.ratioP50} / ${search.warm.ratioP99} ×`,
    ],
    [
      '3 hot showing, decisions/s',
      `best ${thousands(hot.summary.best.meanDecisionsPerSecond)} (${hot.summary.best.decisionsPerSecond.join(', ')})`,
      `explicit ${thousands(hot.summary.explicit.meanDecisionsPerSecond)} (${hot.summary.explicit.decisionsPerSecond.join(', ')})`,
      `${hot.summary.ratioOfMeans} × (${hot.summary.ratios.join(', ')})`,
    ],
    [
      '3 hot showing, p50 / p99 ms',
      hot.summary.best.p50.map((p50, index) => `${p50}/${hot.summary.best.p99[index]}`).join(', '),
      `explicit ${hot.summary.explicit.p50.map((p50, index) => `${p50}/${hot.summary.explicit.p99[index]}`).join(', ')}`,
      '',
    ],
    [
      '3 hot showing, seats sold',
      `${hot.summary.best.seatsSold.join(', ')} of ${HALL_SEATS}`,
      `explicit ${hot.summary.explicit.seatsSold.join(', ')}`,
      `double sold ${hot.summary.best.doubleSold + hot.summary.explicit.doubleSold}, left queued ${hot.summary.best.stillQueued + hot.summary.explicit.stillQueued}`,
    ],
    [
      '3 hot showing, outcomes',
      outcomesOf(hot.summary.best.outcomes),
      `explicit ${outcomesOf(hot.summary.explicit.outcomes)}`,
      '',
    ],
    [
      'other work on the machine',
      `1b: ${Object.values(http)
        .flatMap((measured) => measured.foreignCpuPercent)
        .join(', ')} % of a core`,
      `3: ${hot.summary.explicit.foreignCpuPercent.map((explicit, index) => `${explicit}/${hot.summary.best.foreignCpuPercent[index]}`).join(', ')} %`,
      '',
    ],
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows) console.log(`| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`);
  console.log(`(${runSeconds} s; docs/benchmarks/seating-latest.json)`);
} finally {
  await Promise.all([...running].map(stop));
  await db.destroy();
}
