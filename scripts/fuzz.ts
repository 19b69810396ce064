import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dropDatabase } from '../db/connection.js';
import { ADMIN_TOKEN, benchStores, clearRedisPrefix, startRole, writeLatest } from './bench/system.js';
import { formatBreak, fuzz, summary, type FuzzReport } from './fuzz/runner.js';

/*
 * The long OpenAPI fuzz run: starts the whole system (every role, one process, from dist/) on a
 * database and Redis prefix of its own (cinema_fuzz, fuzz; emptied first), generates --cases cases
 * from its OpenAPI document with --seed, sends them --concurrency at a time, prints a summary and
 * writes docs/benchmarks/fuzz-latest.json. Exit code 1 when any answer broke the contract.
 *
 * npm run fuzz -- [--cases 10000] [--seed N] [--concurrency 16]
 * npm run fuzz -- --seed N --case 123 [--case 456]   replays cases of an earlier run, printing each in full
 * npm run fuzz -- --base-url http://127.0.0.1:3000   fuzzes a running system instead (ADMIN_TOKEN and
 *                                                     PAYMENT_SERVICE_KEY from the environment)
 *
 * The process is the production build with its production checks (NODE_ENV=production), without rate
 * limits (every case comes from one address) and with the payment simulator answering at once: its
 * latency is a simulated provider's, not the API's, and would only blur the time budget of each case.
 */
const { values: args } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000' },
    seed: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    case: { type: 'string', multiple: true },
    'base-url': { type: 'string' },
  },
});

const SERVICE_KEY = 'fuzz-payment-service-key-0123-abcdefghij';
const log = (line: string) => console.error(`[fuzz] ${line}`);

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The system under test, on its own emptied stores; its log goes to a file (errors are looked for there). */
async function startSystem(): Promise<{ baseUrl: string; child: ChildProcess; logFile: string }> {
  const stores = benchStores('fuzz');
  await dropDatabase(stores.DATABASE_URL);
  await clearRedisPrefix(stores);
  const port = await freePort();
  const logFile = join(tmpdir(), 'cinema-fuzz-server.log');
  log(`starting every role on :${port} (database cinema_fuzz, Redis prefix fuzz, log ${logFile})`);
  const child = await startRole(
    'catalog,tickets,workers,payments,realtime',
    port,
    {
      DATABASE_URL: stores.DATABASE_URL,
      REDIS_PREFIX: stores.REDIS_PREFIX,
      PAYMENT_SERVICE_KEY: SERVICE_KEY,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
      PROVIDER_LATENCY_MEDIAN_MS: '0',
      PROVIDER_LATENCY_P99_MS: '0',
    },
    [],
    logFile,
  );
  return { baseUrl: `http://127.0.0.1:${port}`, child, logFile };
}

async function stopSystem(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

const seed = args.seed !== undefined ? Number(args.seed) : Math.floor(Math.random() * 2 ** 31);
const replay = args.case?.map(Number);
const external = args['base-url'];
const system = external ? undefined : await startSystem();
const baseUrl = external ?? system!.baseUrl;
let report: FuzzReport | undefined;
try {
  log(`seed ${seed}: ${replay ? `replaying case ${replay.join(', ')}` : `${args.cases} cases`} against ${baseUrl}`);
  report = await fuzz({
    baseUrl,
    credentials: {
      adminToken: external ? (process.env.ADMIN_TOKEN ?? '') : ADMIN_TOKEN,
      paymentServiceKey: external ? (process.env.PAYMENT_SERVICE_KEY ?? '') : SERVICE_KEY,
    },
    cases: Number(args.cases),
    seed,
    concurrency: Number(args.concurrency),
    only: replay,
    onProgress: (done, total, breaks) =>
      process.stderr.write(
        // A terminal gets one line redrawn; a log file gets a line each.
        `${process.stderr.isTTY ? '\r' : ''}[fuzz] ${done}/${total} cases, ${breaks} breaks${done === total || !process.stderr.isTTY ? '\n' : ''}`,
      ),
    onCase: replay
      ? (fuzzCase, outcome) =>
          console.log(
            [
              `case ${fuzzCase.index} ${fuzzCase.operation} (${fuzzCase.kinds.join('+')})`,
              `  ${fuzzCase.method} ${fuzzCase.path}`,
              `  headers: ${JSON.stringify(fuzzCase.headers)}`,
              `  body (${fuzzCase.body?.length ?? 0} bytes${fuzzCase.chunked ? ', chunked' : ''}): ${fuzzCase.body?.subarray(0, 2_000).toString('utf8') ?? ''}`,
              `  -> ${outcome.status ?? outcome.error} in ${outcome.ms} ms: ${outcome.body?.subarray(0, 2_000).toString('utf8') ?? ''}`,
            ].join('\n'),
          )
      : undefined,
  });
} finally {
  if (system) await stopSystem(system.child);
}

/** The error lines of the system's own log (pino level 50 and above), by message: what the server saw of the breaks. */
function serverErrors(logFile: string): { message: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      if ((entry.level ?? 0) < 50) continue;
      const message = `${entry.msg ?? ''}: ${entry.err?.message ?? ''}`.slice(0, 200);
      counts.set(message, (counts.get(message) ?? 0) + 1);
    } catch {
      // not a log line of pino's
    }
  }
  return [...counts].map(([message, count]) => ({ message, count })).sort((a, b) => b.count - a.count);
}

const logged = system ? serverErrors(system.logFile) : [];
console.log(summary(report, 20));
console.log(
  `\nserver log: ${logged.reduce((sum, { count }) => sum + count, 0)} error lines` +
    logged.map(({ message, count }) => `\n  ${count} × ${message}`).join(''),
);
if (!replay) {
  writeLatest(
    'fuzz',
    {
      ...report,
      serverLogErrors: logged,
      target: external ? 'external' : 'one process with every role (NODE_ENV=production, dist/)',
      at: new Date().toISOString(),
    },
    { written: 'docs/benchmarks/fuzz-latest.json', seed, cases: report.cases, breaks: report.breakCount },
  );
}
if (report.breakCount > 0) {
  log(`${report.breakCount} breaks; the first: \n${formatBreak(report.breaks[0]!)}`);
  process.exitCode = 1;
}
