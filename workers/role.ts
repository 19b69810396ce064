import { allocateSeats, type DrainMarks } from '../domain/allocation/allocate-seats.js';
import { expireHolds } from '../domain/allocation/expire-holds.js';
import { requeueStaleOrders } from '../domain/allocation/requeue-stale-orders.js';
import type { Deps } from '../domain/context.js';
import { chargeOrder } from '../domain/payments/charge-order.js';
import { PaymentPending } from '../domain/payments/payment-jobs.js';
import { reconcilePayments } from '../domain/payments/reconcile-payments.js';
import { refundPayment } from '../domain/payments/refund-payment.js';
import type { PaymentProvider } from '../domain/ports.js';

/** A task the workers role runs every SWEEP_INTERVAL_MS, never two at once. */
export type Sweep = { name: string; run: () => Promise<unknown> };

/**
 * The workers role: what each job and each sweep does. The host runs the job handlers on the queue
 * consumers (one drain at a time per partition across every process; payments concurrently) and
 * the sweeps on timers.
 */
export function workerRole(deps: Deps, provider: PaymentProvider) {
  // Per process: the highest arrival number seen decided in each partition (see DrainMarks).
  const marks: DrainMarks = new Map();
  const jobs = {
    drainPartition: (partition: number) => allocateSeats(deps, partition, marks),
    charge: (orderId: string) => chargeOrder(deps, provider, orderId),
    refund: (paymentId: string) => refundPayment(deps, provider, paymentId),
    isRetryLater: (error: unknown) => error instanceof PaymentPending,
  };
  const sweeps: Sweep[] = [
    {
      name: 'order sweeps',
      run: async () => {
        // Orders queued too long are unusual (a lost wake-up, a writer bypassing the intake): drain
        // their partitions from the start again rather than trust this process's marks.
        for (const partition of await requeueStaleOrders(deps)) marks.delete(partition);
        await expireHolds(deps);
      },
    },
    // Apart from the order sweeps: its lookups may wait on a hanging payment service.
    { name: 'payment reconcile', run: () => reconcilePayments(deps, provider) },
  ];
  return { jobs, sweeps };
}
