import { randomUUID } from 'node:crypto';
import http from 'node:http';

/** Keep-alive JSON client for load runs: no per-request connection cost, bounded sockets. */
export function jsonClient(baseUrl: string, maxSockets = 1024) {
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  const { hostname, port } = new URL(baseUrl);
  return {
    request(
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ): Promise<{ status: number; body: any; headers: http.IncomingHttpHeaders }> {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const req = http.request(
          {
            agent,
            hostname,
            port,
            method,
            path,
            headers: {
              ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
              ...headers,
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString();
              try {
                resolve({
                  status: res.statusCode ?? 0,
                  body: text ? JSON.parse(text) : undefined,
                  headers: res.headers,
                });
              } catch {
                resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers });
              }
            });
            res.on('error', reject);
          },
        );
        req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end(payload);
      });
    },
    close: () => agent.destroy(),
  };
}

export type JsonClient = ReturnType<typeof jsonClient>;

/** Spreads requests over several clients in turn, as a load balancer's round-robin upstream does. */
export function roundRobin(clients: JsonClient[]): JsonClient {
  let next = 0;
  return {
    request: (...args) => clients[next++ % clients.length]!.request(...args),
    close: () => clients.forEach((client) => client.close()),
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Open loop: starts `send` at a fixed rate whatever the latency, for `seconds`, so a slow system
 * meets its real arrival rate instead of slowing its own load down. In-flight work is capped so
 * an overloaded run ends instead of exhausting memory; what the cap refuses is counted.
 */
export async function openLoop(rate: number, seconds: number, send: () => Promise<void>, maxInFlight = 20_000) {
  const total = Math.round(rate * seconds);
  const started = performance.now();
  const pending = new Set<Promise<void>>();
  let sent = 0;
  let refused = 0;
  while (sent + refused < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    while (sent + refused < due) {
      if (pending.size >= maxInFlight) {
        refused += 1;
        continue;
      }
      const work = send().finally(() => pending.delete(work));
      pending.add(work);
      sent += 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await Promise.all(pending);
  return { sent, refused, seconds: (performance.now() - started) / 1000 };
}

/**
 * Keep-alive GETs that read the body but do not parse it: at thousands of requests a second a load
 * generator parsing 16 KB of JSON each time would measure itself. Answers the status and the size.
 */
export function rawGetClient(baseUrl: string, maxSockets = 64) {
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  const { hostname, port } = new URL(baseUrl);
  return {
    get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; bytes: number; etag?: string }> {
      return new Promise((resolve, reject) => {
        const req = http.get({ agent, hostname, port, path, headers }, (res) => {
          let bytes = 0;
          res.on('data', (chunk: Buffer) => (bytes += chunk.length));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, etag: res.headers.etag }));
          res.on('error', reject);
        });
        req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
        req.on('error', reject);
      });
    },
    close: () => agent.destroy(),
  };
}

/**
 * POST /orders with `Prefer: wait=5`, polling the order should the wait run out. A 409 at the door (seats
 * known taken, too few free) is a decision too: `refused` carries its code. Throws on anything else.
 */
export async function submitAndDecide(
  client: JsonClient,
  body: object,
): Promise<{ latencyMs: number; order: any; refused?: string }> {
  const started = performance.now();
  const response = await client.request('POST', '/api/v1/orders', body, {
    'idempotency-key': randomUUID(),
    prefer: 'wait=5',
  });
  if (response.status === 409) {
    return {
      latencyMs: performance.now() - started,
      order: { status: 'rejected' },
      refused: response.body?.error?.code,
    };
  }
  if (response.status !== 200 && response.status !== 202) {
    throw new Error(`submit answered ${response.status} ${response.body?.error?.code ?? ''}`);
  }
  let order = response.body;
  while (order.status === 'queued') {
    if (performance.now() - started > 30_000) throw new Error('undecided after 30 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
    order = (await client.request('GET', `/api/v1/orders/${order.id}?token=${response.body.accessToken}`)).body;
  }
  return { latencyMs: performance.now() - started, order };
}
