import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { ConfigError, parseConfig, type ProcessConfig } from '../../host/config.js';
import {
  busyPorts,
  checkStores,
  findNginx,
  freePorts,
  NGINX_INSTALL,
  testNginxConfig,
  TopologyError,
} from './checks.js';
import { nginxConfig, nginxFiles } from './nginx-config.js';
import {
  countProblems,
  DEFAULT_COUNTS,
  instanceCount,
  instanceEnv,
  planInstances,
  resolveSecrets,
  sharedEnv,
  TOPOLOGY_ROLES,
  type Counts,
  type PlannedInstance,
  type TopologyRole,
} from './plan.js';
import { killGroup, lastLines, spawnLogged, stopProcess, type Exit, type Managed } from './processes.js';

export { DEFAULT_COUNTS, TOPOLOGY_ROLES, TopologyError, type Counts, type TopologyRole };

export type TopologyOptions = {
  /** Instances per role; the rest default to DEFAULT_COUNTS. */
  counts?: Partial<Counts>;
  /** nginx's public port (8080); 0 picks a free one. */
  port?: number;
  /** nginx's public address (127.0.0.1). */
  host?: string;
  /** The first instance's port (4100), the others follow; 0 picks free ones. */
  basePort?: number;
  /** The environment the instances inherit (process.env). */
  env?: NodeJS.ProcessEnv;
  /** KEY=VALUE lines added to `env`; a variable set in `env` wins, as with node --env-file. */
  envFile?: string;
  /** Where the configuration, logs and pid files go; a fresh temp directory by default. */
  runDir?: string;
  /** Seed the demo data when the database has no catalog (the first catalog instance does it). */
  seed?: boolean;
  /** Echo every instance's output, prefixed with its name, besides writing its log file. */
  verbose?: boolean;
  /** The nginx binary; found on PATH or in the sbin directories by default. */
  nginx?: string;
  nginxWorkers?: number | 'auto';
  readyTimeoutMs?: number;
  /** How long a stopping process may take before it is killed (the instances stop within ~10 s). */
  stopTimeoutMs?: number;
  /** Progress lines; silent by default. */
  log?: (line: string) => void;
  /** A process died while the topology was up (not during start, stop or restart). The rest keep running. */
  onUnexpectedExit?: (event: ExitEvent) => void;
  /** Aborting during start-up stops whatever was started and rejects. */
  signal?: AbortSignal;
};

export type InstanceInfo = {
  role: TopologyRole;
  index: number;
  name: string;
  port: number;
  /** http://127.0.0.1:<port>: its /healthz, /readyz and /metrics. */
  url: string;
  pid: number;
  logFile: string;
  running: boolean;
};

export type ExitEvent = {
  name: string;
  role: TopologyRole | 'nginx';
  port?: number;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  logFile: string;
};

export type Topology = {
  entryUrl: string;
  runDir: string;
  logDir: string;
  nginx: { pid: number; config: string; accessLog: string; errorLog: string; running: boolean };
  /** The current instances (a restart gives an instance a new pid). */
  readonly instances: InstanceInfo[];
  paymentServiceUrl: string;
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  /** The bearer token of the admin API, whether given or generated. */
  adminToken: string;
  /** Where a generated ADMIN_TOKEN was written (mode 0600); absent when the environment gave it. */
  adminTokenFile?: string;
  /** Names of the secrets generated for this run. */
  generatedSecrets: string[];
  /** Unexpected exits seen so far. */
  exits: ExitEvent[];
  /** Stops the named instance (if it runs) and starts it again on its port; resolves once it is ready. */
  restart(name: string): Promise<InstanceInfo>;
  /** SIGTERM to nginx, then to every instance; SIGKILL past the deadline. Safe to call twice. */
  stop(): Promise<void>;
};

const DEFAULT_PORT = 8080;
const DEFAULT_BASE_PORT = 4100;
const POLL_MS = 200;
const NGINX_STOP_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const describeExit = ({ code, signal }: Exit) => (signal ? `signal ${signal}` : `code ${code}`);

/** The project's root from this module, whether it runs from scripts/ (tsx) or dist/scripts/. */
function projectDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new TopologyError('cannot find the project (no package.json above the topology module)');
    dir = parent;
  }
  return dir;
}

