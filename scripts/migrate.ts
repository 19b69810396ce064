import { loadConfigOrExit, parseDataTaskConfig } from '../host/config.js';
import { migrateDatabase } from '../host/start-up.js';
import { createLogger } from '../infra/logger.js';

// The one-shot migration of a deployment (`npm run migrate`; compose's and Kubernetes' migrate step):
// creates the database if missing, applies every migration, exits 0. Role processes started after it
// with MIGRATE_ON_START=false only check that the database answers.
const config = loadConfigOrExit(process.env, parseDataTaskConfig);
const log = createLogger(config.LOG_LEVEL, { task: 'migrate' });
await migrateDatabase(config.DATABASE_URL, config.STORE_WAIT_SECONDS, log);
log.info('database is migrated');
