import type { Redis } from 'ioredis';
import { INITIAL_ORDER_STATUS } from '../domain/model/order-states.js';
import type { OrderView } from '../domain/model/orders.js';
import type { SeatDelta } from '../domain/model/tickets.js';
import type { SaleEvent, SaleEvents } from '../domain/ports.js';

/**
 * What one transaction changed, published once after its commit on one Redis channel: the orders as
 * buyers see them and the seat-map deltas of the showings it touched. Every listener (a POST
 * waiting for its decision, every realtime instance) is served from that one message.
 */
export function createSaleEvents(redis: Redis, prefix: string): SaleEvents & { close(): Promise<void> } {
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

  const subscribe = () => {
    subscribed ??= (async () => {
      const connection = redis.duplicate();
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

  return {
    publish: async (orders, seats: SeatDelta[] = []) => {
      if (orders.length > 0 || seats.length > 0)
        await redis.publish(channel, JSON.stringify({ orders, seats } satisfies SaleEvent));
    },

    async waitFor(orderId, timeoutMs) {
      await subscribe();
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
