import { seatMapRepository } from '../../db/repositories/seat-map.js';
import { seatVersionsRepository } from '../../db/repositories/seat-versions.js';
import type { Deps } from '../context.js';
import { getShowing } from '../catalog/showings.js';
import { showingsRepository } from '../../db/repositories/showings.js';
import { foundOr } from '../errors.js';
import { seatStatusOf, type TicketStatus } from '../model/tickets.js';
import { paginate, type PageRequest } from '../pagination.js';

/**
 * The hall drawn for one showing: every seat with its price and whether it can still be bought, and
 * the seat-map version it shows (read in one snapshot), from which live deltas continue.
 */
export async function getSeatMap(deps: Deps, showingId: number) {
  const { showing, seats, version } = await deps.db.transaction(
    async (trx) => {
      const showing = foundOr(await showingsRepository.get(trx, showingId), 'SHOWING_NOT_FOUND', 'Showing', showingId);
      const [seats, version] = [
        await seatMapRepository.seatStates(trx, showingId),
        await seatVersionsRepository.version(trx, showingId),
      ];
      return { showing, seats, version: version ?? 0 };
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
  const rows = new Map<number, { label: string; y: number; seats: unknown[] }>();
  for (const seat of seats) {
    const row = rows.get(seat.rowId) ?? { label: seat.row, y: seat.y, seats: [] };
    row.seats.push({
      id: seat.id,
      number: seat.number,
      x: seat.x,
      width: seat.width,
      category: seat.category,
      price: showing.prices[seat.category] ?? null,
      status: seatStatusOf(seat.status),
    });
    rows.set(seat.rowId, row);
  }
  return {
    showingId: showing.id,
    version,
    hallId: showing.hallId,
    currency: showing.currency,
    freeSeats: seats.filter((seat) => seat.status === null).length,
    rows: [...rows.values()],
  };
}

/** The showing's current seat-map version (SHOWING_NOT_FOUND for no such showing). */
export async function getSeatMapVersion(deps: Deps, showingId: number): Promise<number> {
  return foundOr(await seatVersionsRepository.version(deps.db, showingId), 'SHOWING_NOT_FOUND', 'Showing', showingId);
}

export async function listTicketsOfShowing(
  deps: Deps,
  showingId: number,
  request: PageRequest & { status?: TicketStatus },
) {
  await getShowing(deps, showingId);
  return paginate(request, (keyset) =>
    seatMapRepository.tickets(deps.db, { showingId, status: request.status, ...keyset }),
  );
}
