import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { createLogger } from '../../infra/logger.js';
import { createApp } from '../../api/app.js';
import type { Db } from '../../db/connection.js';
import { orderQueueRepository } from '../../db/repositories/order-queue.js';
import { statisticsRepository } from '../../db/repositories/statistics.js';
import { allocateSeats } from '../../domain/allocation/allocate-seats.js';
import { partitionOf } from '../../domain/model/partitions.js';
import { parseConfig, RATE_LIMITS_OFF } from '../../host/config.js';
import { createDeps } from '../../host/deps.js';
import { httpRoutes, routesByRole } from '../../host/roles.js';
import { generateSales } from '../sample-sales.js';
import { percentile } from './load.js';
import { ADMIN_TOKEN, benchStores, emptyOrderTables, log, prepareDatabase, writeLatest } from './system.js';

/*
 * npm run bench:stats -- [--tickets 1000000] [--rounds 6] [--orders 20000] [--samples 40] [--part allocation|reads|both]
 *
 * 1. The allocation with and without the statistics triggers (migration 011), in one run: rounds of
 *    `--orders` queued two-seat orders drained by the allocation in-process, triggers off and on in
 *    alternating order, in both modes (held for payment, and confirmed at once: the triggers' most
 *    work, every ticket sold in the batch's statement). Reported as the ratio of decided orders/s.
 * 2. The statistics endpoints over `--tickets` tickets (generated as docs/statistics.md says), each
 *    read `--samples` times after a warm-up, against GET /cities/:id measured between them.
 * Uses the database cinema_stats and the Redis prefix `stats` (BENCH_DATABASE_URL, BENCH_REDIS_PREFIX).
 */
const { values: args } = parseArgs({
  options: {
    tickets: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '6' },
    orders: { type: 'string', default: '20000' },
    samples: { type: 'string', default: '40' },
    part: { type: 'string', default: 'both' },
  },
});
if (!['allocation', 'reads', 'both'].includes(args.part)) throw new Error('--part is allocation, reads or both');
const stores = benchStores('stats');
const storeSettings = {
  DATABASE_URL: stores.DATABASE_URL,
  REDIS_URL: stores.REDIS_URL,
  REDIS_PREFIX: stores.REDIS_PREFIX,
};
const SALES_TRIGGERS = ['tickets', 'orders', 'payments'].flatMap((table) =>
  ['insert', 'update', 'delete'].map((event) => ({ table, name: `${table}_sales_${event}` })),
);

async function switchSalesTriggers(db: Db, on: boolean) {
  for (const { table, name } of SALES_TRIGGERS) {
    await db.raw(`ALTER TABLE ${table} ${on ? 'ENABLE' : 'DISABLE'} TRIGGER ${name}`);
  }
}

const round2 = (value: number) => Math.round(value * 100) / 100;
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/** Queues `count` orders of two adjacent seats over the showings given, then times their allocation. */
async function allocationRound(
  wiring: ReturnType<typeof createDeps>,
  showings: { id: number; seatIds: number[] }[],
  count: number,
): Promise<number> {
  const { deps } = wiring;
  const partitions = deps.config.ALLOCATION_PARTITIONS;
  const orders = Array.from({ length: count }, (_, index) => {
    const showing = showings[index % showings.length]!;
    const pair = Math.floor(index / showings.length) * 2;
    return {
      id: randomUUID(),
      showingId: showing.id,
      seatIds: showing.seatIds.slice(pair, pair + 2),
      best: null,
      customerEmail: `bench-${index}@example.com`,
      customerName: null,
      paymentToken: null,
      currency: 'RUB',
      idempotencyKey: randomUUID(),
      requestHash: `bench ${index}`,
      createdAt: new Date(),
      partition: partitionOf(showing.id, partitions),
    };
  });
  for (let start = 0; start < orders.length; start += 500) {
    await orderQueueRepository.insertQueued(deps.db, orders.slice(start, start + 500));
  }
  await deps.db.raw('ANALYZE orders');
  const startedAt = process.hrtime.bigint();
  await Promise.all(Array.from({ length: partitions }, (_, partition) => allocateSeats(deps, partition)));
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  return count / seconds;
}

async function allocationWithAndWithoutTriggers(db: Db) {
  const rounds = Number(args.rounds);
  const count = Number(args.orders);
  const showings = (
    await db.raw(
      `SELECT s.id, array_agg(se.id ORDER BY se.id) AS "seatIds" FROM showings s JOIN seats se ON se.hall_id = s.hall_id
       GROUP BY s.id HAVING count(*) >= 200 ORDER BY s.id LIMIT ?`,
      [Math.ceil(count / 100)],
    )
  ).rows as { id: number; seatIds: number[] }[];
  if (showings.length * 100 < count) throw new Error(`--orders ${count}: not enough showings of 200 seats`);
  const results: Record<string, Record<'off' | 'on', number[]>> = {};
  for (const confirmAtOnce of [false, true]) {
    const mode = confirmAtOnce ? 'confirmedAtOnce' : 'heldForPayment';
    const wiring = createDeps(
      parseConfig({
        ...storeSettings,
        ...RATE_LIMITS_OFF,
        CONFIRM_WITHOUT_PAYMENT: String(confirmAtOnce),
        MAX_HELD_SEATS_PER_CUSTOMER: '0',
        MAX_HELD_SEATS_PER_ADDRESS: '0',
        LOG_LEVEL: 'warn',
        ADMIN_TOKEN,
      }),
      createLogger('warn'),
      4,
    );
    results[mode] = { off: [], on: [] };
    for (let round = 1; round <= rounds; round += 1) {
      const order: ('off' | 'on')[] = round % 2 === 1 ? ['off', 'on'] : ['on', 'off'];
      for (const triggers of order) {
        await emptyOrderTables(db);
        await switchSalesTriggers(db, triggers === 'on');
        const perSecond = await allocationRound(wiring, showings, count);
        results[mode]![triggers].push(Math.round(perSecond));
        log(`allocation ${mode} round ${round}, triggers ${triggers}: ${Math.round(perSecond)} orders/s`);
      }
    }
    await wiring.close();
  }
  await switchSalesTriggers(db, true);
  await emptyOrderTables(db);
  return Object.fromEntries(
    Object.entries(results).map(([mode, { off, on }]) => [
      mode,
      { ordersPerSecondOff: off, ordersPerSecondOn: on, ratioOfMeansOnToOff: round2(mean(on) / mean(off)) },
    ]),
  );
}

