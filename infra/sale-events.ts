import type { Redis } from 'ioredis';
import { INITIAL_ORDER_STATUS } from '../domain/model/order-states.js';
import type { OrderView } from '../domain/model/orders.js';
import type { SeatDelta } from '../domain/model/tickets.js';
import type { Logger, SaleEvent, SaleEvents } from '../domain/ports.js';
import { warnThrottled } from '../domain/throttled-log.js';
import { reportingErrors } from './redis.js';

/**
 * What one transaction changed, published once after its commit on one Redis channel: the orders as
 * buyers see them and the seat-map deltas of the showings it touched. Every listener (a POST
 * waiting for its decision, every realtime instance) is served from that one message.
 */
/** Publications held while Redis is away, oldest first; past this the oldest are dropped (readers re-read). */
const HELD_PUBLICATIONS = 10_000;

export function createSaleEvents(redis: Redis, prefix: string, log: Logger): SaleEvents & { close(): Promise<void> } {
  const channel = `${prefix}:orders:updated`;
  const waiters = new Map<string, Set<(order: OrderView | null) => void>>();
  const listeners = new Set<(event: SaleEvent) => void>();
  let subscriber: Redis | undefined;
  let subscribed: Promise<unknown> | undefined;

  const deliver = (message: string) => {
    const event = JSON.parse(message) as SaleEvent;
    for (const order of event.orders) {
      // Waiters wait for the decision: a queued order's own publication is not one.
      if (order.status === INITIAL_ORDER_STATUS) continue;
      for (const finish of [...(waiters.get(order.id) ?? [])]) finish(order);
    }
    for (const listener of listeners) listener(event);
  };

  /** Subscribed and connected; subscribes when Redis is there, says no at once when it is not. */
  const listening = async () => {
    if (subscriber) return subscriber.status === 'ready';
    if (redis.status !== 'ready') return false;
    return subscribe().then(
      () => true,
      () => false,
    );
  };

  const subscribe = () => {
    subscribed ??= (async () => {
      const connection = reportingErrors(redis.duplicate(), log);
      connection.on('message', (_channel: string, message: string) => deliver(message));
      try {
        await connection.subscribe(channel);
        subscriber = connection;
      } catch (error) {
        // Redis was away: let the next caller try again instead of failing forever.
        subscribed = undefined;
        connection.disconnect();
        throw error;
      }
    })();
    return subscribed;
  };

  // After a commit, the answer never waits on Redis: while it is away, publications are held in order
  // and sent when it is back. Nothing depends on them for correctness (reads probe versions, pollers
  // read the order, a resubscribing client gets the current state): they only make news fast.
  const held: string[] = [];
  let flushing = false;
  const flush = async () => {
    if (flushing) return;
    flushing = true;
    try {
      while (held.length > 0 && redis.status === 'ready') {
        await redis.publish(channel, held[0]!);
        held.shift();
      }
    } catch (error) {
      warnThrottled(log, 'publication', { reason: (error as Error).message, held: held.length }, 'publications held');
    } finally {
      flushing = false;
    }
  };
  redis.on('ready', () => void flush());

  return {
    publish: async (orders, seats: SeatDelta[] = [], trace) => {
      if (orders.length === 0 && seats.length === 0) return;
      const message = JSON.stringify({ orders, seats, trace } satisfies SaleEvent);
      if (held.length === 0 && redis.status === 'ready') {
        try {
          await redis.publish(channel, message);
          return;
        } catch (error) {
          warnThrottled(log, 'publication', { reason: (error as Error).message }, 'publications held');
        }
      }
      if (held.push(message) > HELD_PUBLICATIONS) held.shift();
      void flush();
    },

    async waitFor(orderId, timeoutMs) {
      // No news can come while Redis is away: the caller answers at once, and the buyer polls.
      if (!(await listening())) return { decided: Promise.resolve(null), cancel: () => {} };
      let cancel = () => {};
      const decided = new Promise<OrderView | null>((resolve) => {
        const timer = setTimeout(() => finish(null), timeoutMs);
        const finish = (order: OrderView | null) => {
          clearTimeout(timer);
          const forOrder = waiters.get(orderId);
          forOrder?.delete(finish);
          if (forOrder?.size === 0) waiters.delete(orderId);
          resolve(order);
        };
        waiters.set(orderId, (waiters.get(orderId) ?? new Set()).add(finish));
        cancel = () => finish(null);
      });
      return { decided, cancel };
    },

    async listen(listener) {
      await subscribe();
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async close() {
      for (const finish of [...waiters.values()].flatMap((forOrder) => [...forOrder])) finish(null);
      waiters.clear();
      listeners.clear();
      if (subscriber) await subscriber.quit().catch(() => subscriber?.disconnect());
    },
  };
}
