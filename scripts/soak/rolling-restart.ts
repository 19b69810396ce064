import { randomUUID } from 'node:crypto';
import { connectDatabase } from '../../db/connection.js';
import { snapshotOf, type SeatMapBody } from '../realtime/live-seat-map.js';
import type { Topology, TopologyRole } from '../topology/topology.js';
import { acceptedOrders, doubleSoldSeats } from './database-checks.js';
import { percentile } from '../bench/load.js';
import { createShowings, pick, send, sleep, watch, type SoakRequest } from './clients.js';

/**
 * Rolling restart and crashes under load, through the topology's nginx entry: buyers read seat maps
 * and place orders, watchers keep live seat maps over Socket.IO, while every HTTP and realtime
 * instance is restarted in turn (SIGTERM, start, ready, next) and then one tickets and one workers
 * instance are killed with SIGKILL and started again. Afterwards: the share of requests answered
 * correctly, every accepted order decided and stored, no seat sold twice, every watcher reconnected
 * with a map equal to the REST snapshot.
 */
export type RollingRestartOptions = {
  /** Buyers each running read → order → pause in a loop. */
  buyers: number;
  /** Socket.IO clients each keeping one showing's live map. */
  watchers: number;
  showings: number;
  /** Load before the first restart and after the last fault. */
  calmMs: number;
  /** Between two restarts. */
  pauseMs: number;
  log?: (line: string) => void;
};

export async function rollingRestart(topology: Topology, options: RollingRestartOptions) {
  const log = options.log ?? (() => {});
  const entry = topology.entryUrl;
  const showings = await createShowings(entry, topology.adminToken, options.showings);
  const watchers = Array.from({ length: options.watchers }, (_, index) =>
    watch(entry, showings[index % showings.length]!.id),
  );
  const requests: SoakRequest[] = [];
  const accepted: string[] = [];
  let loading = true;

  const buyer = async () => {
    while (loading) {
      const showing = pick(showings);
      requests.push(await send(entry, 'seat map', `/api/v1/showings/${showing.id}/seats`));
      const submit = await send(entry, 'order', '/api/v1/orders', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID(), prefer: 'wait=5' },
        body: JSON.stringify({
          showingId: showing.id,
          seatIds: [pick(showing.seatIds)],
          customer: { email: `rolling-${randomUUID().slice(0, 8)}@example.com` },
        }),
      });
      requests.push(submit);
      if (submit.response?.status === 200 || submit.response?.status === 202) {
        accepted.push(((await submit.response.json()) as { id: string }).id);
      }
      await sleep(50);
    }
  };
  const buyers = Array.from({ length: options.buyers }, buyer);

  const faults: { at: number; what: string; tookMs: number }[] = [];
  const started = Date.now();
  const fault = async (what: string, act: () => Promise<unknown>) => {
    const begun = Date.now();
    await act();
    faults.push({ at: begun - started, what, tookMs: Date.now() - begun });
    log(`${what} (${Date.now() - begun} ms)`);
    await sleep(options.pauseMs);
  };
  await sleep(options.calmMs);
  const restartedRoles: TopologyRole[] = ['catalog', 'tickets', 'realtime'];
  for (const instance of topology.instances.filter((candidate) => restartedRoles.includes(candidate.role))) {
    await fault(`restarted ${instance.name}`, () => topology.restart(instance.name));
  }
  for (const role of ['tickets', 'workers'] as const) {
    const victim = topology.instances.find((candidate) => candidate.role === role)!;
    await fault(`killed ${victim.name} with SIGKILL, started it again`, async () => {
      process.kill(victim.pid, 'SIGKILL');
      await topology.restart(victim.name);
    });
  }
  await sleep(options.calmMs);
  loading = false;
  await Promise.all(buyers);

  const db = connectDatabase(topology.databaseUrl, 2);
  try {
    const orders = await acceptedOrders(db, accepted, 30_000);
    const doubleSales = await doubleSoldSeats(
      db,
      showings.map((showing) => showing.id),
    );

    // The watchers' maps, once no change is under way, against the snapshot each would fetch now.
    await sleep(1_000);
    const backAfterEveryDrop = watchers.filter(
      (watcher) => watcher.socket.connected && watcher.counts.connects === watcher.counts.disconnects + 1,
    ).length;
    let mapsEqual = 0;
    const notCurrent: unknown[] = [];
    for (const watcher of watchers) {
      const { response } = await send(entry, 'seat map (check)', `/api/v1/showings/${watcher.showingId}/seats`);
      const snapshot = snapshotOf((await response!.json()) as SeatMapBody);
      const same =
        watcher.socket.connected &&
        watcher.map.version === snapshot.version &&
        [...snapshot.seats].every(([id, status]) => watcher.map.seats.get(id) === status);
      if (same) mapsEqual += 1;
      else if (notCurrent.length < 5) {
        notCurrent.push({
          connected: watcher.socket.connected,
          active: watcher.socket.active,
          ...watcher.counts,
          mapVersion: watcher.map.version,
          snapshotVersion: snapshot.version,
        });
      }
      watcher.socket.close();
    }

    const answered = requests.filter((request) => request.outcome === 'answered').length;
    const sorted = (kind: string) =>
      requests
        .filter((request) => request.kind === kind)
        .map((request) => request.ms)
        .sort((a, b) => a - b);
    const p99 = (values: number[]) => (values.length === 0 ? 0 : Math.round(percentile(values, 99)));
    return {
      seconds: Math.round((Date.now() - started) / 1000),
      faults,
      requests: requests.length,
      answered,
      answeredShare: requests.length > 0 ? answered / requests.length : 1,
      retried: requests.filter((request) => request.attempts > 1).length,
      p99Ms: { seatMap: p99(sorted('seat map')), order: p99(sorted('order')) },
      orders,
      doubleSales,
      watchers: {
        count: watchers.length,
        disconnects: watchers.reduce((sum, watcher) => sum + watcher.counts.disconnects, 0),
        reconnected: watchers.filter((watcher) => watcher.counts.connects > 1).length,
        backAfterEveryDrop,
        repairs: watchers.reduce((sum, watcher) => sum + watcher.map.repairs, 0),
        mapsEqualToSnapshot: mapsEqual,
        notCurrent,
      },
    };
  } finally {
    await db.destroy();
  }
}

export type RollingRestartReport = Awaited<ReturnType<typeof rollingRestart>>;