async function timeRequests(baseUrl: string, paths: Record<string, string>, samples: number) {
  const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(paths).map((name) => [name, []]));
  for (const path of Object.values(paths)) {
    const response = await fetch(baseUrl + path, { headers });
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  }
  for (let sample = 0; sample < samples; sample += 1) {
    for (const [name, path] of Object.entries(paths)) {
      const startedAt = process.hrtime.bigint();
      const response = await fetch(baseUrl + path, { headers });
      await response.arrayBuffer();
      times[name]!.push(Number(process.hrtime.bigint() - startedAt) / 1e6);
    }
  }
  return Object.fromEntries(
    Object.entries(times).map(([name, list]) => {
      const sorted = [...list].sort((a, b) => a - b);
      return [name, { p50Ms: round2(percentile(sorted, 50)), p99Ms: round2(percentile(sorted, 99)) }];
    }),
  );
}

async function readsAtScale(db: Db) {
  const generated = await generateSales(db, Number(args.tickets), (line) => log(`sales ${line}`));
  await db.raw('VACUUM ANALYZE orders, tickets, payments, sales_daily, showings');
  const recountStartedAt = Date.now();
  const mismatches = (await statisticsRepository.mismatches(db)).length;
  const recountSeconds = (Date.now() - recountStartedAt) / 1000;
  log(`recount: ${mismatches} mismatches in ${recountSeconds} s`);

  const config = parseConfig({ ...storeSettings, ...RATE_LIMITS_OFF, LOG_LEVEL: 'warn', ADMIN_TOKEN, PORT: '0' });
  const wiring = createDeps(config, createLogger('warn'), 8);
  const server = createServer(
    createApp(wiring.deps, httpRoutes(['catalog'], routesByRole(wiring.deps, config)), wiring.readiness),
  ).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const { rows } = await db.raw(
      `SELECT (SELECT to_char(min(day), 'YYYY-MM-DD') FROM sales_daily) AS first, (SELECT to_char(max(day), 'YYYY-MM-DD') FROM sales_daily) AS last,
              (SELECT showing_id FROM sales_daily GROUP BY showing_id ORDER BY sum(tickets_sold) DESC LIMIT 1) AS showing,
              (SELECT s.hall_id FROM showings s JOIN orders o ON o.showing_id = s.id GROUP BY s.hall_id ORDER BY count(*) DESC LIMIT 1) AS hall,
              (SELECT to_char(min(starts_at), 'YYYY-MM-DD') FROM showings) AS "firstShowing",
              (SELECT to_char(max(starts_at), 'YYYY-MM-DD') FROM showings) AS "lastShowing",
              (SELECT count(*) FROM sales_daily)::integer AS "salesDailyRows"`,
    );
    const span = rows[0];
    const every = `from=${span.first}&to=${span.last}`;
    const showingDays = `from=${span.firstShowing}&to=${span.lastShowing}`;
    const paths = {
      baselineCity: '/api/v1/cities/1',
      salesByDay: `/api/v1/stats/sales?${every}&groupBy=day`,
      salesByWeek: `/api/v1/stats/sales?${every}&groupBy=week`,
      salesByFilm: `/api/v1/stats/sales?${every}&groupBy=film`,
      salesByCinema: `/api/v1/stats/sales?${every}&groupBy=cinema`,
      salesByHall: `/api/v1/stats/sales?${every}&groupBy=hall`,
      salesOfACityByDay: `/api/v1/stats/sales?${every}&groupBy=day&cityId=1`,
      occupancyByCinema: `/api/v1/stats/occupancy?${showingDays}&groupBy=cinema`,
      occupancyByDay: `/api/v1/stats/occupancy?${showingDays}&groupBy=day`,
      showing: `/api/v1/stats/showings/${span.showing}`,
      hallHeatmap: `/api/v1/stats/halls/${span.hall}/heatmap?${showingDays}`,
    };
    const latencies = await timeRequests(baseUrl, paths, Number(args.samples));
    const baseline = latencies.baselineCity!.p50Ms;
    const endpoints = Object.fromEntries(
      Object.entries(latencies).map(([name, figures]) => [
        name,
        { ...figures, p50ToBaselineP50: round2(figures.p50Ms / baseline) },
      ]),
    );
    return { generated, salesDailyRows: span.salesDailyRows, mismatches, recountSeconds, endpoints };
  } finally {
    server.close();
    await wiring.close();
  }
}

const db = await prepareDatabase(stores, { days: 5 });
try {
  const allocation = args.part === 'reads' ? undefined : await allocationWithAndWithoutTriggers(db);
  const reads = args.part === 'allocation' ? undefined : await readsAtScale(db);
  const result = { at: new Date().toISOString(), args, allocation, reads };
  writeLatest('statistics', result);
} finally {
  await db.destroy();
}
