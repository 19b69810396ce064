import type { Redis } from 'ioredis';
import type { SeatDelta } from '../../db/repositories/seat-versions.js';
import type { OrderView } from './view.js';

/**
 * What one transaction changed, published once after its commit on one Redis channel: the orders as
 * buyers see them and the seat-map deltas of the showings it touched. Every listener (a POST
 * waiting for its decision, every realtime instance) is served from that one message.
 */
type SaleEvent = { orders: OrderView[]; seats: SeatDelta[] };

export type OrderUpdates = ReturnType<typeof createOrderUpdates>;

export function createOrderUpdates(redis: Redis, prefix: string) {
  const channel = `${prefix}:orders:updated`;
  const waiters = new Map<string, Set<(order: OrderView | null) => void>>();
  const listeners = new Set<(event: SaleEvent) => void>();
  let subscriber: Redis | undefined;
  let subscribed: Promise<unknown> | undefined;

  const deliver = (message: string) => {
    const event = JSON.parse(message) as SaleEvent;
    for (const order of event.orders) for (const finish of [...(waiters.get(order.id) ?? [])]) finish(order);
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
    publish: async (orders: OrderView[], seats: SeatDelta[] = []) => {
      if (orders.length > 0 || seats.length > 0)
        await redis.publish(channel, JSON.stringify({ orders, seats } satisfies SaleEvent));
    },

    /**
     * Registers interest in an order before it exists (call it before the insert, so no update can
     * slip by), and gives a promise of the first update or null after `timeoutMs`.
     */
    async waitFor(
      orderId: string,
      timeoutMs: number,
    ): Promise<{ decided: Promise<OrderView | null>; cancel: () => void }> {
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

    async listen(listener: (event: SaleEvent) => void): Promise<() => void> {
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
