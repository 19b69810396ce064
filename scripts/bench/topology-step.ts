import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { RATE_LIMITS_OFF } from '../../host/config.js';
import { freePorts } from '../topology/checks.js';
import { DEFAULT_COUNTS, startTopology, TOPOLOGY_ROLES, type Counts, type Topology } from '../topology/topology.js';
import { cpuMeter } from './cpu.js';
import { jsonClient, percentile } from './load.js';
import { ordersPushed } from './order-push.js';
import {
  benchStores,
  clearRedisPrefix,
  measurePgbenchBaseline,
  log,
  prepareDatabase,
  startRole,
  writeLatest,
} from './system.js';

// npm run bench:topology -- [--rates 250,350,450,600,800,1000,1250,1500,1750,2000,2500] [--seconds 10] [--sockets 200]
//   [--tickets 4 --catalog 2 --realtime 2 --workers 2 --payments 1] [--nginx-workers 1] [--single on|off]
// The orders of bench:realtime (open loop, each buyer subscribing to its order over Socket.IO and
// waiting for the decision to be pushed) sent through the nginx entry of the production topology
// (scripts/topology), then, in the same run, to one process running every role with no nginx: the
// highest step each holds at submit → push p99 < 500 ms and errors < 0.1 %, beside the pgbench
// baseline, with the CPU of every process (nginx, each instance, PostgreSQL, Redis, the load generator).
const { values: args } = parseArgs({
  options: {
    rates: { type: 'string', default: '250,350,450,600,800,1000,1250,1500,1750,2000,2500' },
    seconds: { type: 'string', default: '10' },
    sockets: { type: 'string', default: '200' },
    ...Object.fromEntries(TOPOLOGY_ROLES.map((role) => [role, { type: 'string' as const }])),
    'nginx-workers': { type: 'string', default: '1' },
    single: { type: 'string', default: 'on' },
  },
});
const counts = Object.fromEntries(
  TOPOLOGY_ROLES.map((role) => [role, Number((args as Record<string, unknown>)[role] ?? DEFAULT_COUNTS[role])]),
) as Counts;
const rates = args.rates.split(',').map(Number);
if (!['on', 'off'].includes(args.single)) throw new Error(`--single is on or off, not ${args.single}`);

const stores = benchStores('bench_topology');
const storeEnv = { DATABASE_URL: stores.DATABASE_URL, REDIS_URL: stores.REDIS_URL, REDIS_PREFIX: stores.REDIS_PREFIX };
const databaseName = new URL(stores.DATABASE_URL).pathname.slice(1);
const CONNECTIONS = 256;
const MAX_ERROR_SHARE = 0.001;

type Cpu = Record<string, { cpuPercent: number; msPerUnit: number | null }>;

/** Adds up CPU figures: percent of one core and ms per order. */
function sum(entries: Cpu[string][]) {
  return {
    cpuPercent: entries.reduce((total, entry) => total + entry.cpuPercent, 0),
    msPerUnit: Number(entries.reduce((total, entry) => total + (entry.msPerUnit ?? 0), 0).toFixed(3)),
  };
}

/** Per role (its instances added up), then nginx, PostgreSQL, Redis, the load generator, and their sum. */
function cpuByRole(cpu: Cpu): Record<string, ReturnType<typeof sum>> {
  const byRole = TOPOLOGY_ROLES.flatMap((role) => {
    const instances = Object.entries(cpu).filter(([name]) => name.startsWith(`${role}-`));
    return instances.length === 0 ? [] : [[role, sum(instances.map(([, entry]) => entry))] as const];
  });
  const others = ['all', 'nginx', 'postgres', 'redis', 'loadgen'].flatMap((name) =>
    cpu[name] ? [[name, sum([cpu[name]])] as const] : [],
  );
  return Object.fromEntries([...byRole, ...others, ['total', sum(Object.values(cpu))]]);
}

