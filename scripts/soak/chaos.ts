import { parseArgs } from 'node:util';
import { root, writeLatest } from '../bench/system.js';
import { timelineSpec, writeChart } from './charts.js';
import { runChaos, type ChaosReport } from './chaos-run.js';
import { CHECK_RULES } from './check-history.js';

// npm run soak:chaos -- [--minutes 3] [--buyers 30] [--watchers 30] [--showings 150] [--no-docs]
// The production topology (tickets 2, catalog 2, realtime 2, workers 2, payments 1) on a PostgreSQL
// cluster and a Redis of the run's own, under load through nginx while workers are killed, every API
// and realtime instance restarts, Redis restarts once, PostgreSQL twice (-m fast, -m immediate) and
// the payment provider fails (5 % errors, 1 % timeouts after charging, a 30 s outage). Then the
// history checker; figures to docs/benchmarks/chaos-latest.json and charts beside it. Exit code 1
// when a checker count is not 0, availability is below 99.9 % or a process did not recover.
// --no-docs prints the summary and leaves the published figures alone (a try, not a measurement).
const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    buyers: { type: 'string', default: '30' },
    watchers: { type: 'string', default: '30' },
    // Enough seats (96 each) that ten minutes of buyers do not sell every showing out.
    showings: { type: 'string', default: '150' },
    'no-docs': { type: 'boolean', default: false },
  },
});
const log = (line: string) => console.error(`[chaos] ${line}`);
// Ctrl-C stops the topology and the private stores before leaving (they are not this process's group).
const interrupt = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => interrupt.abort());
const report = await runChaos({
  loadMs: Number(args.minutes) * 60_000,
  buyers: Number(args.buyers),
  watchers: Number(args.watchers),
  showings: Number(args.showings),
  counts: { tickets: 2, catalog: 2, realtime: 2, workers: 2, payments: 1 },
  faults: {
    workerKillEveryMs: [20_000, 60_000],
    restartRoles: ['tickets', 'catalog', 'realtime'],
    redisRestarts: 1,
    postgresRestarts: ['fast', 'immediate'],
    providerOutageMs: 30_000,
  },
  holdTtlSeconds: 30,
  reconcileWindowSeconds: 30,
  paymentTimeoutMs: 3_000,
  providerHangMs: 6_000,
  bucketMs: 5_000,
  log,
  signal: interrupt.signal,
}).catch((error: unknown) => {
  log(`stopped: ${(error as Error).message}`);
  process.exit(1);
});

if (args['no-docs']) console.log(JSON.stringify(summary(report), null, 2));
else {
  const marks = report.faults.map((fault) => ({ second: fault.atSecond, label: fault.what }));
  await writeChart(
    `${root}/docs/benchmarks/chaos-p99.svg`,
    timelineSpec({
      title: `Chaos run: p99 per route (5 s buckets, client time incl. retries), ${report.loadSeconds} s`,
      points: report.requests.timeline.p99Ms,
      yTitle: 'p99 (ms, symlog)',
      marks,
      threshold: { value: 500, label: '500 ms' },
      logScale: true,
    }),
  );
  await writeChart(
    `${root}/docs/benchmarks/chaos-failed-attempts.svg`,
    timelineSpec({
      title: 'Chaos run: failed attempts per route (502/503/504 or no answer, retried by the client or not)',
      points: report.requests.timeline.failedAttempts,
      yTitle: 'failed attempts per 5 s',
      marks,
    }),
  );
  const { faultWindows: _windows, ...figures } = report;
  writeLatest('chaos', { measuredAt: new Date().toISOString(), ...figures }, summary(report));
}

const failing = CHECK_RULES.filter((rule) => report.check.counts[rule] > 0);
if (failing.length > 0)
  log(`checker: ${failing.join(', ')} above 0; examples ${JSON.stringify(report.check.examples)}`);
if (report.requests.availability < 0.999) log(`availability ${report.requests.availability} below 99.9 %`);
if (report.unexpectedExits.length > 0 || report.notReadyAtEnd.length > 0) log('a process did not recover');
process.exitCode =
  failing.length > 0 ||
  report.requests.availability < 0.999 ||
  report.unexpectedExits.length > 0 ||
  report.notReadyAtEnd.length > 0
    ? 1
    : 0;

/** What the console shows: the verdicts, without the timeline's points. */
function summary(chaos: ChaosReport) {
  return {
    loadSeconds: chaos.loadSeconds,
    settledAfterSeconds: chaos.settledAfterSeconds,
    faults: chaos.faults,
    unexpectedExits: chaos.unexpectedExits,
    notReadyAtEnd: chaos.notReadyAtEnd,
    check: chaos.check,
    availability: chaos.requests.availability,
    requests: chaos.requests.requests,
    retried: chaos.requests.retried,
    routes: chaos.requests.routes,
    historyFile: chaos.historyFile,
  };
}
