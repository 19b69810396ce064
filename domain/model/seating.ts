import type { SeatCategory } from './layout.js';

/*
 * The vocabulary of "best available" seating, shared by the hall (its settings), the order (what a
 * "best N" order asks for) and the allocation (the hall as a plan of free seats). The rules that use
 * it: domain/seating/best-seats.ts.
 */

/** A hall's per-hall scoring settings (an admin can change them). */
export type SeatingRules = {
  /** Where the focal point sits between the front row (0) and the back row (1). */
  focalDepth: number;
  /** Weight of one row unit of distance from the focal row against one seat-position unit sideways. */
  rowWeight: number;
  /** Refuse explicit-seat orders that would leave a single orphan seat (used by callers; see orphansLeftBy). */
  refuseOrphans: boolean;
};
export const DEFAULT_SEATING_RULES: SeatingRules = { focalDepth: 0.6, rowWeight: 1, refuseOrphans: false };

export type PlanSeat = { id: number; number: number; x: number; width: number; category: SeatCategory; free: boolean };
/** Rows in any order; seats of a row sorted by x (callers pass them so; do not re-sort on the hot path). */
export type PlanRow = { label: string; y: number; seats: PlanSeat[] };
export type BestRequest = { count: number; category?: 'standard' | 'vip' | 'double'; accessible?: boolean };
