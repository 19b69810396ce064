import { parseArgs } from 'node:util';
import { connectDatabase, ensureDatabase } from '../db/connection.js';
import { migrateToLatest } from '../db/migrate.js';
import { bulkRepository } from '../db/repositories/bulk.js';
import { loadConfigOrExit, parseDataTaskConfig } from '../host/config.js';
import { DATA_SCHEMAS, MIGRATIONS } from '../host/roles.js';
import { seedDemoData } from './demo-data.js';

// npm run seed -- --cinemas 100 --halls-per-cinema 3 --days 2 [--reset]
const { values } = parseArgs({
  options: {
    cities: { type: 'string', default: '10' },
    cinemas: { type: 'string', default: '100' },
    'halls-per-cinema': { type: 'string', default: '3' },
    films: { type: 'string', default: '40' },
    days: { type: 'string', default: '2' },
    'showings-per-hall-per-day': { type: 'string', default: '5' },
    reset: { type: 'boolean', default: false },
  },
});

const count = (name: keyof typeof values) => {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a positive whole number`);
    process.exit(2);
  }
  return value;
};
const size = {
  cities: count('cities'),
  cinemas: count('cinemas'),
  hallsPerCinema: count('halls-per-cinema'),
  films: count('films'),
  days: count('days'),
  showingsPerHallPerDay: count('showings-per-hall-per-day'),
};

const config = loadConfigOrExit(process.env, parseDataTaskConfig);
await ensureDatabase(config.DATABASE_URL);
const db = connectDatabase(config.DATABASE_URL, 4);
try {
  await migrateToLatest(db, MIGRATIONS);
  await db.transaction(async (trx) => {
    if (values.reset) {
      console.error('reset: removing every row of the catalog, the sales and the payment simulator');
      await bulkRepository.truncateAll(trx, DATA_SCHEMAS);
    } else if (!(await bulkRepository.catalogIsEmpty(trx))) {
      console.error('The database already holds a catalog; pass --reset to replace it (this deletes orders too).');
      process.exitCode = 1;
      return;
    }
    const counts = await seedDemoData(trx, { ...size, cleaningGapMinutes: config.CLEANING_GAP_MINUTES }, (line) =>
      console.error(line),
    );
    console.log(JSON.stringify(counts));
  });
} finally {
  await db.destroy();
}
