import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { RequestHandler } from 'express';

/**
 * bull-board over the process's own queues (no connection of its own): the allocation partitions'
 * wake-ups and the payment jobs, with their waiting, active, delayed and failed jobs, and the
 * actions an operator needs (retry a failed job, pause a queue). Served by the host at `basePath`,
 * behind the admin token.
 */
export function createQueueDashboard(queues: Queue[], basePath: string): RequestHandler {
  const serverAdapter = new ExpressAdapter().setBasePath(basePath);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Cinema queues' } },
  });
  return serverAdapter.getRouter() as RequestHandler;
}
