import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { generateCase, operationOf, validCase } from './cases.js';
import {
  ISOLATED,
  operationsOf,
  type Credentials,
  type EntitySet,
  type Fixtures,
  type FuzzCase,
  type OpenApiDocument,
  type Operation,
} from './requests.js';

/**
 * Sends fuzz cases to a running system and judges the answers by the contract every route keeps:
 * no 5xx; every 4xx (429 included) carries {"error":{"code":string,"message":string}}; every answer
 * within its time budget. Used by the CI test (test/fuzz/) and the long run (scripts/fuzz.ts).
 */

export type Outcome = {
  status?: number;
  body?: Buffer;
  ms: number;
  error?: string;
  /** Sent again on a new connection: the pooled one had been closed by the server while idle. */
  resent?: boolean;
};

export type Break = {
  seed: number;
  case: number;
  operation: string;
  kinds: string[];
  problem: 'server error' | 'no error envelope' | 'too slow' | 'no answer';
  request: {
    method: string;
    path: string;
    headers: Record<string, string | string[]>;
    body?: string;
    bodyBytes: number;
  };
  status?: number;
  response?: string;
  ms: number;
};

export type FuzzReport = {
  seed: number;
  cases: number;
  operations: number;
  concurrency: number;
  durationMs: number;
  casesPerSecond: number;
  statuses: Record<string, number>;
  routes: Record<string, { cases: number; statuses: Record<string, number> }>;
  kinds: Record<string, number>;
  latencyMs: { p50: number; p99: number; max: number };
  /** Cases sent a second time because their pooled connection had gone stale (see send). */
  resent: number;
  breakCount: number;
  breaksByProblem: Record<string, number>;
  /** The first breaks (at most 100), in case order. */
  breaks: Break[];
};

const MAX_BREAKS_KEPT = 100;
/** How long past its budget a case may go before it is abandoned as unanswered. */
const ABANDON_AFTER_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// Sending

/**
 * Sends one case on a keep-alive connection. A connection the server closed while it sat idle in the
 * pool (its keep-alive timeout) fails at once with ECONNRESET when reused: Node's documented race
 * (`request.reusedSocket`). Such a case is sent again once on a new connection, so only a failure on
 * a fresh connection counts against the server.
 */
export async function send(baseUrl: string, fuzzCase: FuzzCase, agent: Agent): Promise<Outcome> {
  const first = await sendOnce(baseUrl, fuzzCase, agent);
  return first.staleConnection ? { ...(await sendOnce(baseUrl, fuzzCase, false)), resent: true } : first;
}

const guarded = new WeakSet<Socket>();

/**
 * A server that answers before it has read the whole body (413, or 400 as soon as the headers are
 * wrong) may close the connection while the rest is still being written; the write then fails after
 * the request has let go of its socket, with no listener left. Such late errors are expected.
 */
function quietOnLateErrors(socket: Socket) {
  if (guarded.has(socket)) return;
  guarded.add(socket);
  socket.on('error', () => {});
}

function sendOnce(
  baseUrl: string,
  fuzzCase: FuzzCase,
  agent: Agent | false,
): Promise<Outcome & { staleConnection?: boolean }> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    const started = performance.now();
    let settled = false;
    let status: number | undefined;
    const finish = (outcome: Omit<Outcome, 'ms'> & { staleConnection?: boolean }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...outcome, ms: Math.round(performance.now() - started) });
    };
    const headers: Record<string, string | string[]> = { ...fuzzCase.headers };
    if (fuzzCase.body && !fuzzCase.chunked) headers['content-length'] = String(fuzzCase.body.length);
    let req: ReturnType<typeof request>;
    try {
      req = request({
        host: url.hostname,
        port: url.port,
        method: fuzzCase.method,
        path: fuzzCase.path,
        headers,
        agent,
      });
    } catch (error) {
      // A request Node will not write (a generator bug, not the server's): reported as such.
      resolve({ error: `not sendable: ${(error as Error).message}`, ms: 0 });
      return;
    }
    const timer = setTimeout(() => req.destroy(new Error('abandoned')), fuzzCase.budgetMs + ABANDON_AFTER_MS);
    req.on('socket', quietOnLateErrors);
    req.on('response', (res) => {
      status = res.statusCode;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => finish({ status, body: Buffer.concat(chunks) }));
      res.on('error', (error) => finish({ status, body: Buffer.concat(chunks), error: error.message }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      // The server may answer (413) and close before the whole body is written: the answer counts.
      if (status !== undefined) return;
      const stale = req.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
      finish({ error: `${error.code ?? ''} ${error.message}`.trim(), staleConnection: stale });
    });
    if (fuzzCase.body && fuzzCase.chunked) {
      const half = Math.floor(fuzzCase.body.length / 2);
      req.write(fuzzCase.body.subarray(0, half));
      req.end(fuzzCase.body.subarray(half));
    } else req.end(fuzzCase.body);
  });
}

