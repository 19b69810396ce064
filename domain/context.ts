import type { Redis } from 'ioredis';
import type { Db } from '../db/connection.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';

/** What a use case may touch. Built once per process and handed to every use case. */
export type Deps = { db: Db; redis: Redis; config: Config; log: Logger };