/** CPU of each process over a few seconds without load: what running the processes costs at all. */
async function idleCpu(processes: Record<string, number>, groups: Record<string, number> = {}) {
  const stop = cpuMeter({ ...processes, loadgen: process.pid }, groups).start();
  await sleep(5_000);
  return Object.fromEntries(Object.entries(cpuByRole(stop(0))).map(([name, entry]) => [name, entry.cpuPercent]));
}

/**
 * What nginx saw over the whole run (warm-up and steps): answers by status, requests that opened a
 * new connection to an instance (a connect time above 0), and nginx's own time per order submit
 * (its request time less the instance's response time).
 */
async function nginxAccessSummary(accessLog: string) {
  const byStatus: Record<string, number> = {};
  const ownTimeMs: number[] = [];
  let requests = 0;
  let newUpstreamConnections = 0;
  for await (const line of createInterface({ input: createReadStream(accessLog), crlfDelay: Infinity })) {
    const entry = JSON.parse(line);
    requests += 1;
    byStatus[entry.status] = (byStatus[entry.status] ?? 0) + 1;
    if (Number(entry.upstream_connect_time) > 0) newUpstreamConnections += 1;
    if (entry.method === 'POST' && entry.path === '/api/v1/orders' && entry.upstream_response_time) {
      ownTimeMs.push(Math.round((entry.request_time - Number(entry.upstream_response_time)) * 1000));
    }
  }
  ownTimeMs.sort((a, b) => a - b);
  return {
    requests,
    byStatus,
    newUpstreamConnections,
    submitOwnTimeMs: { p50: percentile(ownTimeMs, 50), p99: percentile(ownTimeMs, 99), max: ownTimeMs.at(-1) },
  };
}

type Measured = Awaited<ReturnType<typeof ordersPushed>>;
type Stepped = ReturnType<typeof withCpuByRole>;

/** The steps as they are, each with its CPU also added up by role. */
const withCpuByRole = (measured: Measured) => ({
  ...measured,
  steps: measured.steps.map((step) => ({ ...step, cpuByRole: cpuByRole(step.cpuMsPerOrder) })),
});

const pushRun = (label: string, entryUrl: string, client: ReturnType<typeof jsonClient>, warmUpSeconds: number) => ({
  label,
  client,
  connections: CONNECTIONS,
  realtimeUrl: entryUrl,
  sockets: Number(args.sockets),
  databaseName,
  rates,
  seconds: Number(args.seconds),
  warmUpSeconds,
  maxErrorShare: MAX_ERROR_SHARE,
});

let topology: Topology | undefined;
// The instances run in process groups of their own, out of reach of a Ctrl-C in the terminal.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void (topology?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

const db = await prepareDatabase(stores);
try {
  log('baseline: pgbench, one transaction per order (insert order + 2 tickets + update), 16 clients, 10 s');
  const baselineTps = Math.round(measurePgbenchBaseline(stores.DATABASE_URL, 10));
  log(`baseline ${baselineTps} orders/s`);

  const through = await throughTopology();
  await clearRedisPrefix(stores);
  const single = args.single === 'on' ? await inOneProcess() : undefined;

  const ratio = (rate: number) => Number((rate / baselineTps).toFixed(2));
  const result = {
    measuredAt: new Date().toISOString(),
    machine: '2 cores; load generator, its websockets, nginx, every instance, PostgreSQL and Redis on the same machine',
    counts,
    nginxWorkers: args['nginx-workers'],
    stepSeconds: Number(args.seconds),
    sockets: Number(args.sockets),
    held: `submit → push p99 < 500 ms and errors < ${MAX_ERROR_SHARE * 100} %`,
    baselineOrdersPerSecond: baselineTps,
    topology: { ...through, ratioToBaseline: ratio(through.bestRateAtP99Under500ms) },
    ...(single
      ? {
          singleProcess: { ...single, ratioToBaseline: ratio(single.bestRateAtP99Under500ms) },
          topologyToSingleProcess:
            single.bestRateAtP99Under500ms > 0
              ? Number((through.bestRateAtP99Under500ms / single.bestRateAtP99Under500ms).toFixed(2))
              : null,
          sideBySide: sideBySide(through, single),
        }
      : {}),
  };
  writeLatest('topology-step', result, {
    baselineOrdersPerSecond: baselineTps,
    topology: {
      bestRateAtP99Under500ms: through.bestRateAtP99Under500ms,
      ratioToBaseline: result.topology.ratioToBaseline,
    },
    ...(single ? { singleProcess: { bestRateAtP99Under500ms: single.bestRateAtP99Under500ms } } : {}),
    sideBySide: result.sideBySide,
  });
} finally {
  await db.destroy();
}

