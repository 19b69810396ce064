import { seatMapRepository } from '../../db/repositories/seat-map.js';
import { getShowing } from '../catalog/showings.js';
import type { Deps } from '../context.js';
import type { Actor } from '../model/actors.js';
import type { TicketStatus } from '../model/tickets.js';
import { paginate, type PageRequest } from '../pagination.js';

/** A showing's tickets for the cinema, released and cancelled ones included. */
export async function listTicketsOfShowing(
  deps: Deps,
  showingId: number,
  request: PageRequest & { status?: TicketStatus },
  viewer: Actor,
) {
  await getShowing(deps, showingId, viewer);
  return paginate(request, (keyset) =>
    seatMapRepository.tickets(deps.db, { showingId, status: request.status, ...keyset }),
  );
}
