/** Seat categories: a double (love) seat spans two positions; a wheelchair space is sold on request. */
export const SEAT_CATEGORIES = ['standard', 'vip', 'double', 'wheelchair'] as const;
export type SeatCategory = (typeof SEAT_CATEGORIES)[number];

/** A hall's rows as stored: seats positioned for drawing. */
export type LayoutSeat = { number: number; x: number; width: number; category: SeatCategory };
export type LayoutRow = { label: string; y: number; seats: LayoutSeat[] };
export type StoredSeat = LayoutSeat & { id: number };
export type StoredRow = { id: number; label: string; y: number; seats: StoredSeat[] };
