import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { connectDatabase } from '../../db/connection.js';
import { RATE_LIMITS_OFF } from '../../host/config.js';
import { startTopology, type Counts, type ExitEvent, type Topology, type TopologyRole } from '../topology/topology.js';
import { checkHistory, readSnapshot, type CheckLimits } from './check-history.js';
import { createShowings, pick, sleep } from './clients.js';
import { waitUntilSettled } from './database-checks.js';
import { pairOperations, readHistory, recordHistory } from './history.js';
import { historyBuyer, historyWatcher } from './history-clients.js';
import { requestFigures, type FaultWindow } from './history-figures.js';
import { startPrivateStores, type PostgresStopMode, type PrivateStores } from './private-stores.js';

/**
 * A chaos run: the production topology on PostgreSQL and Redis of its own, buyers and watchers
 * through nginx with every operation recorded in a history, and a schedule of faults (workers killed
 * with SIGKILL, API and realtime instances restarted, Redis and PostgreSQL restarted, the payment
 * provider failing). Afterwards the run waits for the system to settle, checks the history against
 * the database and measures what clients met.
 */

export type ChaosFaults = {
  /** A workers instance is killed (SIGKILL) and started again every [min, max] ms. */
  workerKillEveryMs: [number, number];
  /** Roles whose every instance gets SIGTERM and is started again, one at a time. */
  restartRoles: TopologyRole[];
  redisRestarts: number;
  postgresRestarts: PostgresStopMode[];
  /** The payment provider answers every charge and refund 503 for this long (0: no outage). */
  providerOutageMs: number;
};

export type ChaosOptions = {
  loadMs: number;
  buyers: number;
  watchers: number;
  showings: number;
  counts: Counts;
  faults: ChaosFaults;
  /** The application's clocks, short enough that every order and payment settles within the run. */
  holdTtlSeconds: number;
  reconcileWindowSeconds: number;
  paymentTimeoutMs: number;
  /** How long the provider's injected timeouts hang. */
  providerHangMs: number;
  /** Width of a timeline point. */
  bucketMs: number;
  log: (line: string) => void;
  /** Aborting stops the run where it is and everything it started (Ctrl-C). */
  signal?: AbortSignal;
};

/** The provider's faults all along: 5 % of requests fail at once, 1 % of charges go through and answer only after a hang. */
const PROVIDER_FAULTS = { errorRate: 0.05, timeoutAfterChargeRate: 0.01, timeoutRate: 0, declineRate: 0.03 };
/** Counted as "during a fault" until this long after it ended: clients retry, breakers close, queues drain. */
const RECOVERY_MS = 5_000;

export async function runChaos(options: ChaosOptions) {
  const { log } = options;
  const stores = await startPrivateStores();
  log(`private stores in ${stores.dir}: PostgreSQL :${stores.postgres.port}, Redis :${stores.redis.port} (AOF)`);
  const serviceKey = randomBytes(32).toString('hex');
  const exits: ExitEvent[] = [];
  let topology: Topology | undefined;
  try {
    topology = await startTopology({
      counts: options.counts,
      port: 0,
      basePort: 0,
      env: {
        ...process.env,
        DATABASE_URL: stores.postgres.url('cinema_chaos'),
        REDIS_URL: stores.redis.url,
        REDIS_PREFIX: 'chaos',
        // The clients all come from one address.
        ...RATE_LIMITS_OFF,
        PAYMENT_SERVICE_KEY: serviceKey,
        ACCESS_LOG: 'false',
        HOLD_TTL_SECONDS: String(options.holdTtlSeconds),
        PAYMENT_RECONCILE_WINDOW_SECONDS: String(options.reconcileWindowSeconds),
        PAYMENT_TIMEOUT_MS: String(options.paymentTimeoutMs),
        PAYMENT_RETRY_BASE_MS: '500',
        PAYMENT_RETRY_MAX_MS: '5000',
        PROVIDER_LATENCY_MEDIAN_MS: '100',
        PROVIDER_LATENCY_P99_MS: '1000',
        PROVIDER_HANG_MS: String(options.providerHangMs),
        PROVIDER_ERROR_RATE: String(PROVIDER_FAULTS.errorRate),
        PROVIDER_TIMEOUT_AFTER_CHARGE_RATE: String(PROVIDER_FAULTS.timeoutAfterChargeRate),
        PROVIDER_TIMEOUT_RATE: String(PROVIDER_FAULTS.timeoutRate),
        PROVIDER_DECLINE_RATE: String(PROVIDER_FAULTS.declineRate),
      },
      log,
      onUnexpectedExit: (event) => {
        exits.push(event);
        log(`! ${event.name} exited unexpectedly (${event.signal ?? `code ${event.code}`}); see ${event.logFile}`);
      },
    });
    const interrupted = new Promise<never>((_, reject) =>
      options.signal?.addEventListener('abort', () => reject(new Error('interrupted')), { once: true }),
    );
    return await Promise.race([underLoad(topology, stores, serviceKey, exits, options), interrupted]);
  } finally {
    await topology?.stop();
    await stores.stop();
  }
}

