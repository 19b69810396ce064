import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createApp } from '../api/app.js';
import { routesByRole } from '../api/roles.js';
import { connectDatabase, dropDatabase, ensureDatabase } from '../db/connection.js';
import { migrateToLatest } from '../db/migrate.js';
import { connectRedis } from '../db/redis.js';
import { parseConfig, type Config } from '../domain/config.js';
import type { Deps } from '../domain/context.js';
import { createLogger } from '../domain/logger.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/**
 * Each run gets its own database (created and migrated here, dropped at the end) and its own Redis
 * key prefix, so runs never see each other's data nor the demo data.
 */
function testConfig(): Config {
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
  });
}

export type TestSystem = { config: Config; deps: Deps; server: Server; baseUrl: string };

let system: Promise<TestSystem> | undefined;

async function start(): Promise<TestSystem> {
  const config = testConfig();
  await ensureDatabase(config.DATABASE_URL);
  const deps: Deps = {
    db: connectDatabase(config.DATABASE_URL, 10),
    redis: connectRedis(config.REDIS_URL),
    config,
    log: createLogger(config),
  };
  await migrateToLatest(deps.db);
  const server = createServer(createApp(deps, [...routesByRole.catalog, ...routesByRole.tickets]));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { config, deps, server, baseUrl: `http://127.0.0.1:${port}` };
}

/** The in-process system every test talks to; started on first use. */
export function testSystem(): Promise<TestSystem> {
  system ??= start();
  return system;
}

export async function closeTestSystem(): Promise<void> {
  if (!system) return;
  const { deps, server, config } = await system;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  const keys = await deps.redis.keys(`${config.REDIS_PREFIX}*`);
  if (keys.length > 0) await deps.redis.del(...keys);
  await deps.redis.quit();
  await deps.db.destroy();
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
