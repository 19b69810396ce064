import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { dropDatabase } from '../db/connection.js';
import { eventually } from './orders/support.js';
import { freePort, spawnProcess, startRedisServer, testEnvironment, testSystem } from './system.js';

/** A database URL of the test server that no run has used yet. */
async function freshDatabaseUrl(label: string): Promise<string> {
  const { config } = await testSystem();
  const url = new URL(config.DATABASE_URL);
  url.pathname = `${url.pathname}_${label}`;
  return url.toString();
}

async function stopAll(children: ChildProcess[]) {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }),
  );
}

async function query<T>(databaseUrl: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

const lockRows = (databaseUrl: string) =>
  query<{ is_locked: number }>(databaseUrl, 'SELECT is_locked FROM knex_migrations_lock');

/** Runs a script of scripts/ to its end; its exit code and everything it printed. */
async function runScript(script: string, overrides: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', `scripts/${script}`], {
    env: await testEnvironment(overrides),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, lines: output.trim().split('\n') };
}

async function readyz(port: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
}

describe('start-up', () => {
  it('when six processes start at the same moment on a fresh database, should all become ready, round after round, and leave one free migration lock', async function () {
    this.timeout(240_000);
    const roles = ['catalog', 'tickets', 'tickets', 'workers', 'realtime', 'payments'];
    for (let round = 1; round <= 5; round += 1) {
      const databaseUrl = await freshDatabaseUrl(`start_${round}`);
      const ports = await Promise.all(roles.map(() => freePort()));
      const started = await Promise.allSettled(
        roles.map((role, index) =>
          spawnProcess(role, 'listening', { DATABASE_URL: databaseUrl, PORT: String(ports[index]) }),
        ),
      );
      const children = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      try {
        const failures = started.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
        expect(failures, `round ${round}`).to.deep.equal([]);
        expect(await Promise.all(ports.map(readyz)), `round ${round}`).to.deep.equal(roles.map(() => 200));
        expect(await lockRows(databaseUrl)).to.deep.equal([{ is_locked: 0 }]);
      } finally {
        await stopAll(children);
        await dropDatabase(databaseUrl);
      }
    }
  });

  it('when a killed migrator left the migration lock set, and in two rows, should start anyway', async function () {
    this.timeout(60_000);
    const databaseUrl = await freshDatabaseUrl('stale_lock');
    try {
      expect((await runScript('migrate.ts', { DATABASE_URL: databaseUrl })).code).to.equal(0);
      await query(databaseUrl, 'UPDATE knex_migrations_lock SET is_locked = 1');
      await query(databaseUrl, 'INSERT INTO knex_migrations_lock (is_locked) VALUES (1)');
      const child = await spawnProcess('catalog', 'listening', { DATABASE_URL: databaseUrl });
      await stopAll([child]);
      expect(await lockRows(databaseUrl)).to.deep.equal([{ is_locked: 0 }]);
    } finally {
      await dropDatabase(databaseUrl);
    }
  });

  it('when the one-shot migration ran, should leave a database that processes started without migrating serve at once', async function () {
    this.timeout(60_000);
    const databaseUrl = await freshDatabaseUrl('migrate_step');
    try {
      const migrated = await runScript('migrate.ts', { DATABASE_URL: databaseUrl });
      expect(migrated.code).to.equal(0);
      expect(migrated.lines.some((line) => line.includes('database is migrated'))).to.equal(true);
      const port = await freePort();
      const child = await spawnProcess('catalog', 'listening', {
        DATABASE_URL: databaseUrl,
        PORT: String(port),
        MIGRATE_ON_START: 'false',
      });
      try {
        expect((await fetch(`http://127.0.0.1:${port}/api/v1/cities`)).status).to.equal(200);
      } finally {
        await stopAll([child]);
      }
    } finally {
      await dropDatabase(databaseUrl);
    }
  });

  for (const [store, overrides] of [
    ['PostgreSQL', { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/cinema' }],
    ['Redis', { REDIS_URL: 'redis://127.0.0.1:1' }],
  ] as const) {
    it(`when ${store} cannot be reached at start and no wait is set, should say so in one line and exit 69`, async function () {
      this.timeout(30_000);
      const { code, lines } = await runScript('start.ts', {
        ...overrides,
        ROLES: 'catalog',
        LOG_LEVEL: 'info',
        STORE_WAIT_SECONDS: '0',
      });
      expect(code).to.equal(69);
      expect(lines).to.have.length(1);
      const line = JSON.parse(lines[0]!) as { msg: string; store: string; reason: string };
      expect(line.msg).to.equal(`${store} cannot be reached; exiting`);
      expect(line.reason).to.match(/ECONNREFUSED|connect/);
    });
  }

  it('when a store stays away past STORE_WAIT_SECONDS, should say once that it waits, then exit 69', async function () {
    this.timeout(30_000);
    const started = Date.now();
    const { code, lines } = await runScript('start.ts', {
      REDIS_URL: 'redis://127.0.0.1:1',
      ROLES: 'catalog',
      LOG_LEVEL: 'info',
      STORE_WAIT_SECONDS: '2',
    });
    expect(code).to.equal(69);
    expect(lines.map((line) => JSON.parse(line).msg)).to.deep.equal([
      'Redis cannot be reached; waiting for it',
      'Redis cannot be reached; exiting',
    ]);
    expect(Date.now() - started).to.be.at.least(2_000);
  });

  it('when a store comes up while the process waits for it (a restart, a slow start), should start without exiting', async function () {
    this.timeout(30_000);
    const redisPort = await freePort();
    const port = await freePort();
    const service = await spawnProcess('catalog', 'Redis cannot be reached; waiting for it', {
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      PORT: String(port),
      STORE_WAIT_SECONDS: '20',
    });
    const redis = await startRedisServer(redisPort);
    try {
      await eventually('the process to be ready', async () =>
        (await readyz(port).catch(() => 0)) === 200 ? true : undefined,
      );
      expect(service.exitCode).to.equal(null);
      expect(service.output()).not.to.include('exiting');
    } finally {
      await stopAll([service]);
      redis.kill('SIGKILL');
    }
  });

  it('when installed with NODE_ENV=production (no devDependencies), should build and start with `npm start` on an empty database, without demo data', async function () {
    this.timeout(240_000);
    const root = process.cwd();
    const checkout = mkdtempSync(join(tmpdir(), 'cinema-production-'));
    const databaseUrl = await freshDatabaseUrl('production');
    try {
      cpSync(root, checkout, {
        recursive: true,
        filter: (path) => !/\/(node_modules|dist|\.git|\.topology)(\/|$)/.test(path.slice(root.length)),
      });
      // The packages are in npm's cache already: the suite's own install put them there.
      await promisify(execFile)('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], {
        cwd: checkout,
        env: { ...process.env, NODE_ENV: 'production' },
      });
      expect(
        ['mocha', 'tsx', 'eslint'].filter((name) => existsSync(join(checkout, 'node_modules', name))),
      ).to.deep.equal([]);

      const port = await freePort();
      const env = await testEnvironment({
        NODE_ENV: 'production',
        DATABASE_URL: databaseUrl,
        PORT: String(port),
        HOST: '127.0.0.1',
        ADMIN_TOKEN: 'production-admin-token-0123456789abcdef',
        ORDER_TOKEN_SECRET: 'production-order-secret-0123456789abcdef',
        PAYMENT_SERVICE_KEY: 'production-payment-key-0123456789abcdef',
        PAYMENT_SERVICE_URL: `http://127.0.0.1:${port}/api/v1`,
        PAYMENT_SIMULATOR_ALLOWED: 'true',
      });
      delete env.SEED_WHEN_EMPTY; // production's own default
      const child = spawn('npm', ['start'], { cwd: checkout, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      try {
        const [started] = await Promise.race([
          once(child.stdout!, 'data').then(async function untilStarted(): Promise<[boolean]> {
            while (!output.includes('"msg":"realtime started"')) await once(child.stdout!, 'data');
            return [true];
          }),
          once(child, 'exit').then(() => [false] as [boolean]),
        ]);
        expect(started, output).to.equal(true);
        expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).to.equal(200);
        expect(await query(databaseUrl, 'SELECT id FROM cities')).to.deep.equal([]);
      } finally {
        if (child.exitCode === null) {
          const exited = once(child, 'exit');
          child.kill('SIGTERM');
          expect(((await exited) as [number | null])[0]).to.equal(0);
        }
      }
    } finally {
      rmSync(checkout, { recursive: true, force: true });
      await dropDatabase(databaseUrl);
    }
  });
});
