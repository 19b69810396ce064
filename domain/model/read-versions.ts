/** A showing's state as read caches key it: its seat-map version, and how many seats are taken at it. */
export type ShowingStamp = { seatVersion: number; taken: number };

/** The catalog's version and the stamps of the showings a reader asked about. */
export type ReadVersions = { catalog: number; showings: Map<number, ShowingStamp> };
