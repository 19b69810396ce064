import { coalesced } from './coalesced.js';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Jobs, Logger } from '../domain/ports.js';
import { warnThrottled } from '../domain/throttled-log.js';

/**
 * Every BullMQ queue of the system is declared here.
 *
 * Allocation: a fixed set of partition queues; a showing always maps to the same partition, and each
 * partition is processed one job at a time across all worker processes (global concurrency 1). A job
 * carries no order: it wakes the partition, whose worker drains the partition's queued orders from
 * PostgreSQL in arrival order. Names carry a {hash tag} so each queue's keys share one Redis Cluster slot.
 */
type AllocationJob = { partition: number };

export const allocationQueueName = (partition: number) => `{alloc-${partition}}`;

/**
 * Payments: one queue, worked concurrently (charges do not compete for seats). A job names the
 * order to charge or the refund to send; handling it twice is harmless because every call to the
 * payment service carries the same idempotency key. The job id dedupes re-sends by the sweeps.
 */
type PaymentJob = { kind: 'charge'; orderId: string } | { kind: 'refund'; paymentId: string };

const PAYMENTS_QUEUE = '{payments}';

export type QueueSettings = { redisUrl: string; redisPrefix: string; partitions: number };

export const bullPrefix = (settings: Pick<QueueSettings, 'redisPrefix'>) => `${settings.redisPrefix}:bull`;

/** The producing side: what the domain's Jobs port sends. */
export function createJobQueues(
  settings: QueueSettings,
  connection: Redis,
  log: Logger,
): Jobs & { queues: Queue[]; close(): Promise<void> } {
  const allocation = Array.from(
    { length: settings.partitions },
    (_, partition) =>
      new Queue<AllocationJob>(allocationQueueName(partition), {
        connection,
        prefix: bullPrefix(settings),
        defaultJobOptions: {
          // A failed drain is retried soon; order is safe because every drain starts from the oldest queued order.
          attempts: 20,
          backoff: { type: 'exponential', delay: 100 },
          removeOnComplete: true,
          removeOnFail: 100,
        },
      }),
  );

  const payments = new Queue<PaymentJob>(PAYMENTS_QUEUE, {
    connection,
    prefix: bullPrefix(settings),
    defaultJobOptions: {
      // Retried until settled; the reconcile sweep settles orders whose payment stays unknown for too long.
      attempts: 10_000,
      backoff: { type: 'custom' },
      removeOnComplete: true,
      removeOnFail: true,
    },
  });

  for (const queue of [...allocation, payments]) {
    queue.on('error', (error) =>
      warnThrottled(log, 'queue', { queue: queue.name, reason: error.message }, 'queue unavailable'),
    );
  }
  // The connection waits for Redis forever (BullMQ needs that): a send while it is away would hang
  // its caller. Refused at once instead; every send has a sweep that sends it again.
  const whileConnected = <T>(send: () => Promise<T>): Promise<T> =>
    connection.status === 'ready' ? send() : Promise.reject(new Error(`Redis is ${connection.status}`));

  const sendPaymentJobs = (jobs: (PaymentJob & { jobId: string })[]) =>
    whileConnected(() =>
      payments.addBulk(jobs.map(({ jobId, ...data }) => ({ name: data.kind, data, opts: { jobId } }))),
    );

  const wakes = coalesced((partition: number) =>
    allocation[partition]!.add(
      'drain',
      { partition },
      { deduplication: { id: `alloc-${partition}`, keepLastIfActive: true } },
    ),
  );

  return {
    requestCharges: (orderIds) =>
      sendPaymentJobs(orderIds.map((orderId) => ({ kind: 'charge', orderId, jobId: `charge-${orderId}` }))),
    requestRefunds: (paymentIds) =>
      sendPaymentJobs(paymentIds.map((paymentId) => ({ kind: 'refund', paymentId, jobId: `refund-${paymentId}` }))),
    /**
     * At most one waiting wake-up per partition; one added while the partition's job runs is kept and
     * runs after it, so an order committed during a drain is never left without a wake-up.
     */
    wakePartition: (partition) => whileConnected(() => wakes(partition)),
    /** Stored in Redis, so it is set again on every sweep: a Redis that lost its data gets it back. */
    enforceSerialPartitions: () => Promise.all(allocation.map((queue) => queue.setGlobalConcurrency(1))),
    /** Every queue, for the dashboard (infra/queue-dashboard.ts). */
    queues: [...allocation, payments],
    close: async () => {
      await Promise.all([...allocation, payments].map((queue) => queue.close()));
      await connection.quit();
    },
  };
}

