import { createServer, type RequestListener, type Server } from 'node:http';
import { answerClientErrors } from '../api/http/client-errors.js';
import { once } from 'node:events';
import { createApp, QUEUE_DASHBOARD_PATH } from '../api/app.js';
import { queuedOrdersByPartition } from '../domain/allocation/queue-depth.js';
import type { Deps } from '../domain/context.js';
import type { Logger } from '../domain/ports.js';
import { every } from '../infra/every.js';
import { startJobConsumers } from '../infra/job-queues.js';
import { createLogger } from '../infra/logger.js';
import type { ProcessMetrics } from '../infra/metrics.js';
import { createPaymentClient } from '../infra/payment-client.js';
import { createQueueDashboard } from '../infra/queue-dashboard.js';
import { createSocketAdapter } from '../infra/socket-adapter.js';
import { startRealtime } from '../realtime/server.js';
import { workerRole } from '../workers/role.js';
import type { ProcessConfig } from './config.js';
import { createDeps, type Wiring } from './deps.js';
import { httpRoutes, PUBLIC_API_ROLES, routesByRole } from './roles.js';

export type RunningProcess = { server: Server; deps: Deps; stop: () => Promise<void> };

/**
 * Runs the roles named in config.ROLES in this process: one HTTP server (health, readiness, and the
 * routes of every HTTP role), plus whatever background work the other roles bring.
 */
export async function runRoles(
  config: ProcessConfig,
  { log = createLogger(config.LOG_LEVEL, { roles: config.ROLES.join(',') }) }: { log?: Logger } = {},
): Promise<RunningProcess> {
  const wiring = createDeps(config, log);
  const { deps, metrics, close } = wiring;
  const server = createServer(httpListener(config, wiring));
  answerClientErrors(server);
  server.keepAliveTimeout = 65_000;
  // A deep accept queue: a burst of new connections must wait to be accepted, not be dropped and
  // retried by TCP a second or more later.
  server.listen({ host: config.HOST, port: config.PORT, backlog: 4096 });
  await once(server, 'listening');
  log.info({ port: (server.address() as { port: number }).port }, 'listening');

  const stopWorkers = config.ROLES.includes('workers') ? await startWorkers(config, deps, { metrics }) : async () => {};
  const realtime = config.ROLES.includes('realtime')
    ? await startRealtimeRole(config, deps, server, metrics)
    : undefined;

  const stop = async () => {
    // Keep-alive sockets busy at close time stay open after their response: close them as they go
    // idle, and cut whatever is left halfway to the hard deadline so the stores still close cleanly.
    const closeIdle = setInterval(() => server.closeIdleConnections(), 200);
    const cutOff = setTimeout(() => server.closeAllConnections(), config.SHUTDOWN_TIMEOUT_MS / 2);
    server.closeIdleConnections();
    await realtime?.stop();
    try {
      await Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), stopWorkers()]);
    } finally {
      clearInterval(closeIdle);
      clearTimeout(cutOff);
    }
    await close();
  };
  return { server, deps, stop };
}

/**
 * The process's HTTP surface: the routes of its HTTP roles, /metrics, the access log, CORS, the rate
 * limits, and on a catalog process (where nginx sends /admin/queues) the queue dashboard.
 */
export function httpListener(config: ProcessConfig, wiring: Wiring): RequestListener {
  const { deps, readiness, metrics, queues } = wiring;
  const byRole = routesByRole(deps, config);
  return createApp(deps, httpRoutes(config.ROLES, byRole), readiness, {
    documentedRoutes: httpRoutes([...PUBLIC_API_ROLES, ...config.ROLES], byRole),
    metrics: metrics.exposition,
    accessLog: config.ACCESS_LOG,
    corsOrigins: config.CORS_ORIGINS,
    trustProxy: config.TRUST_PROXY,
    rateLimits: wiring.rateLimits,
    queueDashboard: config.ROLES.includes('catalog') ? createQueueDashboard(queues, QUEUE_DASHBOARD_PATH) : undefined,
  });
}

/**
 * SIGTERM/SIGINT: stop taking work, finish what is in flight, then exit; a hard deadline backs it up.
 * Installed before the roles start, so a signal during start-up waits for it and then stops cleanly.
 */
export function stopOnSignals(starting: Promise<RunningProcess>, timeoutMs: number, log: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error('shutdown timed out; exiting');
      process.exit(1);
    }, timeoutMs).unref();
    starting
      .then((running) => running.stop())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/**
 * The workers role: the queue consumers (one drain at a time per partition across every process;
 * charges and refunds concurrently, through the payment client's breaker) and the sweeps. Returns
 * the graceful stop: the sweeps end, then the jobs in hand finish.
 */
export async function startWorkers(
  config: ProcessConfig,
  deps: Deps,
  { onSweepEnded, metrics }: { onSweepEnded?: (name: string) => void; metrics?: ProcessMetrics } = {},
): Promise<() => Promise<void>> {
  await deps.jobs.enforceSerialPartitions();
  const provider = createPaymentClient(config, deps.log);
  metrics?.watchPaymentBreaker(provider.breakerOpen);
  metrics?.watchQueueDepth(() => queuedOrdersByPartition(deps));
  const { jobs, sweeps } = workerRole(deps, provider);
  const consumers = startJobConsumers(
    {
      redisUrl: config.REDIS_URL,
      redisPrefix: config.REDIS_PREFIX,
      partitions: config.ALLOCATION_PARTITIONS,
      lockMs: config.ALLOCATION_LOCK_MS,
      stalledCheckMs: config.ALLOCATION_STALLED_CHECK_MS,
      paymentConcurrency: config.PAYMENT_CONCURRENCY,
      retryBaseMs: config.PAYMENT_RETRY_BASE_MS,
      retryMaxMs: config.PAYMENT_RETRY_MAX_MS,
    },
    jobs,
    deps.log,
  );
  const timers = sweeps.map((sweep) => every(config.SWEEP_INTERVAL_MS, sweep.run, deps.log, sweep.name, onSweepEnded));
  deps.log.info({ partitions: consumers.partitions }, 'allocation workers started');
  return async () => {
    metrics?.watchQueueDepth(undefined);
    metrics?.watchPaymentBreaker(undefined);
    await Promise.all(timers.map((timer) => timer.stop()));
    await consumers.stop();
    provider.close();
  };
}

/** The realtime role on the process's HTTP server, linked to the other instances through Redis. */
export async function startRealtimeRole(config: ProcessConfig, deps: Deps, server: Server, metrics?: ProcessMetrics) {
  const { adapter, close } = createSocketAdapter(config.REDIS_URL, config.REDIS_PREFIX, deps.log);
  const realtime = await startRealtime(deps, server, adapter);
  metrics?.watchConnectedSockets(() => realtime.io.of('/').sockets.size);
  return {
    io: realtime.io,
    stop: async () => {
      metrics?.watchConnectedSockets(undefined);
      await realtime.stop();
      await close();
    },
  };
}
