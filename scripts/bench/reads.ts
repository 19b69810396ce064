import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { cpuMeter } from './cpu.js';
import { jsonClient, openLoop, percentile, rawGetClient } from './load.js';
import {
  logFileOf,
  observabilityModes,
  observabilitySettings,
  scrapeMetrics,
  type Observability,
} from './observability.js';
import { loadTargets, log, prepareDatabase, root, startRole, type Target, writeLatest } from './system.js';

// npm run bench:reads -- [--topology all|split|both] [--rates 2500,5000,7500,10000] [--seconds 10]
//   [--order-rate 1000] [--connections 64] [--endpoints seatMap,schedule] [--observability on|off|both]
// What most of 10,000 users do: load seat maps and schedules, while orders flow. Each read step runs
// at a fixed arrival rate with orders at --order-rate beside it, against the system as `npm start`
// runs it (all roles in one process) and with the roles apart; the reference is a bare node:http
// server answering the same bytes, measured in the same run.
const { values: args } = parseArgs({
  options: {
    topology: { type: 'string', default: 'both' },
    rates: { type: 'string', default: '2500,5000,7500,10000' },
    seconds: { type: 'string', default: '10' },
    'order-rate': { type: 'string', default: '1000' },
    connections: { type: 'string', default: '64' },
    endpoints: { type: 'string', default: 'seatMap,schedule' },
    observability: { type: 'string', default: 'on' },
  },
});
const rates = args.rates.split(',').map(Number);
const seconds = Number(args.seconds);
const orderRate = Number(args['order-rate']);
const connections = Number(args.connections);
const topologies = args.topology === 'both' ? ['all', 'split'] : [args.topology];
const endpoints = args.endpoints.split(',');
const modes = observabilityModes(args.observability);

const P99_TARGET_MS = 50;
const BARE_PORT = 3929;

type Endpoint = 'seatMap' | 'schedule';
type Services = {
  name: string;
  processes: Record<string, ChildProcess>;
  ports: number[];
  ordersUrl: string;
  seatMapUrl: string;
  scheduleUrl: string;
};

async function startServices(topology: string, mode: Observability): Promise<Services> {
  const settings = { CONFIRM_WITHOUT_PAYMENT: 'true', ...observabilitySettings(mode) };
  const logs = (name: string) => logFileOf(mode, `reads-${name}-${mode}`);
  if (topology === 'all') {
    const all = await startRole('catalog,tickets,workers,payments,realtime', 3920, settings, [], logs('all'));
    const url = 'http://127.0.0.1:3920';
    return {
      name: 'all roles in one process',
      processes: { api: all },
      ports: [3920],
      ordersUrl: url,
      seatMapUrl: url,
      scheduleUrl: url,
    };
  }
  const [catalog, tickets, workers] = await Promise.all([
    startRole('catalog', 3921, settings, [], logs('catalog')),
    startRole('tickets', 3922, settings, [], logs('tickets')),
    startRole('workers', 3923, settings, [], logs('workers')),
  ]);
  return {
    name: 'catalog, tickets and workers in separate processes',
    processes: { catalog, tickets, workers },
    ports: [3921, 3922, 3923],
    ordersUrl: 'http://127.0.0.1:3922',
    seatMapUrl: 'http://127.0.0.1:3921',
    scheduleUrl: 'http://127.0.0.1:3921',
  };
}

async function stop(children: ChildProcess[]) {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }),
  );
}

/** Cities and the local dates that have showings: today and tomorrow in each city's zone (the seed's days). */
async function scheduleQueries(client: ReturnType<typeof jsonClient>): Promise<string[]> {
  const cities = (await client.request('GET', '/api/v1/cities?limit=200')).body.data as { id: number }[];
  const queries: string[] = [];
  for (const city of cities) {
    const cinemas = (await client.request('GET', `/api/v1/cinemas?cityId=${city.id}&limit=1`)).body.data;
    const zone: string = cinemas[0]?.timezone ?? 'UTC';
    for (const offsetDays of [0, 1]) {
      const date = new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(Date.now() + offsetDays * 86_400_000);
      queries.push(`/api/v1/schedule?cityId=${city.id}&date=${date}`);
    }
  }
  return queries;
}

const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)]!;

