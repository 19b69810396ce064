import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { demoLayout } from '../demo-data.js';
import { LiveSeatMap, snapshotOf, type SeatMapBody, type SeatsUpdate } from '../realtime/live-seat-map.js';

/** What the soak runs' clients do through the topology's entry, as buyers and watchers would. */

export type Outcome = 'answered' | 'failed';
export type SoakRequest = { kind: string; ms: number; outcome: Outcome; attempts: number };

/** What a client may retry, as nginx or a browser would: nobody answered, or the service said "later". */
export const RETRIABLE = new Set([502, 503, 504]);
export const RETRY_FOR_MS = 20_000;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)]!;

/** One request retried (same body, same Idempotency-Key) until it gets an answer that is not "try later". */
export async function send(
  entry: string,
  kind: string,
  path: string,
  init: RequestInit = {},
): Promise<SoakRequest & { response?: Response }> {
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

export async function createShowings(entry: string, adminToken: string, count: number) {
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

/**
 * A Socket.IO client through the entry keeping one showing's map, resubscribing after every reconnect.
 * `readSeatMap` fetches the REST snapshot a repair needs (a recorded read, in a chaos run).
 */
export function watch(
  entry: string,
  showingId: number,
  readSeatMap: () => Promise<SeatMapBody> = async () => {
    const { response } = await send(entry, 'seat map (repair)', `/api/v1/showings/${showingId}/seats`);
    if (response?.status !== 200) throw new Error(`seat map: ${response?.status}`);
    return (await response.json()) as SeatMapBody;
  },
) {
  const map = new LiveSeatMap(async () => snapshotOf(await readSeatMap()));
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
