import type { OrderView } from '../domain/model/orders.js';

/** One subscriber of one order: the version it was last told, and while it is being answered, the newest view heard. */
type Watch = { sent: number; answering: boolean; heard?: OrderView };

/**
 * Who watches which order on this instance, and what each was told. Every version of an order reaches
 * each subscriber exactly once, in the subscription's answer or as an update: a subscription is
 * registered before its answer is read, a view heard meanwhile is folded into the answer, and from
 * then on only views newer than the last one told go out. So a decision published before, during or
 * after a subscription is told once.
 */
export function orderSubscriptions<Subscriber>(tell: (subscriber: Subscriber, view: OrderView) => void) {
  const byOrder = new Map<string, Map<Subscriber, Watch>>();
  const bySubscriber = new Map<Subscriber, Set<string>>();

  const drop = (orderId: string, subscriber: Subscriber) => {
    const watchers = byOrder.get(orderId);
    watchers?.delete(subscriber);
    if (watchers?.size === 0) byOrder.delete(orderId);
    const orders = bySubscriber.get(subscriber);
    orders?.delete(orderId);
    if (orders?.size === 0) bySubscriber.delete(subscriber);
  };

  return {
    /**
     * A view published after a commit: told to every subscriber that has not seen it or a newer one.
     * Returns how many were told.
     */
    heard(view: OrderView): number {
      let told = 0;
      for (const [subscriber, watch] of byOrder.get(view.id) ?? []) {
        if (watch.answering) {
          if (!watch.heard || view.version > watch.heard.version) watch.heard = view;
        } else if (view.version > watch.sent) {
          watch.sent = view.version;
          tell(subscriber, view);
          told += 1;
        }
      }
      return told;
    },

    /**
     * Subscribes, then answers with the newer of `read()` and what was heard meanwhile. A failed
     * read drops a new subscription and keeps one the subscriber already had.
     */
    async subscribe(subscriber: Subscriber, orderId: string, read: () => Promise<OrderView>): Promise<OrderView> {
      const watchers = byOrder.get(orderId) ?? new Map<Subscriber, Watch>();
      byOrder.set(orderId, watchers);
      const before = watchers.get(subscriber);
      const watch: Watch = { sent: before?.sent ?? 0, answering: true };
      watchers.set(subscriber, watch);
      bySubscriber.set(subscriber, (bySubscriber.get(subscriber) ?? new Set()).add(orderId));
      try {
        const current = await read();
        const newest = watch.heard && watch.heard.version > current.version ? watch.heard : current;
        watch.sent = Math.max(watch.sent, newest.version);
        watch.answering = false;
        return newest;
      } catch (error) {
        if (before) watchers.set(subscriber, before);
        else drop(orderId, subscriber);
        throw error;
      }
    },

    unsubscribe: drop,

    /** A subscriber that went away: all its subscriptions end. */
    forget(subscriber: Subscriber) {
      for (const orderId of [...(bySubscriber.get(subscriber) ?? [])]) drop(orderId, subscriber);
    },
  };
}
