import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectDatabase } from '../../../db/connection.js';
import { RATE_LIMITS_OFF } from '../../../host/config.js';
import { createLogger } from '../../../infra/logger.js';
import { connectRedis } from '../../../infra/redis.js';
import { percentile } from '../../bench/load.js';
import { analyzeLikeAutovacuum, measurePgbenchBaseline, root } from '../../bench/system.js';
import { startTopology, type Counts, type Topology } from '../../topology/topology.js';
import { acceptedOrders, doubleSoldSeats } from '../database-checks.js';
import { freshCatalog, onSale, type CatalogSize } from './catalog.js';
import { BUYABLE_AHEAD_MS, METRICS, ROUTES, type RouteName, type SoakVariables } from './processor.js';
import { processTree, resourceSampler, withDescendants, type ProcessGroup, type ResourceSample } from './resources.js';

/**
 * The artillery soak (issue 14): the production topology on its own database and Redis prefix, a
 * seeded catalog, the pgbench baseline of the same database, then artillery's buyers
 * (scripts/soak/artillery/buyers.yml) through nginx: ramp to `users` connected users, hold, ramp
 * down. Meanwhile CPU and RSS of every process of the run and the connected sockets the realtime
 * instances count; afterwards the database checks. Both `npm run soak:artillery` and
 * test/artillery-soak.test.ts run it.
 */
export type ArtillerySoakOptions = {
  users: number;
  rampSeconds: number;
  holdSeconds: number;
  rampDownSeconds: number;
  /** Think times × this: 1 for people, less for the short run in CI. */
  pace: number;
  /** pgbench on the run's database before the load; 0 leaves it out. */
  baselineSeconds: number;
  catalog: CatalogSize;
  counts: Partial<Counts>;
  databaseUrl: string;
  redisPrefix: string;
  /** The instances' environment (REDIS_URL, LOG_LEVEL, ...); the run sets its database, prefix and hold. */
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
};

const SCENARIO = join(root, 'scripts/soak/artillery/buyers.yml');
const ARTILLERY = join(root, 'node_modules/artillery/bin/run');
const SAMPLE_MS = 10_000;
/**
 * Holds expire within the run, so the users who walk away exercise the expiry sweep under load (the
 * default, 10 minutes, would outlast most runs).
 */
const HOLD_TTL_SECONDS = 120;
/** 11 instances × 6 stay under PostgreSQL's 100 connections with room for the machine's other users. */
const DB_POOL_MAX = 6;
/** The longest visit at pace 1 (think times add up to 130 s) plus the waits for pushes and polls. */
const LONGEST_VISIT_SECONDS = 160;
/** Artillery's arrivals go 2 ms apart at most, over a small part of the ramp (see SoakVariables.arrivalSeconds). */
const arrivalSecondsOf = (users: number, rampSeconds: number) =>
  Math.min(rampSeconds, Math.max(1, Math.ceil(users / 500)));
/** The workers' time to decide what was queued when the load stopped. */
const DECIDE_WITHIN_MS = 30_000;

export const routeMetric = (route: RouteName) => `plugins.metrics-by-endpoint.response_time.${route}`;

type Summary = { min: number; max: number; count: number; mean: number; p50: number; p95: number; p99: number };
type Period = {
  counters: Record<string, number>;
  rates: Record<string, number>;
  summaries: Record<string, Summary>;
  period?: number | string;
  firstMetricAt: number;
  lastMetricAt: number;
};
export type ArtilleryReport = { aggregate: Period; intermediate: Period[] };

/** What nginx's access log said over one sample: the server side of the same requests. */
type EntrySample = { requests: number; serverErrors: number; p99Ms: number };
export type TimelineSample = ResourceSample & { sockets: number; entry: EntrySample };

