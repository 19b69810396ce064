import type { SeatDelta } from '../domain/model/tickets.js';

/**
 * Puts each showing's seat deltas back in version order. Versions follow commit order, but deltas of
 * transactions committed by different processes may be published the other way round; a delta
 * arriving ahead of a missing version waits up to `waitMs` for it, then goes out anyway (a client
 * seeing the gap repairs its map from the REST snapshot).
 */
export function inVersionOrder(send: (delta: SeatDelta) => void, waitMs: number) {
  type Showing = { next: number; waiting: Map<number, SeatDelta>; timer?: NodeJS.Timeout };
  const showings = new Map<number, Showing>();

  const flush = (showing: Showing) => {
    for (let delta = showing.waiting.get(showing.next); delta; delta = showing.waiting.get(showing.next)) {
      showing.waiting.delete(delta.version);
      send(delta);
      showing.next = delta.version + 1;
    }
  };

  const giveUpWaiting = (showing: Showing) => {
    showing.timer = undefined;
    if (showing.waiting.size === 0) return;
    showing.next = Math.min(...showing.waiting.keys());
    flush(showing);
    if (showing.waiting.size > 0) giveUpWaiting(showing);
  };

  return {
    accept(delta: SeatDelta) {
      const showing = showings.get(delta.showingId);
      if (!showing) {
        showings.set(delta.showingId, { next: delta.version + 1, waiting: new Map() });
        send(delta);
        return;
      }
      if (delta.version < showing.next) return; // a repeat
      showing.waiting.set(delta.version, delta);
      flush(showing);
      if (showing.waiting.size > 0) showing.timer ??= setTimeout(() => giveUpWaiting(showing), waitMs);
      else if (showing.timer) {
        clearTimeout(showing.timer);
        showing.timer = undefined;
      }
    },
    /** A client subscribed at this version: deltas continue from it (unless already tracked). */
    startAt(showingId: number, version: number) {
      if (!showings.has(showingId)) showings.set(showingId, { next: version + 1, waiting: new Map() });
    },
    /** Nobody here watches the showing any more: stop tracking it. */
    forget(showingId: number) {
      clearTimeout(showings.get(showingId)?.timer);
      showings.delete(showingId);
    },
    close() {
      for (const showing of showings.values()) clearTimeout(showing.timer);
      showings.clear();
    },
  };
}
