import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'socket.io-client';
import { jsonClient } from './load.js';
import { connectSocket, ordersPushed } from './order-push.js';
import { config, loadTargets, log, prepareDatabase, root, startRole, writeLatest } from './system.js';

// npm run bench:realtime -- [--rates 1500,2000,2500] [--seconds 10] [--sockets 200] [--connections 10000] [--topology all|split|both]
// 1. Under load, for each topology (every role in one process as `npm start` runs it, or tickets,
//    workers and realtime apart), after the warm-up bench:orders makes: steps of orders arriving at
//    a fixed rate (open loop), each from free seats; each buyer subscribes to its order on the
//    realtime service right after the 202 and waits for the decision to be pushed.
// 2. Memory: `connections` idle websocket clients, each watching a showing, on one realtime instance.
const { values: args } = parseArgs({
  options: {
    rates: { type: 'string', default: '1500,2000,2500' },
    seconds: { type: 'string', default: '10' },
    sockets: { type: 'string', default: '200' },
    connections: { type: 'string', default: '10000' },
    topology: { type: 'string', default: 'both' },
    'base-port': { type: 'string', default: '3920' },
  },
});
const basePort = Number(args['base-port']);
const topologies = args.topology === 'both' ? ['all', 'split'] : [args.topology];
if (!topologies.every((topology) => topology === 'all' || topology === 'split')) {
  throw new Error(`--topology is all, split or both, not ${args.topology}`);
}

/** Heap (after a full GC) and RSS of a process started with the memory probe. */
async function memoryOf(child: ChildProcess, directory: string): Promise<{ heapUsedMb: number; rssMb: number }> {
  const before = new Set(readdirSync(directory));
  child.kill('SIGUSR2');
  for (let waited = 0; waited < 30_000; waited += 100) {
    const written = readdirSync(directory).find((name) => !before.has(name));
    if (written) {
      const { heapUsed, rss } = JSON.parse(readFileSync(`${directory}/${written}`, 'utf8'));
      return { heapUsedMb: Math.round(heapUsed / 1e5) / 10, rssMb: Math.round(rss / 1e5) / 10 };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the memory probe did not answer');
}

const db = await prepareDatabase();
const probeDirectory = mkdtempSync(`${tmpdir()}/realtime-memory-`);
const stopped = (child: ChildProcess) =>
  child.exitCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));

/** The topology's processes, the realtime one started with the memory probe. */
async function startTopology(
  topology: string,
): Promise<{ processes: Record<string, ChildProcess>; realtimeUrl: string; realtime: ChildProcess }> {
  const probe = { MEMORY_PROBE_DIR: probeDirectory };
  const probeArgs = ['--expose-gc', '--import', `${root}/dist/scripts/bench/memory-probe.js`];
  if (topology === 'all') {
    const all = await startRole('catalog,tickets,workers,payments,realtime', basePort, probe, probeArgs);
    return { processes: { all }, realtimeUrl: `http://127.0.0.1:${basePort}`, realtime: all };
  }
  const workers = await startRole('workers', basePort + 1);
  const realtime = await startRole('realtime', basePort + 2, probe, probeArgs);
  const api = await startRole('catalog,tickets', basePort);
  return { processes: { api, workers, realtime }, realtimeUrl: `http://127.0.0.1:${basePort + 2}`, realtime };
}

const CONNECTIONS = 256;
const client = jsonClient(`http://127.0.0.1:${basePort}`, CONNECTIONS);
const sockets: Socket[] = [];
const underLoad: Record<string, unknown> = {};
let memory: Record<string, unknown> | undefined;
try {
  for (const [index, topology] of topologies.entries()) {
    const { processes, realtimeUrl, realtime } = await startTopology(topology);
    try {
      underLoad[topology] = await ordersPushed({
        label: topology,
        client,
        connections: CONNECTIONS,
        realtimeUrl,
        sockets: Number(args.sockets),
        db,
        databaseName: new URL(config.DATABASE_URL).pathname.slice(1),
        rates: args.rates.split(',').map(Number),
        seconds: Number(args.seconds),
        warmUpSeconds: 5,
        processes: Object.fromEntries(Object.entries(processes).map(([name, child]) => [name, child.pid!])),
        maxErrorShare: 0,
      });
      if (index === topologies.length - 1) memory = await idleConnections(realtime, realtimeUrl);
    } finally {
      sockets.forEach((socket) => socket.close());
      sockets.length = 0;
      for (const child of Object.values(processes)) child.kill('SIGTERM');
      await Promise.all(Object.values(processes).map(stopped));
    }
  }
  const result = {
    measuredAt: new Date().toISOString(),
    machine: '2 cores; load generator, clients, API, worker, realtime and PostgreSQL on the same machine',
    underLoad,
    memory,
  };
  writeLatest('realtime', result);
} finally {
  client.close();
  await db.destroy();
  rmSync(probeDirectory, { recursive: true, force: true });
}

/** Heap and RSS per idle websocket client watching a showing, on the realtime process. */
async function idleConnections(realtime: ChildProcess, realtimeUrl: string) {
  const targets = await loadTargets(client, 1000);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const idle = await memoryOf(realtime, probeDirectory);
  const wanted = Number(args.connections);
  const watching: Socket[] = [];
  for (let opened = 0; opened < wanted; opened += 500) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(500, wanted - opened) }, () => connectSocket(realtimeUrl)),
    );
    sockets.push(...batch);
    watching.push(...batch);
    await Promise.all(
      batch.map((socket, index) =>
        socket
          .timeout(10_000)
          .emitWithAck('showing:subscribe', { showingId: targets[(opened + index) % targets.length]!.showingId }),
      ),
    );
    if ((opened + 500) % 2_500 === 0) log(`${watching.length} clients connected and watching a showing`);
  }
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const loaded = await memoryOf(realtime, probeDirectory);
  const result = {
    connections: watching.length,
    idle,
    loaded,
    heapPerConnectionKb: Math.round(((loaded.heapUsedMb - idle.heapUsedMb) * 1e6) / watching.length / 100) / 10,
    rssPerConnectionKb: Math.round(((loaded.rssMb - idle.rssMb) * 1e6) / watching.length / 100) / 10,
  };
  log(`memory: ${JSON.stringify(result)}`);
  return result;
}