// ---------------------------------------------------------------------------------------------
// Judging

const excerpt = (text: string, length = 300) =>
  text.length > length ? `${text.slice(0, length)}… (${text.length} chars)` : text;

function hasEnvelope(body: Buffer | undefined): boolean {
  try {
    const error = (JSON.parse(body?.toString('utf8') ?? '') as { error?: { code?: unknown; message?: unknown } }).error;
    return typeof error?.code === 'string' && typeof error.message === 'string';
  } catch {
    return false;
  }
}

/** What is wrong with an answer, if anything. */
export function judge(fuzzCase: FuzzCase, outcome: Outcome): Break['problem'] | undefined {
  if (outcome.status === undefined) return 'no answer';
  if (outcome.status >= 500) return 'server error';
  if (outcome.status >= 400 && !hasEnvelope(outcome.body)) return 'no error envelope';
  if (outcome.ms > fuzzCase.budgetMs) return 'too slow';
  return undefined;
}

/**
 * A break as recorded and printed. The deployment's secrets are written as the name of their scheme
 * (`Bearer <adminToken>`): a replay generates the case again with the real ones.
 */
function breakOf(fuzzCase: FuzzCase, outcome: Outcome, problem: Break['problem'], credentials: Credentials): Break {
  const redact = (text: string) =>
    Object.entries(credentials).reduce(
      (result, [scheme, secret]) => (secret ? result.replaceAll(secret, `<${scheme}>`) : result),
      text,
    );
  const headers = Object.fromEntries(
    Object.entries(fuzzCase.headers).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.map((item) => excerpt(redact(item), 120)) : excerpt(redact(value), 120),
    ]),
  );
  return {
    seed: fuzzCase.seed,
    case: fuzzCase.index,
    operation: fuzzCase.operation,
    kinds: fuzzCase.kinds,
    problem,
    request: {
      method: fuzzCase.method,
      path: excerpt(fuzzCase.path, 400),
      headers,
      body: fuzzCase.body ? excerpt(fuzzCase.body.toString('utf8'), 400) : undefined,
      bodyBytes: fuzzCase.body?.length ?? 0,
    },
    status: outcome.status,
    response: outcome.error ?? (outcome.body ? excerpt(outcome.body.toString('utf8'), 400) : undefined),
    ms: outcome.ms,
  };
}

