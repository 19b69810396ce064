import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { audit } from './audit.js';
import { jsonClient, openLoop, percentile } from './load.js';
import { loadTargets, log, prepareDatabase, startRole, writeLatest } from './system.js';

// npm run soak:payments -- [--orders 1500] [--rate 100] [--cancel-share 0.1] [--settle-timeout 240]
// Buyers pay through a payment service with realistic faults; the run ends when every order is
// settled, then checks our tables against the payment service's own.
const { values: args } = parseArgs({
  options: {
    orders: { type: 'string', default: '1500' },
    rate: { type: 'string', default: '100' },
    'cancel-share': { type: 'string', default: '0.1' },
    'settle-timeout': { type: 'string', default: '240' },
    'base-port': { type: 'string', default: '3910' },
  },
});
const orders = Number(args.orders);
const rate = Number(args.rate);
const cancelShare = Number(args['cancel-share']);
const basePort = Number(args['base-port']);

/** The payment service as the seed describes it: slow, failing, sometimes timing out after charging. */
const providerFaults = {
  PROVIDER_LATENCY_MEDIAN_MS: '300',
  PROVIDER_LATENCY_P99_MS: '3000',
  PROVIDER_DECLINE_RATE: '0.05',
  PROVIDER_ERROR_RATE: '0.05',
  PROVIDER_TIMEOUT_RATE: '0.02',
  PROVIDER_TIMEOUT_AFTER_CHARGE_RATE: '0.02',
  PROVIDER_HANG_MS: '8000',
};
const saga = {
  CONFIRM_WITHOUT_PAYMENT: 'false',
  PAYMENT_SERVICE_URL: `http://127.0.0.1:${basePort + 2}/api/v1`,
  PAYMENT_TIMEOUT_MS: '5000',
  HOLD_TTL_SECONDS: '30',
  PAYMENT_RECONCILE_WINDOW_SECONDS: '30',
};

const db = await prepareDatabase();
const processes = [
  await startRole('payments', basePort + 2, providerFaults),
  await startRole('workers', basePort + 1, saga),
  await startRole('catalog,tickets', basePort, saga),
];
const client = jsonClient(`http://127.0.0.1:${basePort}`, 256);
try {
  const targets = await loadTargets(client, 1000);
  log(
    `${orders} paying orders at ${rate}/s on ${targets.length} showings; ${cancelShare * 100}% cancelled by their buyer a moment later`,
  );
  const started = performance.now();
  let accepted = 0;
  let refused = 0;
  const cancellations: Promise<unknown>[] = [];
  const run = await openLoop(rate, orders / rate, async () => {
    const target = targets[Math.floor(Math.random() * targets.length)]!;
    const first = Math.floor(Math.random() * (target.seatIds.length - 1));
    const seatIds = target.seatIds.slice(first, first + 1 + Math.floor(Math.random() * 2));
    const response = await client.request(
      'POST',
      '/api/v1/orders',
      {
        showingId: target.showingId,
        seatIds,
        customer: { email: `soak-${randomUUID().slice(0, 8)}@example.com` },
        payment: { token: `tok_visa_${randomUUID().slice(0, 8)}` },
      },
      { 'idempotency-key': randomUUID() },
    );
    if (response.status !== 202 && response.status !== 200) {
      refused += 1;
      return;
    }
    accepted += 1;
    if (Math.random() < cancelShare) {
      const { id, accessToken } = response.body;
      const cancel = new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 2500)).then(() =>
        client.request('POST', `/api/v1/orders/${id}/cancel`, undefined, { authorization: `Bearer ${accessToken}` }),
      );
      cancellations.push(cancel);
    }
  });
  await Promise.all(cancellations);
  log(`submitted in ${run.seconds.toFixed(1)} s: ${accepted} accepted, ${refused} refused`);

  const deadline = Date.now() + Number(args['settle-timeout']) * 1000;
  let unsettled = await audit.unsettled(db);
  while ((unsettled.orders > 0 || unsettled.payments > 0) && Date.now() < deadline) {
    log(`waiting: ${unsettled.orders} orders and ${unsettled.payments} payments not settled yet`);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    unsettled = await audit.unsettled(db);
  }
  const allSettledSeconds = (performance.now() - started) / 1000;
  const confirmedSeconds = await audit.settleSeconds(db, ['confirmed']);
  const result = {
    measuredAt: new Date().toISOString(),
    machine: '2 cores; load generator, API, worker, payment service and PostgreSQL on the same machine',
    providerFaults,
    saga,
    orders: { offered: orders, accepted, refused, ratePerSecond: rate, cancelShare },
    allSettledAfterSeconds: Number(allSettledSeconds.toFixed(1)),
    unsettledAtEnd: unsettled,
    outcomes: await audit.outcomes(db),
    submitToConfirmedSeconds: {
      p50: Number(percentile(confirmedSeconds, 50).toFixed(2)),
      p95: Number(percentile(confirmedSeconds, 95).toFixed(2)),
      p99: Number(percentile(confirmedSeconds, 99).toFixed(2)),
      max: Number((confirmedSeconds.at(-1) ?? NaN).toFixed(2)),
    },
    violations: await audit.violations(db),
  };
  writeLatest('payments', result);
  if (Object.values(result.violations).some((count) => count > 0) || unsettled.orders > 0 || unsettled.payments > 0)
    process.exitCode = 1;
} finally {
  client.close();
  for (const child of processes) child.kill('SIGTERM');
  await db.destroy();
}
