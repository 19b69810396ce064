import { parseArgs } from 'node:util';
import { writeLatest } from '../bench/system.js';
import { DEFAULT_COUNTS } from '../topology/topology.js';
import { writeSoakReport } from './artillery/report.js';
import { artillerySoak } from './artillery/soak.js';

// npm run soak:artillery -- [--users 10000] [--ramp-seconds 180] [--hold-seconds 300] [--ramp-down-seconds 60]
//   [--pace 1] [--baseline-seconds 10] [--cinemas 100] [--days 3] [--tickets 4 --catalog 2 --realtime 2 --workers 2]
// artillery's buyers (scripts/soak/artillery/buyers.yml) against the production topology behind nginx,
// on its own database (SOAK_DATABASE_URL, default cinema_soak_artillery, recreated) and Redis prefix;
// exits 1 when a goal is missed. Figures, charts and the summary to docs/ (docs/soak-artillery.md).
const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    'ramp-seconds': { type: 'string', default: '180' },
    'hold-seconds': { type: 'string', default: '300' },
    'ramp-down-seconds': { type: 'string', default: '60' },
    pace: { type: 'string', default: '1' },
    'baseline-seconds': { type: 'string', default: '10' },
    cinemas: { type: 'string', default: '100' },
    days: { type: 'string', default: '3' },
    tickets: { type: 'string', default: String(DEFAULT_COUNTS.tickets) },
    catalog: { type: 'string', default: String(DEFAULT_COUNTS.catalog) },
    realtime: { type: 'string', default: String(DEFAULT_COUNTS.realtime) },
    workers: { type: 'string', default: String(DEFAULT_COUNTS.workers) },
    'no-docs': { type: 'boolean', default: false },
  },
});
const number = (name: keyof typeof args) => {
  const value = Number(args[name]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name}: a number ≥ 0, not ${args[name]}`);
  return value;
};
const log = (line: string) => console.error(`[artillery-soak] ${line}`);

const report = await artillerySoak({
  users: number('users'),
  rampSeconds: number('ramp-seconds'),
  holdSeconds: number('hold-seconds'),
  rampDownSeconds: number('ramp-down-seconds'),
  pace: number('pace'),
  baselineSeconds: number('baseline-seconds'),
  catalog: { cities: 10, cinemas: number('cinemas'), hallsPerCinema: 3, days: number('days') },
  counts: {
    tickets: number('tickets'),
    catalog: number('catalog'),
    realtime: number('realtime'),
    workers: number('workers'),
    payments: 1,
  },
  databaseUrl: process.env.SOAK_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/cinema_soak_artillery',
  redisPrefix: process.env.SOAK_REDIS_PREFIX ?? 'cinema-soak-artillery',
  env: process.env,
  log,
});
const { series: _series, ...figures } = report;
if (args['no-docs']) console.log(JSON.stringify(figures, null, 2));
else {
  writeLatest('soak-artillery', report, figures);
  await writeSoakReport(report, log);
}
log(report.passed ? 'passed' : `FAILED: ${report.failedChecks.join('; ')}`);
process.exitCode = report.passed ? 0 : 1;
