import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { root } from '../../bench/system.js';
import { timelineSpec, writeChart, type Timeline } from '../charts.js';
import { METRICS, ROUTES, type RouteName } from './processor.js';
import { routeMetric, type ArtillerySoakReport } from './soak.js';

/**
 * The soak's report in docs/: charts (SVG) in docs/benchmarks/ and the summary of the last run in
 * docs/soak-artillery.md, between the markers below; the rest of that page is written by hand.
 */
const DOC = join(root, 'docs/soak-artillery.md');
const BEGIN = '<!-- last run: written by npm run soak:artillery -->';
const END = '<!-- end of the last run -->';
const chartFile = (name: string) => `benchmarks/soak-artillery-${name}.svg`;
const TARGET = { value: 500, label: '500 ms' };

const thousands = (value: number | undefined) => (value === undefined ? '–' : Math.round(value).toLocaleString('en'));
const ms = (value: number | undefined) => (value === undefined ? '–' : `${thousands(value)} ms`);
const percent = (share: number) => `${(share * 100).toFixed(3)} %`;

/** Artillery's 10 s periods and our samples on one axis: seconds since the ramp began. */
function charts(report: ArtillerySoakReport): Record<string, Timeline> {
  const { periods, timeline, rampStart, holdFrom, holdTo } = report.series;
  const second = (at: number) => Math.round((at - rampStart) / 1000);
  const marks = [
    { second: second(holdFrom), label: 'ramp done, hold' },
    { second: second(holdTo), label: 'users leave' },
  ];
  const latencySeries = [
    ...(Object.keys(ROUTES) as RouteName[]).map((route) => ({ metric: routeMetric(route), series: route })),
    { metric: METRICS.submitToPush, series: 'submit → push' },
  ];
  const percentile = (key: 'p50' | 'p99') =>
    periods.flatMap((period) =>
      latencySeries.flatMap(({ metric, series }) => {
        const summary = period.summaries[metric];
        return summary ? [{ second: second(period.at), series, value: summary[key] }] : [];
      }),
    );
  const perSecond = (counter: string, series: string) =>
    periods.map((period) => ({ second: second(period.at), series, value: (period.counters[counter] ?? 0) / 10 }));
  let connected = 0;
  const connectedUsers = periods.map((period) => {
    connected += (period.counters[METRICS.connected] ?? 0) - (period.counters[METRICS.left] ?? 0);
    return { second: second(period.at), series: 'users connected (load generator)', value: connected };
  });
  const roles = [...new Set(timeline.flatMap((sample) => sample.groups.map((group) => group.role)))];
  return {
    'latency-p99': {
      title: 'p99 latency per route and from submit to push, per 10 s',
      yTitle: 'ms',
      points: percentile('p99'),
      marks,
      threshold: TARGET,
      logScale: true,
    },
    'latency-p50': {
      title: 'median latency per route and from submit to push, per 10 s',
      yTitle: 'ms',
      points: percentile('p50'),
      marks,
      threshold: TARGET,
      logScale: true,
    },
    throughput: {
      title: 'throughput',
      yTitle: 'per second',
      points: [
        ...perSecond('http.requests', 'HTTP requests (artillery)'),
        ...timeline.map((sample) => ({
          second: second(sample.at),
          series: 'HTTP requests (nginx access log)',
          value: sample.entry.requests / 10,
        })),
        ...perSecond(METRICS.ordersAccepted, 'orders accepted'),
        ...perSecond(METRICS.held, 'decisions pushed: held'),
        ...perSecond(METRICS.paid, 'payments confirmed'),
      ],
      marks,
    },
    users: {
      title: 'connected users',
      yTitle: 'users',
      points: [
        ...timeline.map((sample) => ({
          second: second(sample.at),
          series: 'sockets connected (realtime instances)',
          value: sample.sockets,
        })),
        ...connectedUsers,
      ],
      marks,
    },
    rss: {
      title: 'RSS per process',
      yTitle: 'MB',
      points: timeline.flatMap((sample) =>
        sample.groups.map((group) => ({ second: second(sample.at), series: group.name, value: group.rssMb })),
      ),
      marks,
    },
    cpu: {
      title: 'CPU per role (100 % = one core; the machine has two)',
      yTitle: '% of a core',
      points: timeline.flatMap((sample) => [
        { second: second(sample.at), series: 'the whole machine', value: sample.machineCpuPercent },
        ...roles.map((role) => ({
          second: second(sample.at),
          series: role,
          value: sample.groups.filter((group) => group.role === role).reduce((sum, group) => sum + group.cpuPercent, 0),
        })),
      ]),
      marks,
    },
  };
}

