import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { appendFile, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pingRedisOnce } from '../../infra/redis.js';
import { freePorts } from '../topology/checks.js';
import { spawnLogged, stopProcess, type Managed } from '../topology/processes.js';
import { sleep } from './clients.js';

/**
 * A PostgreSQL cluster and a Redis of the run's own, on their own loopback ports and in a temporary
 * directory: a chaos run restarts them, which it must never do to the machine's shared servers.
 */

const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const run = promisify(execFile);

/** initdb and postgres refuse to run as root: as root, the cluster belongs to the postgres account. */
function clusterOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  if (!line) throw new Error('running as root, and there is no postgres account to own the private cluster');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export type PostgresStopMode = 'fast' | 'immediate';

export type PrivatePostgres = {
  url: (database: string) => string;
  port: number;
  dataDir: string;
  /** `pg_ctl restart -m <mode>`: `fast` rolls back sessions and checkpoints; `immediate` skips both, so the start recovers from the WAL. */
  restart: (mode: PostgresStopMode) => Promise<void>;
  stop: () => Promise<void>;
};

export async function startPrivatePostgres(dir: string): Promise<PrivatePostgres> {
  const owner = clusterOwner();
  const dataDir = join(dir, 'pgdata');
  const logFile = join(dir, 'postgres.log');
  await mkdir(dataDir, { mode: 0o700 });
  if (owner) {
    await chown(dir, owner.uid, owner.gid);
    await chown(dataDir, owner.uid, owner.gid);
  }
  const [port] = await freePorts(1);
  const pg = (command: string, args: string[]) =>
    run(join(PG_BIN, command), args, { ...(owner ?? {}), cwd: dir, timeout: 120_000 });
  await pg('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  // Durable as in service (fsync, full_page_writes and synchronous_commit keep their defaults):
  // an immediate restart must recover every commit from the WAL.
  await appendFile(
    join(dataDir, 'postgresql.conf'),
    [
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dataDir}'`,
      'max_connections = 300',
      'shared_buffers = 128MB',
    ].join('\n') + '\n',
  );
  const ctl = (args: string[]) => pg('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', ...args]);
  await ctl(['start']);
  return {
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    port: port!,
    dataDir,
    restart: async (mode) => {
      await ctl(['-m', mode, 'restart']);
    },
    stop: async () => {
      await ctl(['-m', 'fast', 'stop']).catch(() => undefined);
    },
  };
}

export type PrivateRedis = {
  url: string;
  port: number;
  /** SIGTERM (Redis's SHUTDOWN: the AOF is flushed and fsynced), then a new server on the same directory and port, which replays the AOF. */
  restart: () => Promise<void>;
  stop: () => Promise<void>;
};

export async function startPrivateRedis(dir: string): Promise<PrivateRedis> {
  const [port] = await freePorts(1);
  const url = `redis://127.0.0.1:${port}`;
  const redisDir = join(dir, 'redis');
  await mkdir(redisDir, { recursive: true });
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    redisDir,
    '--save',
    '',
    '--appendonly',
    'yes',
    // Every second, as a deployment would run it: an acknowledged write is fsynced within a second,
    // and a shutdown (the fault here) fsyncs everything. What a crash of the machine could lose (the
    // last second of wake-ups and payment jobs) the application re-sends from PostgreSQL (the requeue
    // and stalled-payment sweeps); `always` would pay an fsync per BullMQ command to guard what the
    // run never does.
    '--appendfsync',
    'everysec',
  ];
  const start = async () => {
    const server = await spawnLogged({
      name: 'redis',
      command: process.env.REDIS_SERVER ?? 'redis-server',
      args,
      env: process.env,
      cwd: redisDir,
      logFile: join(dir, 'redis.log'),
    });
    await untilRedisAnswers(url, server);
    return server;
  };
  let server: Managed = await start();
  return {
    url,
    port: port!,
    restart: async () => {
      await stopProcess(server, 30_000);
      server = await start();
    },
    stop: async () => {
      await stopProcess(server, 10_000);
    },
  };
}

/** PING answered: the AOF is loaded (Redis answers LOADING until it is). */
async function untilRedisAnswers(url: string, server: Managed): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exit) throw new Error(`redis-server exited at start (${JSON.stringify(server.exit)}); see its log`);
    try {
      await pingRedisOnce(url);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await sleep(100);
  }
}

export type PrivateStores = { dir: string; postgres: PrivatePostgres; redis: PrivateRedis; stop: () => Promise<void> };

/** Both stores in a new temporary directory, removed again by `stop` unless `keep`. */
export async function startPrivateStores(keep = false): Promise<PrivateStores> {
  const dir = await mkdtemp(join(tmpdir(), 'cinema-stores-'));
  const postgres = await startPrivatePostgres(dir);
  let redis: PrivateRedis;
  try {
    redis = await startPrivateRedis(dir);
  } catch (error) {
    await postgres.stop();
    throw error;
  }
  return {
    dir,
    postgres,
    redis,
    stop: async () => {
      await redis.stop();
      await postgres.stop();
      if (!keep) await rm(dir, { recursive: true, force: true });
    },
  };
}