/** Orders at a fixed rate over the targets, each answered on a waiting POST; latencies of the decisions. */
function orderFlow(baseUrl: string, targets: Target[]) {
  const client = jsonClient(baseUrl, 256);
  const latencies: number[] = [];
  let errors = 0;
  const run = (rate: number, forSeconds: number) =>
    openLoop(rate, forSeconds, async () => {
      const target = pick(targets);
      const seat = pick(target.seatIds);
      const started = performance.now();
      try {
        const response = await client.request(
          'POST',
          '/api/v1/orders',
          { showingId: target.showingId, seatIds: [seat], customer: { email: 'reader@example.com' } },
          { 'idempotency-key': randomUUID(), prefer: 'wait=5' },
        );
        // Seats known taken when the order arrived are refused at once: a decision, not an error.
        const refused = response.status === 409 && response.body?.error?.code === 'SEAT_TAKEN';
        if (response.status >= 300 && !refused) errors += 1;
        latencies.push(performance.now() - started);
      } catch {
        errors += 1;
      }
    });
  return {
    run,
    take: () => {
      const taken = latencies.splice(0).sort((a, b) => a - b);
      const result = { orders: taken.length, p99: Math.round(percentile(taken, 99)), errors };
      errors = 0;
      return result;
    },
    close: () => client.close(),
  };
}

/** Reads at a fixed rate for `forSeconds`: throughput, latency, statuses. */
async function readStep(baseUrl: string, paths: string[], rate: number, forSeconds: number) {
  const client = rawGetClient(baseUrl, connections);
  const latencies: number[] = [];
  let errors = 0;
  let bytes = 0;
  const failures = new Map<string, number>();
  const failed = (what: string) => {
    errors += 1;
    failures.set(what, (failures.get(what) ?? 0) + 1);
  };
  const loop = await openLoop(rate, forSeconds, async () => {
    const started = performance.now();
    try {
      const response = await client.get(pick(paths));
      if (response.status !== 200) failed(`status ${response.status}`);
      bytes += response.bytes;
      latencies.push(performance.now() - started);
    } catch (error) {
      failed((error as Error).message);
    }
  });
  client.close();
  latencies.sort((a, b) => a - b);
  return {
    rate,
    requestsPerSecond: Math.round(latencies.length / loop.seconds),
    p50: Number(percentile(latencies, 50).toFixed(1)),
    p99: Number(percentile(latencies, 99).toFixed(1)),
    errors: errors + loop.refused,
    ...(failures.size > 0 || loop.refused > 0
      ? { failures: { ...Object.fromEntries(failures), ...(loop.refused > 0 ? { refused: loop.refused } : {}) } }
      : {}),
    meanBytes: latencies.length > 0 ? Math.round(bytes / latencies.length) : 0,
  };
}

/** Steps up the rates until one misses p99 < 50 ms by far; the highest held is the figure. */
async function ladder(
  label: string,
  run: (rate: number) => Promise<{ requestsPerSecond: number; p99: number; errors: number }>,
) {
  const steps = [];
  for (const rate of rates) {
    const step = await run(rate);
    log(`${label} ${rate}/s: ${JSON.stringify(step)}`);
    steps.push(step);
    if (step.p99 > 10 * P99_TARGET_MS) break;
  }
  const held = steps.filter((step) => step.p99 < P99_TARGET_MS && step.errors === 0);
  return { steps, highestHeld: held.length > 0 ? Math.max(...held.map((step) => step.requestsPerSecond)) : 0 };
}

const db = await prepareDatabase();
const meterOf = (processes: Record<string, ChildProcess>) =>
  cpuMeter({
    ...Object.fromEntries(Object.entries(processes).map(([name, child]) => [name, child.pid!])),
    loadgen: process.pid,
  });
const results: Record<string, unknown> = {};
let bare: ChildProcess | undefined;

type Ladder = Awaited<ReturnType<typeof ladder>>;
/** By topology, then by observability mode, then by endpoint. */
const measured: Record<string, Partial<Record<Observability, Record<string, Ladder>>>> = {};

