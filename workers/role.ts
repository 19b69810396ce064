import { Worker } from 'bullmq';
import type { Deps } from '../domain/context.js';
import { every } from '../domain/every.js';
import { allocateSeats, type DrainMarks } from '../domain/orders/allocate.js';
import { expireHolds, requeueStaleOrders } from '../domain/orders/sweeps.js';
import { createPaymentClient } from '../domain/payments/client.js';
import { chargeOrder, PaymentPending, reconcilePayments, refundPayment } from '../domain/payments/saga.js';
import {
  allocationQueueName,
  bullPrefix,
  PAYMENTS_QUEUE,
  type AllocationJob,
  type PaymentJob,
} from '../domain/queues.js';

/**
 * The workers role: one BullMQ worker per allocation partition (each partition runs one job at a
 * time across all processes), the payment worker (charges and refunds, concurrent), and the sweeps
 * that expire holds, re-wake forgotten partitions and reconcile payments.
 */
export async function startWorkers(deps: Deps): Promise<() => Promise<void>> {
  const { config, log } = deps;
  await deps.queues.enforceSerialPartitions();
  const marks: DrainMarks = new Map();
  const workers = deps.queues.allocation.map(
    (_queue, partition) =>
      new Worker<AllocationJob>(
        allocationQueueName(partition),
        (job) => allocateSeats(deps, job.data.partition, marks),
        {
          connection: { url: config.REDIS_URL, maxRetriesPerRequest: null },
          prefix: bullPrefix(config),
          concurrency: 1,
          // Re-running a drain is a no-op, so a crashed worker's job may be taken over quickly.
          lockDuration: config.ALLOCATION_LOCK_MS,
          stalledInterval: config.ALLOCATION_STALLED_CHECK_MS,
          maxStalledCount: 100,
        },
      ),
  );
  for (const worker of workers) {
    worker.on('failed', (job, error) =>
      log.error({ err: error, queue: worker.name, attempts: job?.attemptsMade }, 'allocation job failed'),
    );
    worker.on('error', (error) => log.error({ err: error, queue: worker.name }, 'allocation worker error'));
  }

  const paymentClient = createPaymentClient(config, log);
  const paymentWorker = new Worker<PaymentJob>(
    PAYMENTS_QUEUE,
    (job) =>
      job.data.kind === 'charge'
        ? chargeOrder(deps, paymentClient, job.data.orderId)
        : refundPayment(deps, paymentClient, job.data.paymentId),
    {
      connection: { url: config.REDIS_URL, maxRetriesPerRequest: null },
      prefix: bullPrefix(config),
      concurrency: config.PAYMENT_CONCURRENCY,
      settings: {
        // Exponential with jitter, capped: a provider outage is waited out, not hammered.
        backoffStrategy: (attemptsMade: number) =>
          Math.round(
            Math.min(config.PAYMENT_RETRY_MAX_MS, config.PAYMENT_RETRY_BASE_MS * 2 ** (attemptsMade - 1)) *
              (0.5 + Math.random() / 2),
          ),
      },
    },
  );
  paymentWorker.on('failed', (job, error) => {
    if (error instanceof PaymentPending)
      log.debug({ job: job?.id, attempts: job?.attemptsMade, reason: error.message }, 'payment pending; retrying');
    else log.error({ err: error, job: job?.id }, 'payment job failed');
  });
  paymentWorker.on('error', (error) => log.error({ err: error }, 'payment worker error'));
  const sweeps = every(
    config.SWEEP_INTERVAL_MS,
    async () => {
      // Orders queued too long are unusual (a lost wake-up, a writer bypassing the intake): drain
      // their partitions from the start again rather than trust this process's marks.
      for (const partition of await requeueStaleOrders(deps)) marks.delete(partition);
      await expireHolds(deps);
    },
    log,
    'order sweeps',
  );
  // Apart from the order sweeps: its lookups may wait on a hanging payment service.
  const reconcile = every(
    config.SWEEP_INTERVAL_MS,
    () => reconcilePayments(deps, paymentClient),
    log,
    'payment reconcile',
  );
  log.info({ partitions: workers.length }, 'allocation workers started');

  return async () => {
    await Promise.all([sweeps.stop(), reconcile.stop()]);
    // close() lets the job in hand finish: its transaction commits or never started.
    await Promise.all([...workers, paymentWorker].map((worker) => worker.close()));
    paymentClient.close();
  };
}
