import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { connectDatabase } from '../../db/connection.js';
import { demoLayout } from '../demo-data.js';
import { LiveSeatMap, snapshotOf, type SeatMapBody, type SeatsUpdate } from '../realtime/live-seat-map.js';
import type { Topology, TopologyRole } from '../topology/topology.js';

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

type Outcome = 'answered' | 'failed';
type Request = { kind: string; ms: number; outcome: Outcome; attempts: number };

/** What a client may retry, as nginx or a browser would: nobody answered, or the service said "later". */
const RETRIABLE = new Set([502, 503, 504]);
const RETRY_FOR_MS = 20_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)]!;

/** One request retried (same body, same Idempotency-Key) until it gets an answer that is not "try later". */
async function send(
  entry: string,
  kind: string,
  path: string,
  init: RequestInit = {},
): Promise<Request & { response?: Response }> {
  const started = performance.now();
  let attempts = 0;
  while (performance.now() - started < RETRY_FOR_MS) {
    attempts += 1;
    try {
      const response = await fetch(`${entry}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
      if (!RETRIABLE.has(response.status)) {
        const outcome: Outcome = response.status < 500 ? 'answered' : 'failed';
        return { kind, ms: performance.now() - started, outcome, attempts, response };
      }
      await response.arrayBuffer();
    } catch {
      // Connection refused or reset: the instance went away between nginx's choice and the answer.
    }
    await sleep(Math.min(1_000, 100 * attempts));
  }
  return { kind, ms: performance.now() - started, outcome: 'failed', attempts };
}

async function createShowings(entry: string, adminToken: string, count: number) {
  const admin = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const created = async <T>(path: string, body: unknown): Promise<T> => {
    const { response } = await send(entry, 'admin', path, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify(body),
    });
    if (response?.status !== 201) throw new Error(`POST ${path}: ${response?.status} ${await response?.text()}`);
    return (await response.json()) as T;
  };
  const city = await created<{ id: number }>('/api/v1/cities', { name: `Rolling ${randomUUID()}` });
  const cinema = await created<{ id: number }>('/api/v1/cinemas', {
    name: 'Rolling cinema',
    timezone: 'Europe/Moscow',
    cityId: city.id,
  });
  const film = await created<{ id: number }>('/api/v1/films', { title: 'Rolling', durationMinutes: 90 });
  const showings: { id: number; seatIds: number[] }[] = [];
  for (let index = 0; index < count; index += 1) {
    const hall = await created<{ id: number; layout: { rows: { seats: { id: number }[] }[] } }>('/api/v1/halls', {
      name: `Hall ${index + 1}`,
      layout: demoLayout(8, 12),
      cinemaId: cinema.id,
    });
    const showing = await created<{ id: number }>('/api/v1/showings', {
      hallId: hall.id,
      filmId: film.id,
      startsAt: new Date(Date.now() + 2 * 86_400_000).toISOString(),
    });
    showings.push({ id: showing.id, seatIds: hall.layout.rows.flatMap((row) => row.seats.map((seat) => seat.id)) });
  }
  return showings;
}

/** A Socket.IO client through the entry keeping one showing's map, resubscribing after every reconnect. */
function watch(entry: string, showingId: number) {
  const map = new LiveSeatMap(async () => {
    const { response } = await send(entry, 'seat map (repair)', `/api/v1/showings/${showingId}/seats`);
    if (response?.status !== 200) throw new Error(`seat map: ${response?.status}`);
    return snapshotOf((await response.json()) as SeatMapBody);
  });
  const socket: Socket = io(entry, { transports: ['websocket'], reconnectionDelay: 200, reconnectionDelayMax: 2_000 });
  const counts = { connects: 0, disconnects: 0, reasons: [] as string[] };
  socket.on('seats:update', (delta: SeatsUpdate) => map.apply(delta));
  socket.on('connect_error', (error) => counts.reasons.push(`connect_error: ${error.message}`));
  socket.io.on('reconnect_attempt', (attempt) => counts.reasons.push(`attempt ${attempt}`));
  socket.on('disconnect', (reason) => {
    counts.disconnects += 1;
    counts.reasons.push(reason);
  });
  socket.on('connect', async () => {
    counts.connects += 1;
    const answer = await socket
      .timeout(5_000)
      .emitWithAck('showing:subscribe', { showingId })
      .catch(() => undefined);
    if (answer?.ok) await map.resume(answer.version);
  });
  return { showingId, map, socket, counts };
}

export async function rollingRestart(topology: Topology, options: RollingRestartOptions) {
  const log = options.log ?? (() => {});
  const entry = topology.entryUrl;
  const showings = await createShowings(entry, topology.adminToken, options.showings);
  const watchers = Array.from({ length: options.watchers }, (_, index) =>
    watch(entry, showings[index % showings.length]!.id),
  );
  const requests: Request[] = [];
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
          customer: { email: 'rolling@example.com' },
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
    const undecided = async () =>
      (await db('orders').whereIn('id', accepted).where('status', 'queued').count({ n: '*' }))[0]!.n as number;
    const decideBy = Date.now() + 30_000;
    while ((await undecided()) > 0 && Date.now() < decideBy) await sleep(250);
    const stored = (await db('orders').whereIn('id', accepted).count({ n: '*' }))[0]!.n as number;
    const { rows: doubleSold } = await db.raw(
      `SELECT seat_id FROM tickets WHERE showing_id = ANY(?) AND status IN ('held', 'sold')
       GROUP BY showing_id, seat_id HAVING count(*) > 1`,
      [showings.map((showing) => showing.id)],
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
    const p99 = (values: number[]) =>
      Math.round(values[Math.min(values.length - 1, Math.floor(values.length * 0.99))] ?? 0);
    return {
      seconds: Math.round((Date.now() - started) / 1000),
      faults,
      requests: requests.length,
      answered,
      answeredShare: requests.length > 0 ? answered / requests.length : 1,
      retried: requests.filter((request) => request.attempts > 1).length,
      p99Ms: { seatMap: p99(sorted('seat map')), order: p99(sorted('order')) },
      orders: { accepted: accepted.length, stored, undecided: await undecided(), lost: accepted.length - stored },
      doubleSales: doubleSold.length,
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