try {
  for (const [topology, mode] of topologies.flatMap((topology) => modes.map((mode) => [topology, mode] as const))) {
    const services = await startServices(topology, mode);
    const stopScraping = scrapeMetrics(mode, services.ports);
    log(`topology: ${services.name}, observability ${mode}`);
    try {
      const api = jsonClient(services.seatMapUrl);
      const catalog = jsonClient(services.scheduleUrl);
      const targets = await loadTargets(catalog, 1000);
      const seatMapPaths = targets.map((target) => `/api/v1/showings/${target.showingId}/seats`);
      const schedulePaths = await scheduleQueries(catalog);
      const orders = orderFlow(services.ordersUrl, targets);

      log(`warm-up: orders at ${orderRate}/s, reads of every showing and schedule`);
      await Promise.all([
        orders.run(orderRate, 5),
        readStep(services.seatMapUrl, seatMapPaths, 1000, 3),
        readStep(services.scheduleUrl, schedulePaths, 500, 3),
      ]);
      orders.take();

      if (!bare) {
        // The same bytes our API answers, served bare: what this machine can do for these reads.
        const bodiesFile = `${tmpdir()}/bench-bare-bodies-${process.pid}.json`;
        const seatMap = await api.request('GET', seatMapPaths[0]!);
        const schedule = await catalog.request('GET', schedulePaths[0]!);
        writeFileSync(
          bodiesFile,
          JSON.stringify({ seatMap: JSON.stringify(seatMap.body), schedule: JSON.stringify(schedule.body) }),
        );
        bare = spawn(process.execPath, [`${root}/dist/scripts/bench/bare-server.js`], {
          env: { ...process.env, BARE_BODIES: bodiesFile, BARE_PORT: String(BARE_PORT) },
          stdio: ['ignore', 'inherit', 'inherit'],
        });
        await new Promise((resolve) => setTimeout(resolve, 500));
        const bareUrl = `http://127.0.0.1:${BARE_PORT}`;
        const meter = meterOf({ bare, ...services.processes });
        // Alone, the machine's ceiling for these bytes; beside the same order flow as our reads, what
        // is left of the two cores for any server once the orders have taken their share.
        const reference: Record<string, Record<string, unknown>> = { alone: {}, whileOrdersFlow: {} };
        for (const [endpoint, paths] of [
          ['seatMap', seatMapPaths],
          ['schedule', schedulePaths],
        ] as const) {
          if (!endpoints.includes(endpoint)) continue;
          reference.alone![endpoint] = await ladder(`reference ${endpoint}`, async (rate) => {
            const stopMeter = meter.start();
            const step = await readStep(bareUrl, paths, rate, seconds);
            return { ...step, cpu: stopMeter(step.requestsPerSecond * seconds) };
          });
          reference.whileOrdersFlow![endpoint] = await ladder(
            `reference ${endpoint}, orders at ${orderRate}/s on ${topology}`,
            async (rate) => {
              const stopMeter = meter.start();
              const [step] = await Promise.all([
                readStep(bareUrl, paths, rate, seconds),
                orders.run(orderRate, seconds),
              ]);
              return { ...step, ordersWhileReading: orders.take(), cpu: stopMeter(step.requestsPerSecond * seconds) };
            },
          );
        }
        results.reference = reference;
      }

      const meter = meterOf(services.processes);
      const byEndpoint: Record<string, Ladder> = {};
      for (const [endpoint, url, paths] of [
        ['seatMap', services.seatMapUrl, seatMapPaths],
        ['schedule', services.scheduleUrl, schedulePaths],
      ] as [Endpoint, string, string[]][]) {
        if (!endpoints.includes(endpoint)) continue;
        byEndpoint[endpoint] = await ladder(`${topology} (observability ${mode}) ${endpoint}`, async (rate) => {
          const stopMeter = meter.start();
          const [step] = await Promise.all([readStep(url, paths, rate, seconds), orders.run(orderRate, seconds)]);
          return {
            ...step,
            ordersWhileReading: orders.take(),
            cpuPerRead: stopMeter(step.requestsPerSecond * seconds),
          };
        });
      }
      measured[topology] = { ...measured[topology], [mode]: byEndpoint };
      orders.close();
      api.close();
      catalog.close();
    } finally {
      stopScraping();
      await stop(Object.values(services.processes));
    }
  }
} finally {
  if (bare) await stop([bare]);
  await db.destroy();
}

/** The two runs of --observability both, step by step: what access logs, info lines and metrics cost. */
function sideBySide(on: Record<string, Ladder>, off: Record<string, Ladder>) {
  return Object.fromEntries(
    Object.keys(on).map((endpoint) => {
      const [withIt, without] = [on[endpoint]!, off[endpoint]!];
      // Both ladders climb the same rates, in order, until one stops.
      const steps = withIt.steps
        .slice(0, without.steps.length)
        .map((step, index) => ({ rate: rates[index], on: step, off: without.steps[index] }));
      return [endpoint, { highestHeld: { on: withIt.highestHeld, off: without.highestHeld }, steps }];
    }),
  );
}

for (const [topology, byMode] of Object.entries(measured)) {
  results[topology] = modes.length === 1 ? byMode[modes[0]!] : byMode;
}
const compared = Object.entries(measured).flatMap(([topology, { on, off }]) =>
  on && off ? [[topology, sideBySide(on, off)] as const] : [],
);

const summary = {
  measuredAt: new Date().toISOString(),
  observability: args.observability,
  ...(compared.length > 0 ? { observabilityOnAndOff: Object.fromEntries(compared) } : {}),
  machine: '2 cores; load generator, services, PostgreSQL and Redis on the same machine',
  target: `≥ 5,000 req/s at p99 < ${P99_TARGET_MS} ms each, while orders flow at ${orderRate}/s`,
  seconds,
  connections,
  results,
};
writeLatest('reads', summary);
