import type { Redis } from 'ioredis';
import type { Db } from '../db/connection.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { OrderIntake } from './orders/intake.js';
import type { OrderUpdates } from './orders/updates.js';
import type { PaymentBehaviourSwitch } from './payment-service/behaviour.js';
import type { Queues } from './queues.js';

/** What a use case may touch. Built once per process (domain/deps.ts) and handed to every use case. */
export type Deps = {
  db: Db;
  redis: Redis;
  config: Config;
  log: Logger;
  queues: Queues;
  orderUpdates: OrderUpdates;
  orderIntake: OrderIntake;
  /** The simulated processor's behaviour in this process (payment service role). */
  paymentBehaviour: PaymentBehaviourSwitch;
};