/** buyers.yml's `http.pool`: the users' HTTP requests share this many connections. */
const HTTP_POOL = 1_000;
/** Open files of the load generator: a Socket.IO connection per user, the HTTP pool, and some. */
const loadGeneratorFiles = (users: number) => users + HTTP_POOL + 1_024;
/** Connections through nginx: a websocket is two (the user's and the instance's), plus the HTTP pool and the upstreams'. */
const nginxConnections = (users: number) => users * 2 + HTTP_POOL + 1_024;

function openFilesLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  return Number(limits.match(/^Max open files\s+(\d+)/m)?.[1] ?? 1_024);
}

/** nginx's access log since the last call: requests, 5xx, p99 of request_time. */
function accessLogReader(file: string) {
  let offset = 0;
  let rest = '';
  return (): EntrySample => {
    const fd = openSync(file, 'r');
    const chunks: Buffer[] = [];
    try {
      const buffer = Buffer.alloc(1 << 20);
      for (let read = readSync(fd, buffer, 0, buffer.length, offset); read > 0;) {
        chunks.push(Buffer.from(buffer.subarray(0, read)));
        offset += read;
        read = readSync(fd, buffer, 0, buffer.length, offset);
      }
    } finally {
      closeSync(fd);
    }
    const lines = (rest + Buffer.concat(chunks).toString('utf8')).split('\n');
    rest = lines.pop() ?? '';
    const times: number[] = [];
    let serverErrors = 0;
    for (const line of lines) {
      if (!line) continue;
      const entry = JSON.parse(line) as { status: number; request_time: number; path: string };
      if (entry.path.startsWith('/socket.io/')) continue;
      times.push(entry.request_time * 1000);
      if (entry.status >= 500) serverErrors += 1;
    }
    times.sort((a, b) => a - b);
    const p99Ms = times.length === 0 ? 0 : Math.round(percentile(times, 99));
    return { requests: times.length, serverErrors, p99Ms };
  };
}

