import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';

/**
 * Every BullMQ queue of the system is declared here.
 *
 * Allocation: a fixed set of partition queues; a showing always maps to the same partition, and each
 * partition is processed one job at a time across all worker processes (global concurrency 1). A job
 * carries no order: it wakes the partition, whose worker drains the partition's queued orders from
 * PostgreSQL in arrival order. Names carry a {hash tag} so each queue's keys share one Redis Cluster slot.
 */
export type AllocationJob = { partition: number };

export const allocationQueueName = (partition: number) => `{alloc-${partition}}`;

/**
 * Payments: one queue, worked concurrently (charges do not compete for seats). A job names the
 * order to charge or the refund to send; handling it twice is harmless because every call to the
 * payment service carries the same idempotency key. The job id dedupes re-sends by the sweeps.
 */
export type PaymentJob = { kind: 'charge'; orderId: string } | { kind: 'refund'; paymentId: string };

export const PAYMENTS_QUEUE = '{payments}';

/** Showing ids are sequential, so the remainder spreads showings evenly over the partitions. */
export const partitionOf = (showingId: number, partitions: number) => showingId % partitions;

export const bullPrefix = (config: Pick<Config, 'REDIS_PREFIX'>) => `${config.REDIS_PREFIX}:bull`;

export type Queues = ReturnType<typeof createQueues>;

export function createQueues(config: Config, connection: Redis) {
  const allocation = Array.from(
    { length: config.ALLOCATION_PARTITIONS },
    (_, partition) =>
      new Queue<AllocationJob>(allocationQueueName(partition), {
        connection,
        prefix: bullPrefix(config),
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
    prefix: bullPrefix(config),
    defaultJobOptions: {
      // Retried until settled; the reconcile sweep settles orders whose payment stays unknown for too long.
      attempts: 10_000,
      backoff: { type: 'custom' },
      removeOnComplete: true,
      removeOnFail: true,
    },
  });

  return {
    allocation,
    requestCharges: (orderIds: string[]) =>
      payments.addBulk(
        orderIds.map((orderId) => ({
          name: 'charge',
          data: { kind: 'charge' as const, orderId },
          opts: { jobId: `charge-${orderId}` },
        })),
      ),
    requestRefunds: (paymentIds: string[]) =>
      payments.addBulk(
        paymentIds.map((paymentId) => ({
          name: 'refund',
          data: { kind: 'refund' as const, paymentId },
          opts: { jobId: `refund-${paymentId}` },
        })),
      ),
    /**
     * At most one waiting wake-up per partition; one added while the partition's job runs is kept and
     * runs after it, so an order committed during a drain is never left without a wake-up.
     */
    wakePartition: (partition: number) =>
      allocation[partition]!.add(
        'drain',
        { partition },
        { deduplication: { id: `alloc-${partition}`, keepLastIfActive: true } },
      ),
    /** Stored in Redis, so it is set again on every sweep: a Redis that lost its data gets it back. */
    enforceSerialPartitions: () => Promise.all(allocation.map((queue) => queue.setGlobalConcurrency(1))),
    close: async () => {
      await Promise.all([...allocation, payments].map((queue) => queue.close()));
      await connection.quit();
    },
  };
}