async function underLoad(
  topology: Topology,
  stores: PrivateStores,
  serviceKey: string,
  exits: ExitEvent[],
  options: ChaosOptions,
) {
  const { log } = options;
  const entry = topology.entryUrl;
  const showings = await createShowings(entry, topology.adminToken, options.showings);
  const historyFile = join(topology.runDir, 'history.jsonl');
  const history = recordHistory(historyFile);
  log(`${options.showings} showings; history in ${historyFile}`);

  let loading = true;
  const watchers = Array.from({ length: options.watchers }, (_, index) =>
    historyWatcher({ entry, showingId: showings[index % showings.length]!.id, history, name: `watcher-${index + 1}` }),
  );
  const buyers = Array.from({ length: options.buyers }, (_, index) =>
    historyBuyer({
      entry,
      showings,
      history,
      name: `buyer-${index + 1}`,
      running: () => loading,
      payLaterShare: 0.25,
      cancelShare: 0.1,
      contendedShare: 0.2,
      thinkMs: 1_000,
    }),
  );

  const faults: (FaultWindow & { tookMs: number })[] = [];
  const fault = async (what: string, act: () => Promise<unknown>) => {
    const from = history.now();
    log(`fault at ${(from / 1000).toFixed(0)} s: ${what}`);
    await act();
    const end = history.now();
    faults.push({ what, from, to: end + RECOVERY_MS, tookMs: Math.round(end - from) });
    log(`  recovered from "${what}" in ${Math.round(end - from)} ms`);
  };
  const setProvider = async (behaviour: Record<string, number>) => {
    const response = await fetch(`${topology.paymentServiceUrl}/payment-behaviour`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${serviceKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(behaviour),
    });
    if (!response.ok) throw new Error(`PUT /payment-behaviour: ${response.status} ${await response.text()}`);
  };

  const loadEnds = new AbortController();
  const workersKiller = killWorkersNowAndThen(topology, options.faults.workerKillEveryMs, fault, loadEnds.signal);
  const scheduled = scheduleFaults(topology, stores, options.faults, setProvider);
  const started = history.now();
  const progress = setInterval(
    () =>
      log(
        `${Math.round((history.now() - started) / 1000)} s: ${history.invoked('submit')} orders submitted, ` +
          `${history.entries()} history lines, ${faults.length} faults done`,
      ),
    15_000,
  );
  try {
    // The one-shot faults spread from 10 % to 85 % of the load, in turn (each waits for the previous).
    for (const [index, step] of scheduled.entries()) {
      const at = started + options.loadMs * (0.1 + (0.75 * index) / Math.max(1, scheduled.length - 1));
      await sleep(Math.max(0, at - history.now()));
      await fault(step.what, step.act);
    }
    await sleep(Math.max(0, started + options.loadMs - history.now()));
  } finally {
    clearInterval(progress);
    loadEnds.abort();
    await workersKiller;
    loading = false;
    await Promise.all(buyers);
  }
  const loadSeconds = (history.now() - started) / 1000;
  log(`load stopped after ${loadSeconds.toFixed(0)} s; waiting for every order and payment to settle`);

  const limits: CheckLimits = {
    holdTtlMs: options.holdTtlSeconds * 1000,
    reconcileWindowMs: options.reconcileWindowSeconds * 1000,
    paymentTimeoutMs: options.paymentTimeoutMs,
    graceMs: 15_000,
  };
  const db = connectDatabase(topology.databaseUrl, 2);
  try {
    const settleBy =
      Date.now() +
      limits.holdTtlMs +
      2 * limits.reconcileWindowMs +
      2 * limits.paymentTimeoutMs +
      limits.graceMs +
      5_000;
    const settleStarted = Date.now();
    const left = await waitUntilSettled(db, settleBy, (work) => log(`  still unsettled: ${JSON.stringify(work)}`));
    const settledAfterSeconds = Math.round((Date.now() - settleStarted) / 1000);
    log(`settled after ${settledAfterSeconds} s, left: ${JSON.stringify(left)}`);

    // The watchers' maps, once nothing moves, against the REST snapshot: each came back and caught up.
    await sleep(1_000);
    const watchersConnected = watchers.filter((watcher) => watcher.socket.connected).length;
    for (const watcher of watchers) watcher.socket.close();
    await history.close();

    const operations = pairOperations(await readHistory(historyFile));
    const check = checkHistory(operations, await readSnapshot(db), limits);
    const figures = requestFigures(operations, faults, options.bucketMs);
    const notReady = await instancesNotReady(topology);
    return {
      loadSeconds: Math.round(loadSeconds),
      settledAfterSeconds,
      unsettledLeft: left,
      users: { buyers: options.buyers, watchers: options.watchers, watchersConnectedAtEnd: watchersConnected },
      showings: options.showings,
      instances: options.counts,
      settings: {
        holdTtlSeconds: options.holdTtlSeconds,
        reconcileWindowSeconds: options.reconcileWindowSeconds,
        paymentTimeoutMs: options.paymentTimeoutMs,
        providerHangMs: options.providerHangMs,
        provider: PROVIDER_FAULTS,
        redisAppendfsync: 'everysec',
      },
      faults: faults.map(({ what, from, tookMs }) => ({ atSecond: Math.round(from / 1000), what, tookMs })),
      faultWindows: faults,
      unexpectedExits: exits.map(({ name, signal, code }) => ({ name, signal, code })),
      notReadyAtEnd: notReady,
      check,
      requests: figures,
      historyFile,
      historyLines: history.entries(),
    };
  } finally {
    await db.destroy();
  }
}