/** The topology on its own database and Redis prefix, the load through its nginx entry. */
async function throughTopology() {
  topology = await startTopology({
    counts,
    port: 0,
    basePort: 0,
    // The load comes from one address.
    env: { ...process.env, ...storeEnv, ...RATE_LIMITS_OFF, LOG_LEVEL: 'warn' },
    nginxWorkers: args['nginx-workers'] === 'auto' ? 'auto' : Number(args['nginx-workers']),
    log: (line) => log(`topology: ${line}`),
  });
  const { runDir, nginx } = topology;
  const client = jsonClient(topology.entryUrl, CONNECTIONS);
  const processes = Object.fromEntries(topology.instances.map((instance) => [instance.name, instance.pid]));
  const groups = { nginx: nginx.pid };
  let measured;
  try {
    const label = `topology (${TOPOLOGY_ROLES.map((role) => `${role} ${counts[role]}`).join(', ')})`;
    log(`${label}: CPU without load, 5 s`);
    const idle = await idleCpu(processes, groups);
    log(`${label} idle, % of one core: ${JSON.stringify(idle)}`);
    // Every tickets instance caches the showings it has seen: each needs its own warm-up's worth of orders.
    const pushed = await ordersPushed({
      ...pushRun(label, topology.entryUrl, client, 5 * counts.tickets),
      db,
      processes,
      groups,
    });
    if (topology.exits.length > 0)
      throw new Error(`instances exited during the run: ${JSON.stringify(topology.exits)}`);
    measured = { idleCpuPercent: idle, ...withCpuByRole(pushed) };
  } finally {
    client.close();
    await topology.stop();
    topology = undefined;
    if (!measured) log(`the topology's logs are kept in ${runDir}/logs`);
  }
  const access = await nginxAccessSummary(nginx.accessLog);
  log(`nginx access log: ${JSON.stringify(access)}`);
  await rm(runDir, { recursive: true, force: true });
  return { ...measured, nginxAccessLog: access };
}

/** Every role in one process, as `npm start` runs it, on the same database: the load straight to it. */
async function inOneProcess() {
  const [port] = await freePorts(1);
  const child = await startRole('catalog,tickets,workers,payments,realtime', port!, storeEnv);
  const url = `http://127.0.0.1:${port}`;
  const client = jsonClient(url, CONNECTIONS);
  try {
    const processes = { all: child.pid! };
    log('one process: CPU without load, 5 s');
    const idle = await idleCpu(processes);
    log(`one process idle, % of one core: ${JSON.stringify(idle)}`);
    const pushed = await ordersPushed({ ...pushRun('one process', url, client, 5), db, processes });
    return { idleCpuPercent: idle, ...withCpuByRole(pushed) };
  } finally {
    client.close();
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
}

/** The steps both ran, figure by figure: where the topology's extra CPU goes. */
function sideBySide(through: Stepped, single: Stepped) {
  type Step = (typeof through.steps)[number];
  const figures = (step: Step) => ({
    ordersPerSecond: step.ordersPerSecond,
    submitToPushP99: step.submitToPushMs.p99,
    submitAnsweredP99: step.submitAnsweredMs.p99,
    errorPercent: step.errorPercent,
    cpuMsPerOrder: Object.fromEntries(Object.entries(step.cpuByRole).map(([name, entry]) => [name, entry.msPerUnit])),
    cpuPercent: step.cpuByRole.total!.cpuPercent,
  });
  return through.steps.flatMap((step) => {
    const other = single.steps.find((candidate) => candidate.rate === step.rate);
    return other ? [{ rate: step.rate, topology: figures(step), singleProcess: figures(other) }] : [];
  });
}
