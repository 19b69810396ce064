import type { Db } from '../db/connection.js';
import { sampleSalesRepository } from '../db/repositories/sample-sales.js';

/** Sales history for measuring the statistics (npm run seed:sales, npm run bench:stats). */

/** Fills showings, a batch of them per statement, until `tickets` tickets exist or none is left to fill. */
export async function generateSales(
  db: Db,
  tickets: number,
  progress: (line: string) => void,
): Promise<{ showings: number; orders: number; tickets: number; seconds: number }> {
  const startedAt = Date.now();
  const total = { showings: 0, orders: 0, tickets: 0 };
  let after = 0;
  while (total.tickets < tickets) {
    const step = await sampleSalesRepository.fillShowings(db, after, 100);
    if (step.lastShowingId === null) {
      progress(`no showing left to fill: ${total.tickets} tickets (seed more days for ${tickets})`);
      break;
    }
    after = step.lastShowingId;
    total.showings += step.showings;
    total.orders += step.orders;
    total.tickets += step.tickets;
    const seconds = (Date.now() - startedAt) / 1000;
    progress(
      `tickets ${total.tickets}/${tickets} (${Math.min(100, Math.round((total.tickets / tickets) * 100))} %), ` +
        `orders ${total.orders}, showings ${total.showings}, ${seconds.toFixed(1)} s, ` +
        `${Math.round(total.tickets / seconds)} tickets/s`,
    );
  }
  return { ...total, seconds: Math.round((Date.now() - startedAt) / 100) / 10 };
}
