import type { Deps } from '../context.js';

/**
 * The hall drawn for one showing: every seat with its price and whether it can still be bought, and
 * the seat-map version it shows, from which live deltas continue. Exact as of the request's arrival.
 */
export const getSeatMap = (deps: Deps, showingId: number) => deps.seatMaps.read(showingId);

/** The showing's current seat-map version (SHOWING_NOT_FOUND for no such showing). */
export const getSeatMapVersion = (deps: Deps, showingId: number) => deps.seatMaps.version(showingId);
