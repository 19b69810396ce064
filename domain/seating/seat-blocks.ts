import { orderQueueRepository } from '../../db/repositories/order-queue.js';
import { seatBlocksRepository } from '../../db/repositories/seat-blocks.js';
import { ticketsRepository } from '../../db/repositories/tickets.js';
import type { Deps } from '../context.js';
import { DomainError } from '../errors.js';
import { partitionOf } from '../model/partitions.js';
import { translateViolations } from '../violations.js';
import type { Actor } from '../model/actors.js';
import { asActor, ensureManages } from '../operators/acting.js';

const showingNotFound = (showingId: number) =>
  new DomainError('SHOWING_NOT_FOUND', `Showing ${showingId} does not exist`);

/** The seats of a showing the cinema took off sale, with their reasons, in drawing order. */
export async function listSeatBlocks(deps: Deps, showingId: number, viewer?: Actor) {
  const blocks = await deps.db.transaction(async (trx) => {
    await ensureManages(trx, viewer, { showingId });
    if (!(await seatBlocksRepository.showing(trx, showingId))) throw showingNotFound(showingId);
    return seatBlocksRepository.list(trx, showingId);
  });
  return { showingId, blocks };
}

/**
 * Takes seats of one showing off sale (a broken seat, staff, a camera). All or nothing: a seat held
 * or sold is refused (SEAT_TAKEN), and so is one blocked already (SEAT_BLOCKED). The partition's
 * arrival lock, taken exclusively, waits for an allocation under way and holds off the next until
 * the block commits, so no order is ever decided against a seat map the block is changing.
 */
export async function blockSeats(
  deps: Deps,
  actor: Actor,
  showingId: number,
  { seatIds, reason }: { seatIds: number[]; reason: string },
) {
  if (new Set(seatIds).size !== seatIds.length) {
    throw new DomainError('DUPLICATE_SEATS', 'A seat is listed more than once', { seatIds });
  }
  const delta = await asActor(deps, actor, async ({ db: trx }) => {
    await ensureManages(trx, actor, { showingId });
    await orderQueueRepository.lockArrivals(trx, partitionOf(showingId, deps.config.ALLOCATION_PARTITIONS));
    const showing = await seatBlocksRepository.showing(trx, showingId);
    if (!showing) throw showingNotFound(showingId);
    if (showing.cancelledAt || showing.startsAt.getTime() <= Date.now()) {
      throw new DomainError('SHOWING_NOT_ON_SALE', `Showing ${showingId} is not on sale`, {
        reason: showing.cancelledAt ? 'cancelled' : 'started',
      });
    }
    // The intake's cache: a hall's seats cannot change while it has showings.
    const hallSeats = await deps.saleCatalog.hallSeats(showing.hallId);
    const foreign = seatIds.filter((seatId) => !hallSeats.has(seatId));
    if (foreign.length > 0) {
      throw new DomainError('SEAT_NOT_IN_HALL', "Some seats are not in the showing's hall", { seatIds: foreign });
    }
    const unavailable = await ticketsRepository.unavailableAmong(
      trx,
      seatIds.map(() => showingId),
      seatIds,
    );
    if (unavailable.length > 0) {
      // Both kinds named at once, so that one correction does; the code says the graver one.
      const taken = unavailable.filter((seat) => !seat.blocked).map((seat) => seat.seatId);
      const blocked = unavailable.filter((seat) => seat.blocked).map((seat) => seat.seatId);
      throw taken.length > 0
        ? new DomainError('SEAT_TAKEN', 'Some seats are held or sold; cancel their orders first', {
            seatIds: taken,
            blockedSeatIds: blocked,
          })
        : new DomainError('SEAT_BLOCKED', 'Some seats are blocked already', { seatIds: blocked });
    }
    return translateViolations(() => seatBlocksRepository.insert(trx, showing, seatIds, reason), {
      seat_blocks_seat_free: () => new DomainError('SEAT_TAKEN', 'Some seats are held or sold', { seatIds }),
    });
  });
  await deps.events.publish([], [delta]);
  return listSeatBlocks(deps, showingId, actor);
}

/** Puts a blocked seat back on sale. */
export async function unblockSeat(deps: Deps, actor: Actor, showingId: number, seatId: number): Promise<void> {
  const delta = await asActor(deps, actor, async ({ db: trx }) => {
    await ensureManages(trx, actor, { showingId });
    if (!(await seatBlocksRepository.showing(trx, showingId))) throw showingNotFound(showingId);
    return seatBlocksRepository.delete(trx, showingId, seatId);
  });
  if (!delta) throw new DomainError('BLOCK_NOT_FOUND', `Seat ${seatId} is not blocked for showing ${showingId}`);
  await deps.events.publish([], [delta]);
}
