import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { onOwnSession } from '../../db/connection.js';
import { pingRedisOnce } from '../../infra/redis.js';

/** A failure the user can act on: its message says what and how; no stack needed. */
export class TopologyError extends Error {}

export const NGINX_INSTALL = 'apt-get update && apt-get install -y nginx';

/** Where nginx usually is; /usr/sbin is not on an ordinary user's PATH on Debian. */
const SBIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin'];

/** The nginx binary: `explicit`, else the first on PATH or in the sbin directories; undefined when there is none. */
export function findNginx(explicit?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = explicit
    ? [explicit]
    : [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN_DIRS].map((dir) => join(dir, 'nginx'));
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const run = promisify(execFile);

/** `nginx -t` on the run's configuration; rejects with nginx's own explanation. */
export async function testNginxConfig(nginx: string, runDir: string, config: string): Promise<void> {
  try {
    await run(nginx, ['-t', '-q', '-p', `${runDir}/`, '-c', config]);
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new TopologyError(`nginx -t refused ${config}:\n${(stderr || message).trim()}`);
  }
}

async function listenOn(host: string, port: number): Promise<Server> {
  const server = createServer();
  server.listen({ host, port, exclusive: true });
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([error]) => Promise.reject(error as Error)),
  ]);
  return server;
}

const close = (server: Server) => new Promise((resolve) => server.close(resolve));

/** Ports nobody listens on right now, picked by the kernel (for tests and side-by-side runs). */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = [];
  try {
    for (let i = 0; i < count; i += 1) servers.push(await listenOn(host, 0));
    return servers.map((server) => (server.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map(close));
  }
}

/** The ports among `ports` something already listens on (on `host`). */
export async function busyPorts(ports: number[], host = '127.0.0.1'): Promise<number[]> {
  const busy: number[] = [];
  for (const port of ports) {
    try {
      await close(await listenOn(host, port));
    } catch {
      busy.push(port);
    }
  }
  return busy;
}

/** The database URL's server, on its maintenance database: the run's database may not exist yet. */
function maintenanceUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  return url.toString();
}

const withoutPassword = (value: string) => {
  const url = new URL(value);
  if (url.password) url.password = '***';
  return url.toString();
};

/** PostgreSQL and Redis answer; resolves with PostgreSQL's max_connections. */
export async function checkStores(databaseUrl: string, redisUrl: string): Promise<{ maxConnections: number }> {
  const problems: string[] = [];
  let maxConnections = 0;
  try {
    await onOwnSession(maintenanceUrl(databaseUrl), async (client) => {
      const { rows } = await client.query<{ max_connections: string }>('SHOW max_connections');
      maxConnections = Number(rows[0]?.max_connections ?? 0);
    });
  } catch (error) {
    problems.push(`PostgreSQL at ${withoutPassword(databaseUrl)} does not answer: ${(error as Error).message}`);
  }
  try {
    await pingRedisOnce(redisUrl);
  } catch (error) {
    problems.push(`Redis at ${withoutPassword(redisUrl)} does not answer: ${(error as Error).message}`);
  }
  if (problems.length > 0) throw new TopologyError(problems.join('\n'));
  return { maxConnections };
}