/** Sockets connected to the realtime instances, as they count them (realtime_connected_sockets). */
async function connectedSockets(topology: Topology): Promise<number> {
  const counts = await Promise.all(
    topology.instances
      .filter((instance) => instance.role === 'realtime')
      .map(async (instance) => {
        try {
          const metrics = await (await fetch(`${instance.url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
          return Number(metrics.match(/^realtime_connected_sockets(?:\{[^}]*\})? (\d+)/m)?.[1] ?? 0);
        } catch {
          return 0;
        }
      }),
  );
  return counts.reduce((sum, count) => sum + count, 0);
}

/** Artillery's ensure verdicts, as it printed them ("ok: <check>" / "fail: <check>"). */
function ensureChecks(artilleryLog: string) {
  return [...artilleryLog.matchAll(/^(ok|fail): (.+)$/gm)].map((match) => ({
    check: match[2]!.trim(),
    passed: match[1] === 'ok',
  }));
}

export async function artillerySoak(options: ArtillerySoakOptions) {
  const { log } = options;
  const redisUrl = options.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const filesLimit = openFilesLimit();
  if (filesLimit < loadGeneratorFiles(options.users)) {
    throw new Error(
      `${options.users} users need ${loadGeneratorFiles(options.users)} open files; raise the limit first (ulimit -n)`,
    );
  }
  // Each nginx worker has the open-file limit to itself: enough workers that none needs more than 60 % of it.
  const nginxWorkers = Math.ceil(nginxConnections(options.users) / (filesLimit * 0.6));

  const arrivalSeconds = arrivalSecondsOf(options.users, options.rampSeconds);
  const started = Date.now();
  log(`seeding ${new URL(options.databaseUrl).pathname.slice(1)} (${JSON.stringify(options.catalog)})`);
  const seeded = await freshCatalog(
    options.databaseUrl,
    { url: redisUrl, prefix: options.redisPrefix },
    options.catalog,
    log,
  );
  const sale = await onSale(options.databaseUrl, BUYABLE_AHEAD_MS);
  if (sale.cityDates.length === 0) throw new Error('no showing on sale 2 hours ahead or later: seed more days');
  log(`${sale.showings} showings on sale 2 h ahead or later, in ${sale.cityDates.length} city schedules`);
  let baselineTps: number | undefined;
  if (options.baselineSeconds > 0) {
    log(`pgbench baseline, ${options.baselineSeconds} s`);
    baselineTps = measurePgbenchBaseline(options.databaseUrl, options.baselineSeconds);
    log(`pgbench baseline: ${Math.round(baselineTps)} orders/s`);
  }

  const topology = await startTopology({
    counts: options.counts,
    port: 0,
    basePort: 0,
    env: {
      ...options.env,
      DATABASE_URL: options.databaseUrl,
      REDIS_PREFIX: options.redisPrefix,
      // Artillery's users all come from one address.
      ...RATE_LIMITS_OFF,
      HOLD_TTL_SECONDS: String(HOLD_TTL_SECONDS),
      DB_POOL_MAX: String(DB_POOL_MAX),
    },
    nginxWorkers,
    log,
  });
  const db = connectDatabase(options.databaseUrl, 1);
  const redis = connectRedis(redisUrl, createLogger('warn'));
  try {
    const files = {
      catalog: join(topology.runDir, 'soak-catalog.json'),
      orders: join(topology.runDir, 'soak-accepted-orders.txt'),
      report: join(topology.runDir, 'artillery-report.json'),
      log: join(topology.logDir, 'artillery.log'),
    };
    writeFileSync(files.catalog, JSON.stringify(sale.cityDates));
    writeFileSync(files.orders, '');
    const variables: SoakVariables = {
      catalogFile: files.catalog,
      ordersFile: files.orders,
      arrivalSeconds,
      rampSeconds: options.rampSeconds,
      holdSeconds: options.holdSeconds,
      rampDownSeconds: options.rampDownSeconds,
      pace: options.pace,
    };
    const overrides = {
      config: {
        target: topology.entryUrl,
        phases: [
          // The users arrive here, then wait for their place in the ramp (processor.ts, arrivalSeconds).
          { name: 'arrivals', duration: arrivalSeconds, arrivalCount: options.users },
          // No more arrivals: the users stay until the hold ends, then leave over the ramp-down.
          { name: 'ramp and hold', pause: options.rampSeconds + options.holdSeconds - arrivalSeconds },
        ],
        variables,
      },
    };

    const redisPid = Number((await redis.info('server')).match(/^process_id:(\d+)/m)?.[1]);
    // Known once artillery runs; the groups are sampled before too, to start counting CPU time from there.
    let artilleryPid: number | undefined = undefined;
    const groupsNow = async (): Promise<ProcessGroup[]> => {
      const tree = processTree();
      const { rows } = await db.raw<{ rows: { pid: number }[] }>(
        'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      return [
        { name: 'nginx', role: 'nginx', pids: withDescendants(tree, topology.nginx.pid) },
        ...topology.instances.map((instance) => ({ name: instance.name, role: instance.role, pids: [instance.pid] })),
        { name: 'postgresql backends', role: 'postgresql', pids: rows.map((row) => row.pid) },
        { name: 'redis (whole server)', role: 'redis', pids: redisPid ? [redisPid] : [] },
        {
          name: 'artillery',
          role: 'load generator',
          pids: artilleryPid ? withDescendants(tree, artilleryPid) : [],
        },
        { name: 'soak runner', role: 'load generator', pids: [process.pid] },
      ];
    };
    const sampleResources = resourceSampler(groupsNow);
    const readAccessLog = accessLogReader(topology.nginx.accessLog);
    await sampleResources();
    readAccessLog();

    const timeline: TimelineSample[] = [];
    const sample = async () => {
      const [resources, sockets] = await Promise.all([sampleResources(), connectedSockets(topology)]);
      const entry = readAccessLog();
      timeline.push({ ...resources, sockets, entry });
      const busiest = [...resources.groups]
        .sort((a, b) => b.cpuPercent - a.cpuPercent)
        .slice(0, 4)
        .map((group) => `${group.name} ${Math.round(group.cpuPercent)}%`)
        .join(', ');
      const rss = resources.groups.reduce((sum, group) => sum + group.rssMb, 0);
      log(
        `${Math.round((resources.at - artilleryStarted) / 1000)} s: ${sockets} sockets connected, ` +
          `${Math.round(entry.requests / (SAMPLE_MS / 1000))} requests/s (nginx p99 ${entry.p99Ms} ms, ${entry.serverErrors} 5xx), ` +
          `RSS ${Math.round(rss)} MB; CPU ${busiest}`,
      );
    };

    const limitSeconds =
      options.rampSeconds + options.holdSeconds + options.rampDownSeconds + LONGEST_VISIT_SECONDS * options.pace + 120;
    log(
      `artillery: ${options.users} users over ${options.rampSeconds} s, held ${options.holdSeconds} s, ` +
        `leaving over ${options.rampDownSeconds} s (stopped after ${Math.round(limitSeconds)} s at the latest); log ${files.log}`,
    );
    const artilleryArgs = [
      ARTILLERY,
      'run',
      '--output',
      files.report,
      '--overrides',
      JSON.stringify(overrides),
      SCENARIO,
    ];
    const stopAnalyzing = analyzeLikeAutovacuum(options.databaseUrl);
    const output = openSync(files.log, 'w');
    const artilleryStarted = Date.now();
    const child = spawn(process.execPath, artilleryArgs, {
      cwd: root,
      // Loopback only: artillery would otherwise report the run to its makers.
      env: { ...process.env, ARTILLERY_DISABLE_TELEMETRY: 'true' },
      stdio: ['ignore', output, output],
    });
    closeSync(output);
    artilleryPid = child.pid;
    let timedOut = false;
    const limit = setTimeout(() => {
      timedOut = true;
      log(`artillery still runs after ${Math.round(limitSeconds)} s: stopping it`);
      child.kill('SIGKILL');
    }, limitSeconds * 1000);
    const sampling = setInterval(
      () => void sample().catch((error: Error) => log(`sample: ${error.message}`)),
      SAMPLE_MS,
    );
    const exitCode = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    clearTimeout(limit);
    clearInterval(sampling);
    await stopAnalyzing();
    const artilleryLog = readFileSync(files.log, 'utf8');
    log(`artillery exited with ${exitCode} after ${Math.round((Date.now() - artilleryStarted) / 1000)} s`);
    if (timedOut || exitCode === null || !existsSync(files.report)) {
      throw new Error(
        `artillery ${timedOut ? 'did not finish in time' : 'ended without a report'}; the end of its log:\n${artilleryLog.slice(-3_000)}`,
      );
    }
    const report = JSON.parse(readFileSync(files.report, 'utf8')) as ArtilleryReport;

    log('checking the database');
    const acceptedIds = readFileSync(files.orders, 'utf8').split('\n').filter(Boolean);
    const orders = await acceptedOrders(db, acceptedIds, DECIDE_WITHIN_MS);
    const { rows: touched } = await db.raw<{ rows: { showing_id: string }[] }>(
      'SELECT DISTINCT showing_id FROM orders',
    );
    const doubleSoldSeatCount = await doubleSoldSeats(
      db,
      touched.map((row) => Number(row.showing_id)),
    );
    const { rows: statuses } = await db.raw<{ rows: { status: string; n: string }[] }>(
      'SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY status',
    );

    return summarize({
      options,
      startedAt: new Date(started).toISOString(),
      artilleryStartedAt: artilleryStarted,
      seeded,
      showingsOnSale: sale.showings,
      baselineTps,
      topology: topology.instances.map((instance) => instance.name),
      nginxWorkers,
      exitCode,
      checks: ensureChecks(artilleryLog),
      report,
      timeline,
      database: {
        orders,
        doubleSoldSeats: doubleSoldSeatCount,
        statuses: Object.fromEntries(statuses.map((row) => [row.status, Number(row.n)])),
      },
    });
  } finally {
    await redis.quit();
    await db.destroy();
    await topology.stop();
  }
}

type RunRecord = {
  options: ArtillerySoakOptions;
  startedAt: string;
  artilleryStartedAt: number;
  seeded: Awaited<ReturnType<typeof freshCatalog>>;
  showingsOnSale: number;
  baselineTps: number | undefined;
  topology: string[];
  nginxWorkers: number;
  exitCode: number;
  checks: { check: string; passed: boolean }[];
  report: ArtilleryReport;
  timeline: TimelineSample[];
  database: {
    orders: Awaited<ReturnType<typeof acceptedOrders>>;
    doubleSoldSeats: number;
    statuses: Record<string, number>;
  };
};

const round = (value: number | undefined, digits = 0) =>
  value === undefined ? undefined : Math.round(value * 10 ** digits) / 10 ** digits;
const latency = (summary: Summary | undefined) =>
  summary && {
    count: summary.count,
    p50: round(summary.p50),
    p95: round(summary.p95),
    p99: round(summary.p99),
    max: round(summary.max),
  };
const periodStart = (period: Period) => Number(period.period ?? period.firstMetricAt);

/** The figures of a run: what the report shows and the checks decide on. */
function summarize(run: RunRecord) {
  const { options, report, timeline } = run;
  const { counters, summaries } = report.aggregate;
  const rampStart = report.aggregate.firstMetricAt;
  const holdFrom = rampStart + options.rampSeconds * 1000;
  const holdTo = holdFrom + options.holdSeconds * 1000;
  const inHold = <T extends { at: number }>(samples: T[]) =>
    samples.filter((sample) => sample.at > holdFrom && sample.at <= holdTo);
  const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0);

  // Artillery's periods that lie wholly within the hold: the steady state's rates.
  const holdPeriods = report.intermediate.filter(
    (period) => periodStart(period) >= holdFrom && periodStart(period) + 10_000 <= holdTo,
  );
  const perSecond = (counter: string) =>
    holdPeriods.length
      ? holdPeriods.reduce((sum, period) => sum + (period.counters[counter] ?? 0), 0) / (holdPeriods.length * 10)
      : undefined;
  const heldSamples = inHold(timeline);
  const operations = counters[METRICS.operations] ?? 0;
  const failures = counters[METRICS.failures] ?? 0;
  const ordersPerSecond = perSecond(METRICS.ordersAccepted);
  const requestsPerSecond = perSecond('http.requests');
  const machineCpu = mean(heldSamples.map((sample) => sample.machineCpuPercent));
  const runCpu = mean(heldSamples.map((sample) => sample.groups.reduce((sum, group) => sum + group.cpuPercent, 0)));
  const processes = [...new Set(timeline.flatMap((sample) => sample.groups.map((group) => group.name)))].map((name) => {
    const of = (samples: TimelineSample[]) =>
      samples.flatMap((sample) => sample.groups.filter((group) => group.name === name));
    const all = of(timeline);
    const held = of(heldSamples);
    return {
      name,
      role: all[0]!.role,
      peakRssMb: Math.max(...all.map((group) => group.rssMb)),
      holdRssMb: round(mean(held.map((group) => group.rssMb)), 1),
      holdCpuPercent: round(mean(held.map((group) => group.cpuPercent)), 1),
    };
  });

  const database = {
    ...run.database,
    passed: run.database.orders.lost === 0 && run.database.orders.undecided === 0 && run.database.doubleSoldSeats === 0,
  };
  const failedChecks = [
    ...run.checks.filter((check) => !check.passed).map((check) => check.check),
    ...(run.exitCode !== 0 ? [`artillery exited with ${run.exitCode}`] : []),
    ...(run.database.orders.lost > 0 ? [`${run.database.orders.lost} accepted orders lost`] : []),
    ...(run.database.orders.undecided > 0 ? [`${run.database.orders.undecided} accepted orders undecided`] : []),
    ...(run.database.doubleSoldSeats > 0 ? [`${run.database.doubleSoldSeats} seats sold twice`] : []),
  ];

  return {
    measuredAt: run.startedAt,
    passed: failedChecks.length === 0,
    failedChecks,
    options: {
      users: options.users,
      rampSeconds: options.rampSeconds,
      holdSeconds: options.holdSeconds,
      rampDownSeconds: options.rampDownSeconds,
      pace: options.pace,
      catalog: options.catalog,
      topology: run.topology,
      holdTtlSeconds: HOLD_TTL_SECONDS,
      dbPoolMax: DB_POOL_MAX,
      httpPool: HTTP_POOL,
      nginxWorkers: run.nginxWorkers,
    },
    seeded: run.seeded,
    showingsOnSale: run.showingsOnSale,
    baselineTps: round(run.baselineTps),
    durationSeconds: Math.round((report.aggregate.lastMetricAt - rampStart) / 1000),
    users: {
      arrived: counters['vusers.created'] ?? 0,
      completed: counters['vusers.completed'] ?? 0,
      failed: counters['vusers.failed'] ?? 0,
      connectedAtOnce: Math.max(0, ...timeline.map((sample) => sample.sockets)),
      connectedThroughHold: heldSamples.length ? Math.min(...heldSamples.map((sample) => sample.sockets)) : 0,
      reconnects: counters[METRICS.reconnected] ?? 0,
    },
    latencyMs: {
      routes: Object.fromEntries(
        (Object.keys(ROUTES) as RouteName[]).map((route) => [route, latency(summaries[routeMetric(route)])]),
      ) as Record<RouteName, ReturnType<typeof latency>>,
      submitToPush: latency(summaries[METRICS.submitToPush]),
      paymentToPush: latency(summaries[METRICS.paymentToPush]),
      seatMapRepair: latency(summaries[METRICS.seatMapRepair]),
    },
    operations,
    failures,
    errorRate: operations ? failures / operations : 0,
    failuresByKind: Object.fromEntries(
      Object.entries(counters).filter(([name]) => name.startsWith('cinema.failed.') || name.startsWith('errors.')),
    ),
    httpCodes: Object.fromEntries(Object.entries(counters).filter(([name]) => name.startsWith('http.codes.'))),
    counters: Object.fromEntries(Object.entries(counters).filter(([name]) => name.startsWith('cinema.'))),
    hold: {
      requestsPerSecond: round(requestsPerSecond, 1),
      ordersPerSecond: round(ordersPerSecond, 1),
      ordersToBaseline: run.baselineTps && ordersPerSecond ? round(ordersPerSecond / run.baselineTps, 3) : undefined,
      requestsToBaseline:
        run.baselineTps && requestsPerSecond ? round(requestsPerSecond / run.baselineTps, 3) : undefined,
    },
    processes,
    /** Mean CPU in the hold, % of one core: the whole machine, and what this run's processes do not explain (others' work). */
    machineCpuPercent: { all: round(machineCpu), others: round(Math.max(0, machineCpu - runCpu)) },
    checks: run.checks,
    database,
    series: {
      artilleryStartedAt: run.artilleryStartedAt,
      rampStart,
      holdFrom,
      holdTo,
      periods: report.intermediate.map((period) => ({
        at: periodStart(period),
        counters: period.counters,
        summaries: Object.fromEntries(
          Object.entries(period.summaries)
            .filter(
              ([name]) => name.startsWith('plugins.metrics-by-endpoint.response_time.') || name.startsWith('cinema.'),
            )
            .map(([name, summary]) => [name, { p50: summary.p50, p95: summary.p95, p99: summary.p99 }]),
        ),
      })),
      timeline,
    },
  };
}

export type ArtillerySoakReport = Awaited<ReturnType<typeof artillerySoak>>;