/** What the workers role does with each kind of job. A handler that throws has its job retried. */
export type JobHandlers = {
  drainPartition: (partition: number) => Promise<unknown>;
  charge: (orderId: string) => Promise<void>;
  refund: (paymentId: string) => Promise<void>;
  /** A failure that only means "later" (a payment still pending): logged at debug, not as an error. */
  isRetryLater: (error: unknown) => boolean;
};

export type ConsumerSettings = QueueSettings & {
  lockMs: number;
  stalledCheckMs: number;
  paymentConcurrency: number;
  retryBaseMs: number;
  retryMaxMs: number;
};

/**
 * The consuming side: one worker per allocation partition (global concurrency 1) and the payment
 * worker (concurrent, exponential backoff with jitter). Returns the graceful stop: the job in hand
 * finishes, so its transaction commits or never started.
 */
export function startJobConsumers(
  settings: ConsumerSettings,
  handlers: JobHandlers,
  log: Logger,
): { partitions: number; stop: () => Promise<void> } {
  // BullMQ's own reconnect backoff grows to 20 s between attempts: after an outage of a quarter of a
  // minute the orders queued meanwhile waited up to that long once Redis was back. At most 1 s here.
  const connection = {
    url: settings.redisUrl,
    maxRetriesPerRequest: null,
    retryStrategy: (attempt: number) => Math.min(attempt * 100, 1_000),
  };
  const allocation = Array.from(
    { length: settings.partitions },
    (_, partition) =>
      new Worker<AllocationJob>(allocationQueueName(partition), (job) => handlers.drainPartition(job.data.partition), {
        connection,
        prefix: bullPrefix(settings),
        concurrency: 1,
        // Re-running a drain is a no-op, so a crashed worker's job may be taken over quickly.
        lockDuration: settings.lockMs,
        stalledInterval: settings.stalledCheckMs,
        maxStalledCount: 100,
      }),
  );
  for (const worker of allocation) {
    worker.on('failed', (job, error) =>
      log.error({ err: error, queue: worker.name, attempts: job?.attemptsMade }, 'allocation job failed'),
    );
    worker.on('error', (error) =>
      warnThrottled(
        log,
        'queue',
        { queue: worker.name, reason: error.message },
        'allocation worker cannot reach Redis',
      ),
    );
  }

  const payments = new Worker<PaymentJob>(
    PAYMENTS_QUEUE,
    (job) => (job.data.kind === 'charge' ? handlers.charge(job.data.orderId) : handlers.refund(job.data.paymentId)),
    {
      connection,
      prefix: bullPrefix(settings),
      concurrency: settings.paymentConcurrency,
      settings: {
        // Exponential with jitter, capped: a provider outage is waited out, not hammered.
        backoffStrategy: (attemptsMade: number) =>
          Math.round(
            Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** (attemptsMade - 1)) * (0.5 + Math.random() / 2),
          ),
      },
    },
  );
  payments.on('failed', (job, error) => {
    if (handlers.isRetryLater(error)) {
      log.debug({ job: job?.id, attempts: job?.attemptsMade, reason: error.message }, 'payment pending; retrying');
    } else log.error({ err: error, job: job?.id }, 'payment job failed');
  });
  payments.on('error', (error) =>
    warnThrottled(log, 'queue', { queue: payments.name, reason: error.message }, 'payment worker cannot reach Redis'),
  );

  return {
    partitions: allocation.length,
    stop: async () => {
      await Promise.all([...allocation, payments].map((worker) => worker.close()));
    },
  };
}
