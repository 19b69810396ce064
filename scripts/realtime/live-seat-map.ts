/**
 * A client's copy of one showing's seat map, kept current from seats:update deltas. A delta one
 * version ahead is applied; an older one is ignored; one further ahead means deltas were missed (a
 * reconnect, a lost message), and the map is fetched again from the REST snapshot, which carries the
 * version it shows.
 */
export type SeatStatus = 'free' | 'held' | 'sold';
export type SeatsUpdate = { showingId: number; version: number; seats: { id: number; status: SeatStatus }[] };
type Snapshot = { version: number; seats: Map<number, SeatStatus> };

/** The body of GET /showings/:id/seats, as far as a live map needs it. */
export type SeatMapBody = { version: number; rows: { seats: { id: number; status: SeatStatus }[] }[] };

export const snapshotOf = (body: SeatMapBody): Snapshot => ({
  version: body.version,
  seats: new Map(body.rows.flatMap((row) => row.seats.map((seat) => [seat.id, seat.status] as const))),
});

export class LiveSeatMap {
  version = -1;
  readonly seats = new Map<number, SeatStatus>();
  /** Deltas that arrived while a snapshot was being fetched. */
  private pending: SeatsUpdate[] = [];
  private fetching: Promise<void> | undefined;
  repairs = 0;

  constructor(private readonly fetchSnapshot: () => Promise<Snapshot>) {}

  /** Loads the map (first time, or after a gap); resolves once it is current. */
  repair(): Promise<void> {
    this.fetching ??= (async () => {
      try {
        const snapshot = await this.fetchSnapshot();
        this.seats.clear();
        for (const [id, status] of snapshot.seats) this.seats.set(id, status);
        this.version = snapshot.version;
        this.repairs += 1;
      } catch {
        // The snapshot could not be read: the map stays as it was, and the buffered deltas wait for
        // the next attempt (the next delta, or the next resume).
        return;
      } finally {
        this.fetching = undefined;
      }
      const pending = this.pending.sort((a, b) => a.version - b.version);
      this.pending = [];
      for (const delta of pending) this.apply(delta);
    })();
    return this.fetching;
  }

  apply(delta: SeatsUpdate): void {
    if (this.fetching) {
      this.pending.push(delta);
      return;
    }
    if (delta.version <= this.version) return;
    if (delta.version > this.version + 1) {
      this.pending.push(delta);
      void this.repair();
      return;
    }
    for (const seat of delta.seats) this.seats.set(seat.id, seat.status);
    this.version = delta.version;
  }

  /**
   * After (re)subscribing: the server's version tells whether anything was missed meanwhile. Deltas
   * may arrive before the answer, so a map already at or past that version is current.
   */
  async resume(serverVersion: number): Promise<void> {
    if (serverVersion > this.version) await this.repair();
  }
}
