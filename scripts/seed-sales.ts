import { parseArgs } from 'node:util';
import { connectDatabase } from '../db/connection.js';
import { migrateToLatest } from '../db/migrate.js';
import { sampleSalesRepository } from '../db/repositories/sample-sales.js';
import { statisticsRepository } from '../db/repositories/statistics.js';
import { loadConfigOrExit, parseDataTaskConfig } from '../host/config.js';
import { MIGRATIONS } from '../host/roles.js';
import { generateSales } from './sample-sales.js';

// npm run seed:sales -- [--tickets 1000000] [--verify]
// Sales history for the statistics (docs/statistics.md): fills the showings of a seeded catalog
// (npm run seed -- --cinemas 100 --halls-per-cinema 3 --days 5 --reset gives room for a million
// tickets) with orders until --tickets tickets exist, a line of progress per step. --verify then
// compares the figures kept as sales happened with a full recount.
const { values } = parseArgs({
  options: { tickets: { type: 'string', default: '1000000' }, verify: { type: 'boolean', default: false } },
});
const tickets = Number(values.tickets);
if (!Number.isInteger(tickets) || tickets < 1) {
  console.error('--tickets must be a positive whole number');
  process.exit(2);
}
const config = loadConfigOrExit(process.env, parseDataTaskConfig);
const db = connectDatabase(config.DATABASE_URL, 2);
try {
  await migrateToLatest(db, MIGRATIONS);
  if ((await sampleSalesRepository.fillable(db)) === 0) {
    console.error('No showing without orders to fill: seed a catalog first (npm run seed -- --days 5 --reset).');
    process.exitCode = 1;
  } else {
    const made = await generateSales(db, tickets, (line) => console.error(line));
    await db.raw('ANALYZE orders, tickets, payments, sales_daily, showings');
    const report: Record<string, unknown> = { ...made };
    if (values.verify) {
      const startedAt = Date.now();
      report.mismatchesWithRecount = (await statisticsRepository.mismatches(db)).length;
      report.recountSeconds = (Date.now() - startedAt) / 1000;
    }
    console.log(JSON.stringify(report));
  }
} finally {
  await db.destroy();
}
