import { connectDatabase, ensureDatabase } from '../db/connection.js';
import { migrateToLatest } from '../db/migrate.js';
import { loadConfigOrExit } from '../host/config.js';
import { runRoles, stopOnSignals } from '../host/process.js';
import { MIGRATIONS } from '../host/roles.js';
import { createLogger } from '../infra/logger.js';
import { seedWhenEmpty } from './demo-data.js';

// The one process entry: `npm start` runs every role here; ROLES=catalog (etc.) runs just that role.
const config = loadConfigOrExit();
const log = createLogger(config.LOG_LEVEL);

const created = await ensureDatabase(config.DATABASE_URL);
if (created) log.info('created database');
const db = connectDatabase(config.DATABASE_URL, 2);
const applied = await migrateToLatest(db, MIGRATIONS);
if (applied.length > 0) log.info({ applied }, 'migrated');
if (config.SEED_WHEN_EMPTY) await seedWhenEmpty(db, config.CLEANING_GAP_MINUTES, log);
await db.destroy();

const running = runRoles(config);
stopOnSignals(running, config.SHUTDOWN_TIMEOUT_MS, log);
await running;
