import { createServer } from 'node:http';
import pg from 'pg';

/**
 * The hot-showing benchmark's reference (scripts/bench/hot-showing.ts): the plain way to sell seats,
 * one transaction per request with row locks on pre-created ticket rows. Its own process, node:http
 * and a pg pool, no queue, no batching. `POST /orders {showingId, seatIds}` answers 200
 * {status: 'confirmed'} or {status: 'rejected', rejectedSeatIds}; `POST /showings {showingId, seatIds}`
 * creates (or resets) a showing's free tickets.
 */
const pool = new pg.Pool({ connectionString: process.env.PEER_DATABASE_URL, max: Number(process.env.PEER_POOL ?? 16) });
await pool.query(`CREATE SCHEMA IF NOT EXISTS bench_peer;
  CREATE TABLE IF NOT EXISTS bench_peer.tickets (showing_id bigint, seat_id bigint, status text NOT NULL DEFAULT 'free'
    CHECK (status IN ('free', 'sold')), order_id uuid, PRIMARY KEY (showing_id, seat_id))`);

async function order(showingId: number, seatIds: number[]) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ seat_id: string; status: string }>({
      name: 'peer-lock',
      text: `SELECT seat_id, status FROM bench_peer.tickets WHERE showing_id = $1 AND seat_id = ANY($2::bigint[])
             ORDER BY seat_id FOR UPDATE`,
      values: [showingId, seatIds],
    });
    const taken = rows.filter((row) => row.status !== 'free').map((row) => Number(row.seat_id));
    if (rows.length !== seatIds.length || taken.length > 0) {
      await client.query('ROLLBACK');
      return { status: 'rejected', rejectedSeatIds: taken };
    }
    await client.query({
      name: 'peer-sell',
      text: `UPDATE bench_peer.tickets SET status = 'sold', order_id = gen_random_uuid()
             WHERE showing_id = $1 AND seat_id = ANY($2::bigint[])`,
      values: [showingId, seatIds],
    });
    await client.query('COMMIT');
    return { status: 'confirmed' };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

async function createShowing(showingId: number, seatIds: number[]) {
  await pool.query('DELETE FROM bench_peer.tickets WHERE showing_id = $1', [showingId]);
  await pool.query('INSERT INTO bench_peer.tickets (showing_id, seat_id) SELECT $1, unnest($2::bigint[])', [
    showingId,
    seatIds,
  ]);
  return { showingId, seats: seatIds.length };
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
    const work =
      req.url === '/orders' ? order(body.showingId, body.seatIds) : createShowing(body.showingId, body.seatIds);
    work.then(
      (result) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result)),
      (error: Error) => res.writeHead(500).end(error.message),
    );
  });
});
server.keepAliveTimeout = 65_000; // the load generator keeps its connections between rounds
server
  .listen({ port: Number(process.env.PEER_PORT), host: '127.0.0.1', backlog: 4096 })
  .on('listening', () => console.error(`[peer] listening on ${process.env.PEER_PORT}`));