export type ChaosReport = Awaited<ReturnType<typeof runChaos>>;

type FaultStep = { what: string; act: () => Promise<unknown> };

/** The one-shot faults, instance restarts and store faults interleaved so that the run meets each in a different state. */
function scheduleFaults(
  topology: Topology,
  stores: PrivateStores,
  faults: ChaosFaults,
  setProvider: (behaviour: Record<string, number>) => Promise<void>,
): FaultStep[] {
  const restarts: FaultStep[] = topology.instances
    .filter((instance) => faults.restartRoles.includes(instance.role))
    .map((instance) => ({
      what: `SIGTERM ${instance.name}, started again`,
      act: () => topology.restart(instance.name),
    }));
  const storeFaults: FaultStep[] = [
    ...Array.from({ length: faults.redisRestarts }, () => ({
      what: 'Redis restarted (SIGTERM, AOF replayed)',
      act: () => stores.redis.restart(),
    })),
    ...faults.postgresRestarts.map((mode) => ({
      what: `PostgreSQL restarted (-m ${mode})`,
      act: () => stores.postgres.restart(mode),
    })),
    ...(faults.providerOutageMs > 0
      ? [
          {
            what: `payment provider down ${Math.round(faults.providerOutageMs / 1000)} s`,
            act: async () => {
              await setProvider({ errorRate: 1 });
              await sleep(faults.providerOutageMs);
              await setProvider({ errorRate: PROVIDER_FAULTS.errorRate });
            },
          },
        ]
      : []),
  ];
  const steps: FaultStep[] = [];
  for (let index = 0; index < Math.max(restarts.length, storeFaults.length); index += 1) {
    if (restarts[index]) steps.push(restarts[index]!);
    if (storeFaults[index]) steps.push(storeFaults[index]!);
  }
  return steps;
}

/** Every [min, max] ms until the load ends: SIGKILL to one workers instance, then start it again. */
async function killWorkersNowAndThen(
  topology: Topology,
  [min, max]: [number, number],
  fault: (what: string, act: () => Promise<unknown>) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  for (;;) {
    try {
      await delay(min + Math.random() * (max - min), undefined, { signal });
    } catch {
      return;
    }
    const victim = pick(topology.instances.filter((instance) => instance.role === 'workers'));
    await fault(`SIGKILL ${victim.name}, started again`, async () => {
      process.kill(victim.pid, 'SIGKILL');
      await topology.restart(victim.name);
    });
  }
}

/** Instances that do not answer /readyz with 200 after the run: a process that did not recover. */
async function instancesNotReady(topology: Topology): Promise<string[]> {
  const answers = await Promise.all(
    topology.instances.map(async (instance) => {
      const response = await fetch(`${instance.url}/readyz`, { signal: AbortSignal.timeout(5_000) }).catch(
        () => undefined,
      );
      await response?.body?.cancel();
      return response?.status === 200 ? undefined : instance.name;
    }),
  );
  return answers.filter((name): name is string => name !== undefined);
}