async function mergedEnv(env: NodeJS.ProcessEnv, envFile: string | undefined): Promise<NodeJS.ProcessEnv> {
  if (!envFile) return { ...env };
  let content: string;
  try {
    content = await readFile(envFile, 'utf8');
  } catch (error) {
    throw new TopologyError(`cannot read --env-file ${envFile}: ${(error as Error).message}`);
  }
  return { ...parseEnv(content), ...env };
}

async function choosePorts(
  host: string,
  port: number,
  basePort: number,
  needed: number,
): Promise<{ entry: number; instances: number[] }> {
  const free = await freePorts((port === 0 ? 1 : 0) + (basePort === 0 ? needed : 0));
  const entry = port === 0 ? free.shift()! : port;
  const instances = basePort === 0 ? free : Array.from({ length: needed }, (_, i) => basePort + i);
  if (basePort !== 0 && basePort + needed - 1 > 65_535) {
    throw new TopologyError(`--base-port ${basePort}: ${needed} ports from there run past 65535`);
  }
  if (instances.includes(entry)) {
    throw new TopologyError(`port ${entry} is both nginx's and an instance's; move --port or --base-port`);
  }
  const busy = [...(await busyPorts([entry], host)), ...(await busyPorts(instances))];
  if (busy.length > 0) {
    throw new TopologyError(
      `already in use: port ${busy.join(', ')} (another topology or \`npm start\`?); stop it, or move --port / --base-port` +
        (await leftovers()),
    );
  }
  return { entry, instances };
}

/** Whether a process of this pid still exists (signal 0 only asks). */
export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Processes of topologies whose own process died without stopping them (SIGKILL): they keep their
 * ports. Named for the user to check and stop, never killed here: a pid may have been reused since.
 */
async function leftovers(): Promise<string> {
  const found: string[] = [];
  const runs = (await readdir(tmpdir()).catch(() => [])).filter((name) => name.startsWith('cinema-topology-'));
  for (const run of runs) {
    const state = join(tmpdir(), run, 'topology.json');
    try {
      const { pid, nginx, instances } = JSON.parse(await readFile(state, 'utf8')) as {
        pid: number;
        nginx: { pid: number };
        instances: { pid: number }[];
      };
      const left = [nginx.pid, ...instances.map((instance) => instance.pid)].filter(alive);
      if (!alive(pid) && left.length > 0) found.push(`  ${state}: kill -TERM ${left.join(' ')}`);
    } catch {
      // no state written (a start that failed), or not ours
    }
  }
  return found.length === 0
    ? ''
    : `\nLeft running by a topology that was killed (check, then stop them):\n${found.join('\n')}`;
}

/** Parses each role's configuration as its instances will: one clear error here instead of eleven exit-78 logs. */
function validatedConfig(env: (instance: PlannedInstance) => NodeJS.ProcessEnv, planned: PlannedInstance[]) {
  let first: ProcessConfig | undefined;
  for (const role of TOPOLOGY_ROLES) {
    const instance = planned.find((candidate) => candidate.role === role);
    if (!instance) continue;
    try {
      const parsed = parseConfig(env(instance));
      first ??= parsed;
    } catch (error) {
      if (error instanceof ConfigError)
        throw new TopologyError(`the ${role} instances would refuse to start. ${error.message}`);
      throw error;
    }
  }
  return first!;
}

type Slot = { plan: PlannedInstance; env: NodeJS.ProcessEnv; managed: Managed; restarting: boolean };

/**
 * Starts the production topology on this machine: the one-shot migration, then every instance of
 * every role on its loopback port, then nginx in front of them. Resolves once all of it answers;
 * on any failure (or abort) stops what it started and rejects.
 */
