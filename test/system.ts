import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createApp } from '../api/app.js';
import { answerClientErrors } from '../api/http/client-errors.js';
import { dropDatabase, ensureDatabase } from '../db/connection.js';
import { migrateToLatest } from '../db/migrate.js';
import type { Deps } from '../domain/context.js';
import { parseConfig, RATE_LIMITS_OFF, type ProcessConfig } from '../host/config.js';
import { createDeps, type Wiring } from '../host/deps.js';
import { startWorkers } from '../host/process.js';
import { httpRoutes, MIGRATIONS, ROLES, routesByRole } from '../host/roles.js';
import { allocationQueueName, bullPrefix } from '../infra/job-queues.js';
import { createLogger } from '../infra/logger.js';
import { connectRedis } from '../infra/redis.js';
import { expectOnlyTransitions, expectTakenSeatsRecounted, recordStatusChanges } from './status-changes.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/**
 * Each run gets its own database (created and migrated here, dropped at the end) and its own Redis
 * key prefix, so runs never see each other's data nor the demo data.
 */
function testConfig(paymentServiceUrl: string): ProcessConfig {
  const runId = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const base = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  base.pathname = `/cinema_test_${runId}`;
  return parseConfig({
    NODE_ENV: 'test',
    DATABASE_URL: base.toString(),
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `test-${runId}`,
    ADMIN_TOKEN,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SEED_WHEN_EMPTY: 'false',
    // Thousands of requests from 127.0.0.1: no rate limits, but where test/rate-limits.test.ts sets them.
    ...RATE_LIMITS_OFF,
    // Fast recovery, so crash and lost-wake-up tests finish in seconds.
    ALLOCATION_LOCK_MS: '2000',
    ALLOCATION_STALLED_CHECK_MS: '1000',
    SWEEP_INTERVAL_MS: '300',
    REQUEUE_AFTER_MS: '1000',
    // The allocation tests look at seats alone; the payment tests switch this off.
    CONFIRM_WITHOUT_PAYMENT: 'true',
    // The payment service answers at once and never fails unless a test asks it to (special card
    // tokens, or PUT /payment-behaviour); the saga gives up on it quickly.
    PAYMENT_SERVICE_URL: paymentServiceUrl,
    PROVIDER_LATENCY_MEDIAN_MS: '0',
    PROVIDER_LATENCY_P99_MS: '0',
    PROVIDER_DECLINE_RATE: '0',
    PROVIDER_ERROR_RATE: '0',
    PROVIDER_TIMEOUT_RATE: '0',
    PROVIDER_TIMEOUT_AFTER_CHARGE_RATE: '0',
    PROVIDER_HANG_MS: '1500',
    PAYMENT_TIMEOUT_MS: '500',
    PAYMENT_RETRY_BASE_MS: '100',
    PAYMENT_RETRY_MAX_MS: '500',
    PAYMENT_BREAKER_RESET_MS: '1000',
    PAYMENT_BREAKER_VOLUME: '5',
    // Tests buy many seats as one customer; test/orders/hold-cap.test.ts switches the cap on.
    MAX_HELD_SEATS_PER_CUSTOMER: '0',
    MAX_HELD_SEATS_PER_ADDRESS: '0',
  });
}

/** The environment a child process needs to join this test run (same database, same Redis prefix). */
export async function testEnvironment(overrides: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  const { config } = await testSystem();
  return {
    ...process.env,
    NODE_ENV: 'test',
    DATABASE_URL: config.DATABASE_URL,
    REDIS_URL: config.REDIS_URL,
    REDIS_PREFIX: config.REDIS_PREFIX,
    ADMIN_TOKEN,
    ORDER_TOKEN_SECRET: config.ORDER_TOKEN_SECRET,
    LOG_LEVEL: 'info',
    SEED_WHEN_EMPTY: 'false',
    PORT: '0',
    ALLOCATION_LOCK_MS: String(config.ALLOCATION_LOCK_MS),
    ALLOCATION_STALLED_CHECK_MS: String(config.ALLOCATION_STALLED_CHECK_MS),
    SWEEP_INTERVAL_MS: String(config.SWEEP_INTERVAL_MS),
    REQUEUE_AFTER_MS: String(config.REQUEUE_AFTER_MS),
    CONFIRM_WITHOUT_PAYMENT: String(config.CONFIRM_WITHOUT_PAYMENT),
    ...Object.fromEntries(
      Object.entries(config)
        .filter(([name]) => /^(PAYMENT|PROVIDER|RATE_LIMIT)_/.test(name))
        .map(([name, value]) => [name, String(value)]),
    ),
    ...overrides,
  };
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts `scripts/start.ts` as a separate process with the given roles, joined to this test run,
 * and resolves once it logged `readyLine`. The caller kills it (SIGKILL to simulate a crash).
 */
export async function spawnProcess(
  roles: string,
  readyLine: string,
  overrides: Record<string, string> = {},
): Promise<ChildProcess & { output(): string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    env: await testEnvironment({ ROLES: roles, ...overrides }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process with ${roles} did not start:\n${output}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(readyLine)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`process with ${roles} exited (${code}):\n${output}`)));
  });
  return Object.assign(child, { output: () => output });
}