/** A break as a few lines: what was sent, what came back, and how to generate the case again. */
export function formatBreak(item: Break): string {
  const { request: sent } = item;
  return [
    `[${item.problem}] seed=${item.seed} case=${item.case} ${item.operation} (${item.kinds.join('+')})`,
    `  ${sent.method} ${sent.path}`,
    `  headers: ${JSON.stringify(sent.headers)}`,
    ...(sent.body !== undefined ? [`  body (${sent.bodyBytes} bytes): ${JSON.stringify(sent.body)}`] : []),
    `  -> ${item.status ?? 'no status'} in ${item.ms} ms: ${item.response ?? ''}`,
    `  replay: npm run fuzz -- --seed ${item.seed} --case ${item.case}`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Fixtures

type Json = any;

async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function created(baseUrl: string, path: string, body: unknown, token: string, headers?: Record<string, string>) {
  const response = await call(baseUrl, 'POST', path, { body, token, headers });
  if (response.status >= 300)
    throw new Error(`fixture POST ${path}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as Json;
}

/**
 * One city, cinema, hall, film, showing two days ahead, order of two seats and charge. The main set's
 * hall is as large as a hall may be (2,000 seats: 40 rows of 50, vip rows at the back, a row of
 * double seats, wheelchair spaces), so that seat maps and best-seat searches meet their worst case.
 */
async function entitySet(baseUrl: string, credentials: Credentials, tag: string, large: boolean): Promise<EntitySet> {
  const admin = credentials.adminToken!;
  const unique = `${tag} ${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const city = await created(baseUrl, '/api/v1/cities', { name: `Fuzz city ${unique}` }, admin);
  const cinema = await created(
    baseUrl,
    '/api/v1/cinemas',
    { cityId: city.id, name: `Fuzz cinema ${unique}`, timezone: 'Europe/Moscow' },
    admin,
  );
  const [rowCount, seatsPerRow] = large ? [40, 50] : [4, 6];
  const categoryOf = (row: number, seat: number) =>
    row >= rowCount - (large ? 5 : 1)
      ? 'vip'
      : large && row === 20
        ? 'double'
        : large && row === 0 && (seat === 0 || seat === seatsPerRow - 1)
          ? 'wheelchair'
          : undefined;
  const rows = Array.from({ length: rowCount }, (_, row) => ({
    label: `R${row + 1}`,
    seats: Array.from({ length: seatsPerRow }, (_, seat) => {
      const category = categoryOf(row, seat);
      return { number: seat + 1, ...(category ? { category } : {}) };
    }),
  }));
  const hall = await created(
    baseUrl,
    '/api/v1/halls',
    { cinemaId: cinema.id, name: `Fuzz hall ${unique}`, layout: { rows } },
    admin,
  );
  const film = await created(baseUrl, '/api/v1/films', { title: `Fuzz film ${unique}`, durationMinutes: 100 }, admin);
  const startsAt = new Date(Date.now() + 2 * 86_400_000);
  startsAt.setUTCMinutes(0, 0, 0);
  const showing = await created(
    baseUrl,
    '/api/v1/showings',
    { hallId: hall.id, filmId: film.id, startsAt: startsAt.toISOString() },
    admin,
  );
  const seatIds: number[] = hall.layout.rows.flatMap((r: Json) => r.seats.map((seat: Json) => seat.id as number));
  const order = await created(
    baseUrl,
    '/api/v1/orders',
    { showingId: showing.id, seatIds: seatIds.slice(-2), customer: { email: `fuzz.${tag}@example.com` } },
    '',
    { 'idempotency-key': `fuzz-fixture-${unique}`, prefer: 'wait=5' },
  );
  const charge = await created(
    baseUrl,
    '/api/v1/charges',
    { amount: 1_000, currency: 'RUB', reference: `fuzz-${unique}`, token: 'tok_fuzz' },
    credentials.paymentServiceKey!,
    { 'idempotency-key': `fuzz-fixture-${unique}` },
  );
  const ticketIds = (order.seats as Json[]).map((seat) => seat.ticketId).filter((id) => typeof id === 'number');
  // An operator with a key, for the operators' routes (revoked or rotated by some cases: nothing here uses it).
  const operator = await created(baseUrl, '/api/v1/operators', { name: `Fuzz operator ${unique}` }, admin);
  const key = await created(baseUrl, `/api/v1/operators/${operator.id}/keys`, { label: 'fuzz' }, admin);
  // Seat blocks for DELETE /showings/{id}/blocks/{seatId} to find: the hall's first six seats.
  await created(
    baseUrl,
    `/api/v1/showings/${showing.id}/blocks`,
    { seatIds: seatIds.slice(0, 6), reason: 'fuzz fixture' },
    admin,
  );
  return {
    ids: {
      city: city.id,
      cinema: cinema.id,
      hall: hall.id,
      film: film.id,
      showing: showing.id,
      seat: seatIds[0]!,
      order: order.id,
      charge: charge.id,
      operator: operator.id,
      key: key.id,
    },
    seatIds,
    orderToken: order.accessToken,
    ticketIds,
  };
}

/**
 * Real entities for the cases to aim at (two sets: the main one, and a spare one for the routes that
 * delete or cancel), the payment behaviour in force (the valid body of its PUT, restored after), and
 * a real next-page cursor of each list that has a second page.
 */
export async function createFixtures(
  baseUrl: string,
  operations: Operation[],
  credentials: Credentials,
): Promise<Fixtures> {
  const main = await entitySet(baseUrl, credentials, 'main', true);
  const spare = await entitySet(baseUrl, credentials, 'spare', false);
  const showing = await call(baseUrl, 'GET', `/api/v1/showings/${main.ids.showing}`);
  const date = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Moscow' }).format(new Date(showing.body.startsAt));
  const charge = await call(baseUrl, 'GET', `/api/v1/charges/${main.ids.charge}`, {
    token: credentials.paymentServiceKey,
  });
  const behaviour = await call(baseUrl, 'GET', '/api/v1/payment-behaviour', { token: credentials.paymentServiceKey });
  const fixtures: Fixtures = {
    main,
    spare,
    chargeReference: charge.body.reference,
    date,
    cursors: {},
    bodies: behaviour.status === 200 ? { 'PUT /api/v1/payment-behaviour': behaviour.body } : {},
  };
  for (const op of operations) {
    if (op.method !== 'GET' || !op.parameters.some((parameter) => parameter.name === 'cursor')) continue;
    const valid = validCase(0, op, fixtures, credentials);
    const path = `${valid.path.split('?')[0]}?limit=1`;
    const page = await call(baseUrl, 'GET', path, { token: op.scheme ? credentials[op.scheme] : undefined });
    if (typeof page.body?.nextCursor === 'string') fixtures.cursors[op.key] = page.body.nextCursor;
  }
  return fixtures;
}

/** Puts back what the isolated operations changed (the payment behaviour), with the values read before the run. */
async function restoreIsolated(baseUrl: string, operations: Operation[], fixtures: Fixtures, credentials: Credentials) {
  for (const op of operations.filter((candidate) => ISOLATED.has(candidate.key))) {
    const body = fixtures.bodies[op.key];
    if (body === undefined) continue;
    const [method, path] = op.key.split(' ') as [string, string];
    const response = await call(baseUrl, method, path, { body, token: op.scheme ? credentials[op.scheme] : undefined });
    if (response.status !== 200) throw new Error(`could not restore ${op.key}: ${response.status}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Running

export type FuzzOptions = {
  baseUrl: string;
  credentials: Credentials;
  cases: number;
  seed: number;
  concurrency?: number;
  /** Only these case numbers (a replay); all of 0..cases-1 otherwise. */
  only?: number[];
  onProgress?: (done: number, total: number, breaks: number) => void;
  /** Called with each case and its outcome (a replay prints them). */
  onCase?: (fuzzCase: FuzzCase, outcome: Outcome) => void;
};

const percentile = (sorted: number[], share: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))]!;

/** Reads the document of the running system, makes the fixtures, sends every case and reports. */
export async function fuzz(options: FuzzOptions): Promise<FuzzReport> {
  const { baseUrl, credentials, seed } = options;
  const concurrency = options.concurrency ?? 16;
  const document = await call(baseUrl, 'GET', '/api/v1/openapi.json');
  if (document.status !== 200) throw new Error(`GET /api/v1/openapi.json answered ${document.status}`);
  const operations = operationsOf(document.body as OpenApiDocument);
  const fixtures = await createFixtures(baseUrl, operations, credentials);

  const indices = options.only ?? Array.from({ length: options.cases }, (_, index) => index);
  const isolated = indices.filter((index) => ISOLATED.has(operationOf(operations, index).key));
  const shared = indices.filter((index) => !ISOLATED.has(operationOf(operations, index).key));

  const statuses: Record<string, number> = {};
  const routes: FuzzReport['routes'] = Object.fromEntries(operations.map((op) => [op.key, { cases: 0, statuses: {} }]));
  const kinds: Record<string, number> = {};
  const breaksByProblem: Record<string, number> = {};
  const breaks: Break[] = [];
  const latencies: number[] = [];
  let breakCount = 0;
  let resent = 0;
  let done = 0;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });

  const runOne = async (index: number) => {
    const fuzzCase = generateCase(seed, index, operations, fixtures, credentials);
    const outcome = await send(baseUrl, fuzzCase, agent);
    const status = String(outcome.status ?? 'none');
    statuses[status] = (statuses[status] ?? 0) + 1;
    const route = routes[fuzzCase.operation]!;
    route.cases += 1;
    route.statuses[status] = (route.statuses[status] ?? 0) + 1;
    for (const kind of fuzzCase.kinds) kinds[kind] = (kinds[kind] ?? 0) + 1;
    latencies.push(outcome.ms);
    if (outcome.resent) resent += 1;
    const problem = judge(fuzzCase, outcome);
    if (problem) {
      breakCount += 1;
      breaksByProblem[problem] = (breaksByProblem[problem] ?? 0) + 1;
      breaks.push(breakOf(fuzzCase, outcome, problem, credentials));
    }
    options.onCase?.(fuzzCase, outcome);
    done += 1;
  };

  const started = performance.now();
  const progress = setInterval(() => options.onProgress?.(done, indices.length, breakCount), 1_000);
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, shared.length) }, async () => {
        while (next < shared.length) await runOne(shared[next++]!);
      }),
    );
    // Cases that change the system for everyone run alone, and their change is undone.
    try {
      for (const index of isolated) await runOne(index);
    } finally {
      await restoreIsolated(baseUrl, operations, fixtures, credentials);
    }
  } finally {
    clearInterval(progress);
    agent.destroy();
  }
  options.onProgress?.(done, indices.length, breakCount);
  const durationMs = Math.round(performance.now() - started);
  const sorted = latencies.sort((a, b) => a - b);
  breaks.sort((a, b) => a.case - b.case);
  return {
    seed,
    cases: done,
    operations: operations.length,
    concurrency,
    durationMs,
    casesPerSecond: Math.round((done / durationMs) * 1000 * 10) / 10,
    statuses,
    routes,
    kinds,
    latencyMs: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? 0 },
    resent,
    breakCount,
    breaksByProblem,
    breaks: breaks.slice(0, MAX_BREAKS_KEPT),
  };
}

// ---------------------------------------------------------------------------------------------
// Presenting

const table = (rows: string[][]) => {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
        .join('  '),
    )
    .join('\n');
};

/** The report as text: totals, statuses, kinds, each route's statuses, and the first breaks. */
export function summary(report: FuzzReport, breaksShown = 10): string {
  const statusNames = Object.keys(report.statuses).sort();
  const lines = [
    `seed ${report.seed}: ${report.cases} cases over ${report.operations} operations in ${(report.durationMs / 1000).toFixed(1)} s ` +
      `(${report.casesPerSecond} cases/s, concurrency ${report.concurrency}); latency p50 ${report.latencyMs.p50} ms, ` +
      `p99 ${report.latencyMs.p99} ms, max ${report.latencyMs.max} ms`,
    `breaks: ${report.breakCount}${report.breakCount > 0 ? ` ${JSON.stringify(report.breaksByProblem)}` : ''}; ` +
      `resent after a stale keep-alive connection: ${report.resent}`,
    '',
    table([['status', 'cases'], ...statusNames.map((status) => [status, String(report.statuses[status])])]),
    '',
    table([
      ['kind', 'cases'],
      ...Object.entries(report.kinds)
        .sort(([, a], [, b]) => b - a)
        .map(([kind, count]) => [kind, String(count)]),
    ]),
    '',
    table([
      ['operation', 'cases', ...statusNames],
      ...Object.entries(report.routes)
        .filter(([, route]) => route.cases > 0)
        .map(([key, route]) => [
          key,
          String(route.cases),
          ...statusNames.map((status) => String(route.statuses[status] ?? '')),
        ]),
    ]),
  ];
  if (report.breakCount > 0) {
    lines.push('', `first ${Math.min(breaksShown, report.breaks.length)} of ${report.breakCount} breaks:`);
    lines.push(...report.breaks.slice(0, breaksShown).map(formatBreak));
  }
  return lines.join('\n');
}
