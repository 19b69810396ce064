import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { createApp } from '../api/app.js';
import { routesByRole } from '../api/roles.js';
import type { Config } from '../domain/config.js';
import type { Deps } from '../domain/context.js';
import { closeDeps, createDeps } from '../domain/deps.js';
import { createLogger, type Logger } from '../domain/logger.js';
import { startRealtime } from '../realtime/server.js';
import { startWorkers } from '../workers/role.js';

export type RunningProcess = { server: Server; deps: Deps; stop: () => Promise<void> };

/**
 * Runs the roles named in config.ROLES in this process: one HTTP server (health, readiness, and the
 * routes of every HTTP role), plus whatever background work the other roles bring.
 */
export async function runRoles(config: Config): Promise<RunningProcess> {
  const log = createLogger(config, { roles: config.ROLES.join(',') });
  const deps = createDeps(config, log);
  // Tickets first: buying is the most frequent request, and express tries routes in order.
  const routes = (['tickets', 'catalog', 'payments'] as const)
    .filter((role) => config.ROLES.includes(role))
    .flatMap((role) => routesByRole[role]);
  const server = createServer(createApp(deps, routes));
  server.keepAliveTimeout = 65_000;
  // A deep accept queue: a burst of new connections must wait to be accepted, not be dropped and
  // retried by TCP a second or more later.
  server.listen({ port: config.PORT, backlog: 4096 });
  await once(server, 'listening');
  log.info({ port: (server.address() as { port: number }).port }, 'listening');

  const stopWorkers = config.ROLES.includes('workers') ? await startWorkers(deps) : async () => {};
  const realtime = config.ROLES.includes('realtime') ? await startRealtime(deps, server) : undefined;

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
    await closeDeps(deps);
  };
  return { server, deps, stop };
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
