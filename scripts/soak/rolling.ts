import { parseArgs } from 'node:util';
import { RATE_LIMITS_OFF } from '../../host/config.js';
import { writeLatest } from '../bench/system.js';
import { startTopology } from '../topology/topology.js';
import { rollingRestart } from './rolling-restart.js';

// npm run soak:rolling -- [--buyers 40] [--watchers 40] [--showings 4] [--calm-seconds 10] [--pause-seconds 3] [--no-docs]
// The production topology (tickets 4, catalog 2, realtime 2, workers 2, payments 1) behind nginx on
// its own database, under load while every HTTP and realtime instance restarts in turn and one
// tickets and one workers instance are killed; figures to docs/benchmarks/rolling-restart-latest.json.
const { values: args } = parseArgs({
  options: {
    buyers: { type: 'string', default: '40' },
    watchers: { type: 'string', default: '40' },
    showings: { type: 'string', default: '4' },
    'calm-seconds': { type: 'string', default: '10' },
    'pause-seconds': { type: 'string', default: '3' },
    'no-docs': { type: 'boolean', default: false },
  },
});
const log = (line: string) => console.error(`[rolling] ${line}`);
const topology = await startTopology({
  counts: { tickets: 4, catalog: 2, realtime: 2, workers: 2, payments: 1 },
  port: 0,
  basePort: 0,
  env: {
    ...process.env,
    DATABASE_URL: process.env.SOAK_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/cinema_soak',
    REDIS_PREFIX: process.env.SOAK_REDIS_PREFIX ?? 'cinema-soak',
    // The buyers and watchers all come from one address.
    ...RATE_LIMITS_OFF,
  },
  log,
});
try {
  const report = await rollingRestart(topology, {
    buyers: Number(args.buyers),
    watchers: Number(args.watchers),
    showings: Number(args.showings),
    calmMs: Number(args['calm-seconds']) * 1000,
    pauseMs: Number(args['pause-seconds']) * 1000,
    log,
  });
  // --no-docs: a try, printed only; the published figures stay.
  if (args['no-docs']) console.log(JSON.stringify(report, null, 2));
  else writeLatest('rolling-restart', { measuredAt: new Date().toISOString(), ...report });
} finally {
  await topology.stop();
}