/** A Redis of the test's own on `port`, without persistence, once it accepts connections. */
export async function startRedisServer(port: number): Promise<ChildProcess> {
  const redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  let output = '';
  redis.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  while (!output.includes('Ready to accept connections')) await once(redis.stdout!, 'data');
  return redis;
}

/** Hears the name of each sweep run that ended in the in-process workers ('order sweeps', 'payment reconcile'). */
export const sweepRuns = new EventEmitter<{ ended: [name: string] }>();

/** Runs the workers role inside the test process; returns its graceful stop. */
export async function startTestWorkers(): Promise<() => Promise<void>> {
  const { deps, config } = await testSystem();
  return startWorkers(config, deps, { onSweepEnded: (name) => sweepRuns.emit('ended', name) });
}

export type TestSystem = {
  config: ProcessConfig;
  deps: Deps;
  server: Server;
  baseUrl: string;
  /** The routes served, by role (the payment simulator's are the ones whose behaviour tests switch). */
  routes: ReturnType<typeof routesByRole>;
  readiness: Wiring['readiness'];
  /** A connection of the tests' own, for looking at (or wiping) this run's keys. */
  redis: Redis;
  close: () => Promise<void>;
};

let system: Promise<TestSystem> | undefined;

async function start(): Promise<TestSystem> {
  // Listening first: the port is part of the config (the payment service is served here too).
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const config = testConfig(`${baseUrl}/api/v1`);
  await ensureDatabase(config.DATABASE_URL);
  const log = createLogger(config.LOG_LEVEL);
  const { deps, readiness, close } = createDeps(config, log, 10);
  await migrateToLatest(deps.db, MIGRATIONS);
  await recordStatusChanges(deps.db);
  const routes = routesByRole(deps, config);
  // As the process host does: nginx (here, a test naming a client in X-Forwarded-For) runs on loopback.
  server.on('request', createApp(deps, httpRoutes(ROLES, routes), readiness, { trustProxy: config.TRUST_PROXY }));
  answerClientErrors(server);
  return { config, deps, server, baseUrl, routes, readiness, redis: connectRedis(config.REDIS_URL, log), close };
}

const openQueues: Queue[] = [];

/** A partition's allocation queue, for looking at its jobs (the system's own is not exposed); closed with the system. */
export async function allocationQueue(partition: number): Promise<Queue> {
  const { config } = await testSystem();
  const queue = new Queue(allocationQueueName(partition), {
    connection: { url: config.REDIS_URL },
    prefix: bullPrefix({ redisPrefix: config.REDIS_PREFIX }),
  });
  openQueues.push(queue);
  return queue;
}

/** The in-process system every test talks to; started on first use. */
export function testSystem(): Promise<TestSystem> {
  system ??= start();
  return system;
}

/**
 * Once every test ran: no status was ever written outside the state machines, whoever wrote it, and
 * every showing's kept count of taken seats equals a full recount.
 */
export async function checkInvariants(): Promise<void> {
  if (!system) return;
  const { deps } = await system;
  await expectOnlyTransitions(deps.db);
  await expectTakenSeatsRecounted(deps.db);
}

export async function closeTestSystem(): Promise<void> {
  if (!system) return;
  const { server, config, redis, close } = await system;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await Promise.all(openQueues.splice(0).map((queue) => queue.close()));
  await close();
  // After every connection of the run is closed, so no late write (a wake-up) outlives the clean-up.
  const keys = await redis.keys(`${config.REDIS_PREFIX}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await dropDatabase(config.DATABASE_URL);
  system = undefined;
}

export type ApiResponse<T = any> = { status: number; body: T; headers: Headers };

/** A JSON request to the in-process API, as a real client would make it. */
export async function api<T = any>(
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null; headers?: Record<string, string>; rawBody?: string } = {},
): Promise<ApiResponse<T>> {
  const { baseUrl } = await testSystem();
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? ADMIN_TOKEN : options.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined || options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = options.rawBody ?? JSON.stringify(options.body);
  }
  const response = await fetch(baseUrl + path, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (the docs page): the text is the body
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}