function summaryMarkdown(report: ArtillerySoakReport): string {
  const { options, users, hold, database, latencyMs } = report;
  const baseline = report.baselineTps;
  const verdict = report.passed ? '**passed**' : `**failed**: ${report.failedChecks.join('; ')}`;
  const latencyRows = [
    ...(Object.keys(ROUTES) as RouteName[]).map((route) => [route, latencyMs.routes[route]] as const),
    ['submit → push', latencyMs.submitToPush] as const,
    ['payment → push (no threshold)', latencyMs.paymentToPush] as const,
    ['seat map repair (no threshold)', latencyMs.seatMapRepair] as const,
  ].map(
    ([name, figures]) =>
      `| ${name} | ${thousands(figures?.count)} | ${ms(figures?.p50)} | ${ms(figures?.p95)} | **${ms(figures?.p99)}** | ${ms(figures?.max)} |`,
  );
  const processRows = report.processes.map(
    (process) =>
      `| ${process.name} | ${process.role} | ${thousands(process.holdRssMb)} MB | ${thousands(process.peakRssMb)} MB | ${process.holdCpuPercent} % |`,
  );
  const totalRss = report.processes.reduce((sum, process) => sum + (process.holdRssMb ?? 0), 0);
  const totalCpu = report.processes.reduce((sum, process) => sum + (process.holdCpuPercent ?? 0), 0);
  const failures = Object.entries(report.failuresByKind)
    .map(([name, count]) => `${name.replace(/^cinema\.failed\./, '')} ${count}`)
    .join(', ');
  const counters = report.counters;
  return [
    `### Last run (${report.measuredAt.slice(0, 10)}, this 2-core machine, load generator included): ${verdict}`,
    '',
    `${thousands(options.users)} users over a ${options.rampSeconds} s ramp, held ${options.holdSeconds} s, leaving over ${options.rampDownSeconds} s ` +
      `(pace ${options.pace}); ${report.durationSeconds} s of load; topology ${options.topology.join(', ')}; ` +
      `${thousands(report.seeded.cinemas)} cinemas, ${thousands(report.showingsOnSale)} showings on sale 2 h ahead or later.`,
    '',
    '| figure | value |',
    '| --- | --- |',
    `| users | ${thousands(users.arrived)} arrived, ${thousands(users.failed)} ended by an error; sockets connected at once (the realtime instances' count): ${thousands(users.connectedAtOnce)} at most, ${thousands(users.connectedThroughHold)} or more throughout the hold; ${thousands(users.reconnects)} reconnects |`,
    `| throughput in the hold | ${thousands(hold.requestsPerSecond)} HTTP requests/s, ${hold.ordersPerSecond ?? '–'} orders accepted/s |`,
    `| pgbench baseline (same database, same run) | ${baseline === undefined ? 'not measured' : `${thousands(baseline)} orders/s; orders accepted in the hold = ${hold.ordersToBaseline} × the baseline, HTTP requests = ${hold.requestsToBaseline} ×`} |`,
    `| orders | ${thousands(counters[METRICS.ordersAccepted])} accepted (${thousands(counters[METRICS.ordersRefused])} refused at once: SEAT_TAKEN); decisions pushed: ${thousands(counters[METRICS.held])} held, ${thousands(counters[METRICS.rejected])} rejected; ${thousands(counters[METRICS.paid])} paid, ${thousands(counters[METRICS.cancelled])} cancelled, ${thousands(counters[METRICS.leftToExpire])} left to expire; ${thousands(counters[METRICS.pushMissed])} decisions not pushed within 10 s (polled) |`,
    `| failed operations | ${thousands(report.failures)} of ${thousands(report.operations)} = ${percent(report.errorRate)} (goal < 0.1 %)${failures ? `: ${failures}` : ''} |`,
    `| database | ${thousands(database.orders.accepted)} accepted orders: ${thousands(database.orders.stored)} stored, ${database.orders.lost} lost, ${database.orders.undecided} undecided; ${database.doubleSoldSeats} seats sold twice; orders by status ${JSON.stringify(database.statuses)} |`,
    `| memory and CPU of the whole run in the hold | ${thousands(totalRss)} MB RSS (table below); CPU ${Math.round(totalCpu)} % of one core, of the ${report.machineCpuPercent.all} % the machine was busy (others' work on it: ${report.machineCpuPercent.others} %; 200 % = both cores) |`,
    '',
    'Latency as artillery measures it (time to the first byte of the answer), for the whole run:',
    '',
    '| route | count | p50 | p95 | p99 (goal < 500 ms) | max |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...latencyRows,
    '',
    "artillery's `ensure`: " +
      report.checks.map((check) => `${check.passed ? 'ok' : '**fail**'} \`${check.check}\``).join(', '),
    '',
    '| process | role | RSS, mean in the hold | RSS, peak | CPU, mean in the hold (% of one core) |',
    '| --- | --- | ---: | ---: | ---: |',
    ...processRows,
    '',
    ...Object.keys(charts(report)).map((name) => `![${name}](${chartFile(name)})`),
    '',
    'Every figure: `docs/benchmarks/soak-artillery-latest.json`.',
  ].join('\n');
}

/** The charts to docs/benchmarks/, the summary into docs/soak-artillery.md between its markers. */
export async function writeSoakReport(report: ArtillerySoakReport, log: (line: string) => void) {
  for (const [name, timeline] of Object.entries(charts(report))) {
    await writeChart(join(root, 'docs', chartFile(name)), timelineSpec(timeline));
  }
  const page = readFileSync(DOC, 'utf8');
  const begin = page.indexOf(BEGIN);
  const end = page.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${DOC} lacks the markers of the last run's summary`);
  const written = `${page.slice(0, begin + BEGIN.length)}\n\n${summaryMarkdown(report)}\n\n${page.slice(end)}`;
  // Formatted as the repository's own pages are (npm run lint checks them).
  writeFileSync(DOC, await format(written, { ...(await resolveConfig(DOC)), filepath: DOC }));
  log(`report: ${DOC}`);
}