export async function startTopology(options: TopologyOptions = {}): Promise<Topology> {
  const log = options.log ?? (() => {});
  const counts: Counts = { ...DEFAULT_COUNTS, ...options.counts };
  const env = await mergedEnv(options.env ?? process.env, options.envFile);
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 15_000;
  const host = options.host ?? '127.0.0.1';
  const root = projectDir();

  const problems = countProblems(counts, env);
  if (problems.length > 0) throw new TopologyError(problems.join('\n'));
  const scripts = { start: join(root, 'dist/scripts/start.js'), migrate: join(root, 'dist/scripts/migrate.js') };
  for (const script of Object.values(scripts)) {
    if (!existsSync(script)) throw new TopologyError(`${script} is missing: run \`npm run build\` first`);
  }
  const nginx = findNginx(options.nginx, env);
  if (!nginx) {
    throw new TopologyError(
      `nginx is not installed (only Debian's binary is used; its service need not run): ${NGINX_INSTALL}`,
    );
  }

  const total = instanceCount(counts);
  const internalPayments = counts.payments > 1;
  const ports = await choosePorts(
    host,
    options.port ?? DEFAULT_PORT,
    options.basePort ?? DEFAULT_BASE_PORT,
    total + (internalPayments ? 1 : 0),
  );
  const planned = planInstances(counts, ports.instances);
  const internalPaymentsPort = internalPayments ? ports.instances[total] : undefined;
  const directPayments = planned.find((instance) => instance.role === 'payments');
  const paymentServiceUrl =
    internalPaymentsPort !== undefined
      ? `http://127.0.0.1:${internalPaymentsPort}/api/v1`
      : directPayments
        ? `http://127.0.0.1:${directPayments.port}/api/v1`
        : env.PAYMENT_SERVICE_URL!;

  const secrets = resolveSecrets(env);
  const shared = sharedEnv(secrets, paymentServiceUrl);
  const seed = options.seed ?? false;
  const config = validatedConfig((instance) => instanceEnv(env, shared, instance, seed), planned);
  // Said explicitly, with the app's own defaults: what the instances use is what topology.json shows.
  Object.assign(shared, {
    DATABASE_URL: config.DATABASE_URL,
    REDIS_URL: config.REDIS_URL,
    REDIS_PREFIX: config.REDIS_PREFIX,
  });

  log('checking PostgreSQL and Redis');
  const { maxConnections } = await checkStores(config.DATABASE_URL, config.REDIS_URL);
  const connections = total * config.DB_POOL_MAX + 2;
  if (connections > maxConnections - 5) {
    log(
      `warning: ${total} instances × DB_POOL_MAX ${config.DB_POOL_MAX} may open ${connections} connections; ` +
        `PostgreSQL allows ${maxConnections}. Lower DB_POOL_MAX if sessions are refused under load.`,
    );
  }

  const runDir = options.runDir ? resolve(options.runDir) : await mkdtemp(join(tmpdir(), 'cinema-topology-'));
  await mkdir(runDir, { recursive: true });
  // nginx's workers (nobody, when the master is root) must reach their temp directories inside.
  await chmod(runDir, 0o711);
  const logDir = join(runDir, 'logs');
  await mkdir(logDir, { recursive: true });
  let adminTokenFile: string | undefined;
  if (secrets.generated.includes('ADMIN_TOKEN')) {
    adminTokenFile = join(runDir, 'admin-token');
    await writeFile(adminTokenFile, `${secrets.values.ADMIN_TOKEN}\n`, { mode: 0o600 });
  }
  const files = nginxFiles(runDir);
  await mkdir(files.temp, { recursive: true });
  const upstream = (role: TopologyRole) => planned.filter((i) => i.role === role).map((i) => i.port);
  await writeFile(
    files.config,
    nginxConfig({
      runDir,
      listen: { host, port: ports.entry },
      upstreams: {
        tickets: upstream('tickets'),
        catalog: upstream('catalog'),
        realtime: upstream('realtime'),
        payments: upstream('payments'),
      },
      internalPaymentsPort,
      workerProcesses: options.nginxWorkers ?? 1,
    }),
  );
  await testNginxConfig(nginx, runDir, files.config);

  const entryHost = host === '0.0.0.0' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const entryUrl = `http://${entryHost}:${ports.entry}`;
  const slots: Slot[] = [];
  const oneShots: Managed[] = [];
  let nginxProcess: Managed | undefined;
  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  const exits: ExitEvent[] = [];
  const live = () => [...oneShots, ...slots.map((slot) => slot.managed), ...(nginxProcess ? [nginxProcess] : [])];
  // Whatever ends this process (an uncaught error, process.exit) takes the topology with it.
  const killAll = () => live().forEach((managed) => managed.exit === undefined && killGroup(managed.pid));
  process.on('exit', killAll);

  const startFailed = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, startFailed.signal]) : startFailed.signal;

  const echo = options.verbose ? log : undefined;
  const spawnInstance = (plan: PlannedInstance, instanceEnvironment: NodeJS.ProcessEnv) =>
    spawnLogged({
      name: plan.name,
      command: process.execPath,
      args: [scripts.start],
      env: instanceEnvironment,
      cwd: root,
      logFile: join(logDir, `${plan.name}.log`),
      echo,
    });

  const watch = (slot: Slot) => {
    const managed = slot.managed;
    void managed.exited.then((exit) => {
      if (phase !== 'running' || slot.restarting || slot.managed !== managed) return;
      report({ name: slot.plan.name, role: slot.plan.role, port: slot.plan.port, pid: managed.pid, ...exit });
    });
  };
  const report = (event: Omit<ExitEvent, 'logFile'> & { logFile?: string }) => {
    const full = { logFile: join(logDir, `${event.name}.log`), ...event } as ExitEvent;
    exits.push(full);
    if (options.onUnexpectedExit) options.onUnexpectedExit(full);
    else log(`${event.name} (pid ${event.pid}) exited unexpectedly (${describeExit(full)}); see ${full.logFile}`);
  };

  const waitReady = async (slot: Slot, deadline: number, abort: AbortSignal) => {
    const { plan, managed } = slot;
    for (;;) {
      abort.throwIfAborted();
      if (managed.exit) {
        throw new TopologyError(
          `${plan.name} (port ${plan.port}) exited during start-up (${describeExit(managed.exit)}); ` +
            `the end of ${managed.logFile}:\n${await lastLines(managed.logFile)}`,
        );
      }
      try {
        const response = await fetch(`http://127.0.0.1:${plan.port}/readyz`, { signal: AbortSignal.timeout(2_000) });
        await response.body?.cancel();
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        throw new TopologyError(
          `${plan.name} (port ${plan.port}) did not answer /readyz with 200 within ${seconds(readyTimeoutMs)}; ` +
            `the end of ${managed.logFile}:\n${await lastLines(managed.logFile)}`,
        );
      }
      await sleep(POLL_MS);
    }
  };

  const stopAll = async () => {
    phase = 'stopping';
    const stopped: string[] = [];
    if (nginxProcess) {
      const { killed } = await stopProcess(nginxProcess, NGINX_STOP_MS);
      if (killed) stopped.push('nginx');
    }
    const all = [...oneShots, ...slots.map((slot) => slot.managed)];
    const results = await Promise.all(all.map((managed) => stopProcess(managed, stopTimeoutMs)));
    results.forEach(({ killed }, i) => killed && stopped.push(all[i]!.name));
    if (stopped.length > 0) log(`killed after the deadline: ${stopped.join(', ')}`);
    process.off('exit', killAll);
  };

  const started = Date.now();
  try {
    log('migrating the database (node dist/scripts/migrate.js)');
    const migration = await spawnLogged({
      name: 'migrate',
      command: process.execPath,
      args: [scripts.migrate],
      env: { ...env, ...shared },
      cwd: root,
      logFile: join(logDir, 'migrate.log'),
      echo,
    });
    oneShots.push(migration);
    signal.throwIfAborted();
    const migrated = await Promise.race([
      migration.exited,
      new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
    ]);
    if (migrated.code !== 0) {
      throw new TopologyError(
        `the migration failed (${describeExit(migrated)}); the end of ${migration.logFile}:\n${await lastLines(migration.logFile)}`,
      );
    }

    log(`starting ${total} instances`);
    for (const plan of planned) {
      const instanceEnvironment = instanceEnv(env, shared, plan, seed);
      const slot: Slot = {
        plan,
        env: instanceEnvironment,
        managed: await spawnInstance(plan, instanceEnvironment),
        restarting: false,
      };
      slots.push(slot);
      watch(slot);
    }
    const deadline = Date.now() + readyTimeoutMs;
    let ready = 0;
    await Promise.all(
      slots.map(async (slot) => {
        try {
          await waitReady(slot, deadline, signal);
        } catch (error) {
          startFailed.abort(error);
          throw error;
        }
        ready += 1;
        log(`  ready ${String(ready).padStart(String(total).length)}/${total}  ${slot.plan.name} :${slot.plan.port}`);
      }),
    );

    log(`starting nginx on ${entryUrl}`);
    nginxProcess = await spawnLogged({
      name: 'nginx',
      command: nginx,
      args: ['-p', `${runDir}/`, '-c', files.config, '-g', 'daemon off;'],
      env,
      cwd: runDir,
      logFile: join(logDir, 'nginx-stderr.log'),
      echo,
    });
    await waitForEntry(entryUrl, nginxProcess, files.errorLog, readyTimeoutMs, signal);
  } catch (error) {
    await stopAll();
    if (options.signal?.aborted) {
      throw new TopologyError('start-up interrupted; everything started was stopped');
    }
    throw error;
  }

  phase = 'running';
  const nginxRun = nginxProcess;
  void nginxRun.exited.then((exit) => {
    if (phase === 'running')
      report({ name: 'nginx', role: 'nginx', pid: nginxRun.pid, logFile: files.errorLog, ...exit });
  });

  const info = (slot: Slot): InstanceInfo => ({
    role: slot.plan.role,
    index: slot.plan.index,
    name: slot.plan.name,
    port: slot.plan.port,
    url: `http://127.0.0.1:${slot.plan.port}`,
    pid: slot.managed.pid,
    logFile: slot.managed.logFile,
    running: slot.managed.exit === undefined,
  });

  let stopping: Promise<void> | undefined;
  const topology: Topology = {
    entryUrl,
    runDir,
    logDir,
    nginx: {
      pid: nginxRun.pid,
      config: files.config,
      accessLog: files.accessLog,
      errorLog: files.errorLog,
      get running() {
        return nginxRun.exit === undefined;
      },
    },
    get instances() {
      return slots.map(info);
    },
    paymentServiceUrl,
    databaseUrl: config.DATABASE_URL,
    redisUrl: config.REDIS_URL,
    redisPrefix: config.REDIS_PREFIX,
    adminToken: secrets.values.ADMIN_TOKEN,
    adminTokenFile,
    generatedSecrets: secrets.generated,
    exits,
    async restart(name) {
      const slot = slots.find((candidate) => candidate.plan.name === name);
      if (!slot) throw new TopologyError(`no instance named ${name}`);
      if (phase !== 'running') throw new TopologyError('the topology is not running');
      slot.restarting = true;
      try {
        await stopProcess(slot.managed, stopTimeoutMs);
        slot.managed = await spawnInstance(slot.plan, slot.env);
        watch(slot);
        await waitReady(slot, Date.now() + readyTimeoutMs, AbortSignal.timeout(readyTimeoutMs + 5_000));
      } finally {
        slot.restarting = false;
      }
      await writeState();
      return info(slot);
    },
    stop() {
      stopping ??= (async () => {
        const begun = Date.now();
        log(`stopping nginx and ${slots.length} instances`);
        await stopAll();
        log(`stopped in ${seconds(Date.now() - begun)}`);
      })();
      return stopping;
    },
  };

  // For scripts that look at a running topology from outside (soak and failure tests).
  const writeState = () =>
    writeFile(
      join(runDir, 'topology.json'),
      JSON.stringify(
        {
          pid: process.pid,
          entryUrl,
          paymentServiceUrl,
          adminTokenFile,
          nginx: { pid: nginxRun.pid, config: files.config, accessLog: files.accessLog, errorLog: files.errorLog },
          instances: topology.instances,
        },
        null,
        2,
      ),
    );
  await writeState();
  log(`up in ${seconds(Date.now() - started)}`);
  return topology;
}

/** nginx answers on the entry and routes to the catalog (an error in the routing shows here, not in a test). */
async function waitForEntry(
  entryUrl: string,
  nginx: Managed,
  errorLog: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal.throwIfAborted();
    if (nginx.exit) {
      throw new TopologyError(
        `nginx exited at start (${describeExit(nginx.exit)}):\n${await lastLines(nginx.logFile)}\n${await lastLines(errorLog)}`,
      );
    }
    try {
      const health = await fetch(`${entryUrl}/nginx-health`, { signal: AbortSignal.timeout(2_000) });
      await health.body?.cancel();
      if (health.ok) {
        const routed = await fetch(`${entryUrl}/api/v1/openapi.json`, { signal: AbortSignal.timeout(5_000) });
        await routed.body?.cancel();
        if (routed.ok) return;
        throw new TopologyError(`nginx answers, but GET /api/v1/openapi.json through it gave ${routed.status}`);
      }
    } catch (error) {
      if (error instanceof TopologyError) throw error;
    }
    if (Date.now() > deadline) {
      throw new TopologyError(
        `nginx did not answer on ${entryUrl} in time; ${errorLog}:\n${await lastLines(errorLog)}`,
      );
    }
    await sleep(POLL_MS);
  }
}
