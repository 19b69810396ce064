import { connectDatabase } from '../db/connection.js';
import { loadConfigOrExit } from '../host/config.js';
import { runRoles, stopOnSignals } from '../host/process.js';
import { prepareStores } from '../host/start-up.js';
import { createLogger } from '../infra/logger.js';
import { seedWhenEmpty } from './demo-data.js';

// The one process entry: `npm start` runs every role here; ROLES=catalog (etc.) runs just that role.
const config = loadConfigOrExit();
const log = createLogger(config.LOG_LEVEL, { roles: config.ROLES.join(',') });

await prepareStores(config, log);
if (config.SEED_WHEN_EMPTY) {
  const db = connectDatabase(config.DATABASE_URL, 2);
  await seedWhenEmpty(db, config.CLEANING_GAP_MINUTES, log);
  await db.destroy();
}

const running = runRoles(config);
stopOnSignals(running, config.SHUTDOWN_TIMEOUT_MS, log);
await running;
