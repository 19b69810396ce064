import type { Db } from '../../db/connection.js';
import { readVersionsRepository } from '../../db/repositories/read-versions.js';
import { seatMapRepository, type SeatMapShowing, type SeatStateRow } from '../../db/repositories/seat-map.js';
import type { VersionProbe } from '../catalog/read-versions.js';
import { setBounded } from '../bounded.js';
import { DomainError } from '../errors.js';
import { deepFreeze, type TaggedRead } from '../frozen.js';
import { seatStatusOf, type SeatDelta, type SeatStatus } from '../model/tickets.js';
import type { ReadVersions } from '../model/read-versions.js';
import type { SaleEvents } from '../ports.js';
import type { SeatingRules } from '../model/seating.js';

export type SeatMap = {
  showingId: number;
  /** The seat-map version this snapshot shows; live seats:update deltas continue from it. */
  version: number;
  hallId: number;
  currency: string;
  freeSeats: number;
  rows: {
    label: string;
    y: number;
    seats: {
      id: number;
      number: number;
      x: number;
      width: number;
      category: string;
      price: number | null;
      status: SeatStatus;
    }[];
  }[];
};

/** When a showing's sale ends: at its start, or at its cancellation. */
export type ShowingSale = { startsAt: Date; cancelledAt: Date | null };

/** A seat map at one seat-map version, drawn with the prices of one catalog version. */
type Snapshot = {
  map: SeatMap;
  seatVersion: number;
  catalog: number;
  /** The hall's best-available settings and the showing's sale times: catalog data, the same for one catalog version. */
  seating: SeatingRules;
  sale: ShowingSale;
  /** Where each seat is in the map's rows: the same in every version drawn from one catalog version. */
  seatAt: Map<number, { row: number; seat: number }>;
  /**
   * Read from the database or brought to a version a probe named along with this catalog version: a
   * state that existed. The intake's hint brings maps forward without a probe, so one of those may
   * pair newer seats with an older catalog (prices changed meanwhile) and is never served as is.
   */
  verified: boolean;
};

/** Seat maps this process keeps: the latest of each showing read, at most this many showings. */
const MAX_SHOWINGS = 5_000;
/**
 * How long a read waits for the deltas of versions it probed but has not heard of yet: a
 * transaction publishes them right after its commit, so they are usually a few milliseconds away.
 * Past this, the map is read from the database instead.
 */
const DELTA_WAIT_MS = 50;
/** A map nobody reads while its seats keep changing is forgotten past this many unapplied deltas (read again when asked). */
const MAX_PENDING_DELTAS = 200;
/** heldTaken() reads through at most this many heard deltas before it brings the held map forward. */
const ADVANCE_HELD_EVERY = 32;

const notFound = (showingId: number) => new DomainError('SHOWING_NOT_FOUND', `Showing ${showingId} does not exist`);

export type SeatMaps = ReturnType<typeof createSeatMaps>;

/**
 * The seat maps of one process. Every read asks the version probe (a statement that starts after
 * the request arrived) for the showing's seat-map version and the catalog's version, so an answer
 * is never older than what was committed when the request arrived, and is always one consistent
 * version of the map. A map this process holds at an older version is brought forward with the
 * seat deltas every transaction publishes after its commit (one per version, contiguous per
 * showing); a version whose delta never comes (a publication lost, a writer that publishes nothing)
 * and any catalog change (prices, a cancellation) make it read the map again.
 */
export function createSeatMaps(db: Db, versions: VersionProbe, events: SaleEvents) {
  const latest = new Map<number, Snapshot>();
  const loading = new Map<number, Promise<Snapshot>>();
  /** Deltas heard for the showings held, by showing and version, not yet applied. */
  const deltas = new Map<number, Map<number, SeatDelta>>();
  const waiters = new Map<number, Set<() => void>>();
  let listening: Promise<unknown> | undefined;

  const hear = (delta: SeatDelta) => {
    const held = latest.get(delta.showingId);
    if (held ? delta.version <= held.seatVersion : !loading.has(delta.showingId)) return;
    const ofShowing = deltas.get(delta.showingId) ?? new Map<number, SeatDelta>();
    ofShowing.set(delta.version, delta);
    deltas.set(delta.showingId, ofShowing);
    if (ofShowing.size > MAX_PENDING_DELTAS) {
      latest.delete(delta.showingId);
      deltas.delete(delta.showingId);
    }
    for (const wake of waiters.get(delta.showingId) ?? []) wake();
  };

  /** Reads these showings' maps in one statement each for all of them; each read is found under `loading` while under way. */
  const load = (showingIds: number[]): Promise<Snapshot>[] => {
    const reading = readSnapshots(db, showingIds);
    return showingIds.map((showingId) => {
      const one = reading
        .then((snapshots) => snapshots.get(showingId) ?? Promise.reject(notFound(showingId)))
        .finally(() => {
          if (loading.get(showingId) === one) loading.delete(showingId);
        });
      loading.set(showingId, one);
      return one;
    });
  };
  const loadOne = (showingId: number) => load([showingId])[0]!;

  const remember = (showingId: number, snapshot: Snapshot) => {
    const held = latest.get(showingId);
    if (held && newer(held, snapshot)) return;
    const pushedOut = setBounded(latest, MAX_SHOWINGS, showingId, snapshot);
    if (pushedOut !== undefined) deltas.delete(pushedOut);
    const ofShowing = deltas.get(showingId);
    for (const version of ofShowing?.keys() ?? []) if (version <= snapshot.seatVersion) ofShowing!.delete(version);
    // Reads waiting for deltas this map has made unnecessary (and dropped) go on from it.
    for (const wake of waiters.get(showingId) ?? []) wake();
  };

  /** The snapshot brought to `target` with the deltas heard, or undefined while one is missing. */
  const advanced = (snapshot: Snapshot, target: number): Snapshot | undefined => {
    const ofShowing = deltas.get(snapshot.map.showingId);
    const steps: SeatDelta[] = [];
    for (let version = snapshot.seatVersion + 1; version <= target; version += 1) {
      const delta = ofShowing?.get(version);
      if (!delta) return undefined;
      steps.push(delta);
    }
    return { ...snapshot, map: deepFreeze(applied(snapshot, steps)), seatVersion: target };
  };

  /** Waits up to DELTA_WAIT_MS for the deltas that bring the snapshot to `target`. */
  const awaitDeltas = (snapshot: Snapshot, target: number): Promise<Snapshot | undefined> =>
    new Promise((resolve) => {
      const showingId = snapshot.map.showingId;
      const forShowing = waiters.get(showingId) ?? new Set<() => void>();
      waiters.set(showingId, forShowing);
      const finish = (result: Snapshot | undefined) => {
        clearTimeout(timer);
        forShowing.delete(check);
        if (forShowing.size === 0) waiters.delete(showingId);
        resolve(result);
      };
      const check = () => {
        // Another read may have stored a later map meanwhile, dropping the deltas below it.
        const held = latest.get(showingId);
        if (held && held.verified && held.catalog >= snapshot.catalog && held.seatVersion >= target)
          return finish(held);
        const base =
          held &&
          held.catalog === snapshot.catalog &&
          held.seatVersion > snapshot.seatVersion &&
          held.seatVersion <= target
            ? held
            : snapshot;
        const brought = base.seatVersion === target ? base : advanced(base, target);
        if (brought) finish(brought);
      };
      const timer = setTimeout(() => finish(undefined), DELTA_WAIT_MS);
      forShowing.add(check);
      check();
    });

  /** The map this process holds of the showing; one it does not hold is read in the background, for the next requests. */
  const heldOrLoading = (showingId: number): Snapshot | undefined => {
    void hearDeltas();
    const snapshot = latest.get(showingId);
    if (!snapshot && !loading.has(showingId)) {
      loadOne(showingId).then(
        (read) => remember(showingId, read),
        () => undefined,
      );
    }
    return snapshot;
  };

  /** Starts hearing the deltas, once; without them (Redis away) reads still answer exactly, by reading changed maps again. */
  const hearDeltas = () => {
    listening ??= events.listen(({ seats }) => seats.forEach(hear)).catch(() => (listening = undefined));
    return listening;
  };

  /** The showing's map as of the probe: the one held, brought forward, or read again. */
  const current = async (showingId: number, probed: ReadVersions): Promise<Snapshot> => {
    const stamp = probed.showings.get(showingId);
    if (!stamp) throw notFound(showingId);
    let snapshot = latest.get(showingId);
    if (!snapshot || snapshot.catalog < probed.catalog) {
      // A read already under way may have started before this request's probe: use it only if
      // it shows at least the probed state.
      // Someone else's read that failed is no answer to this one: it reads for itself.
      const pending = await loading.get(showingId)?.catch(() => undefined);
      const fresh = pending && pending.catalog >= probed.catalog && pending.seatVersion >= stamp.seatVersion;
      snapshot = fresh ? pending : await loadOne(showingId);
    } else if (snapshot.seatVersion < stamp.seatVersion) {
      const brought = advanced(snapshot, stamp.seatVersion) ?? (await awaitDeltas(snapshot, stamp.seatVersion));
      snapshot = brought ? { ...brought, verified: true } : await loadOne(showingId);
    } else if (snapshot.seatVersion > stamp.seatVersion && !snapshot.verified) {
      snapshot = await loadOne(showingId);
    }
    remember(showingId, snapshot);
    return snapshot;
  };

  return {
    async read(showingId: number): Promise<TaggedRead<SeatMap>> {
      await hearDeltas();
      const snapshot = await current(showingId, await versions.of([showingId]));
      return { value: snapshot.map, tag: `${snapshot.seatVersion}-${snapshot.catalog}` };
    },

    /**
     * The maps of these showings with their hall's seating settings, exact as of one probe for all
     * of them (what best-available answers are chosen from). Showings that do not exist are left out.
     */
    async withSeating(showingIds: number[]): Promise<{ map: SeatMap; seating: SeatingRules; sale: ShowingSale }[]> {
      await hearDeltas();
      const probed = await versions.of(showingIds);
      const found = showingIds.filter((showingId) => probed.showings.has(showingId));
      // The maps this process does not hold at the probed catalog version are read together (a
      // catalog write makes every map read again: one statement for a search's hundred, not a hundred).
      const unheld = found.filter((showingId) => {
        const held = latest.get(showingId);
        return (!held || held.catalog < probed.catalog) && !loading.has(showingId);
      });
      if (unheld.length > 1) load(unheld).forEach((read) => read.catch(() => undefined));
      const snapshots = await Promise.all(found.map((showingId) => current(showingId, probed)));
      return snapshots.map(({ map, seating, sale }) => ({ map, seating, sale }));
    },

    /**
     * The seats among these that the map this process holds shows taken, without asking the
     * database: brought forward with every delta heard, so at most a publication behind, a hint
     * only (read() is exact). A showing not held yet is read in the background, for the next requests.
     */
    heldTaken(showingId: number, seatIds: number[]): number[] {
      let snapshot = heldOrLoading(showingId);
      if (!snapshot) return [];
      // The deltas heard since, in order, decide the seats they name; the map itself is brought
      // forward only every few of them (drawing a new map per order cost 6 % of a process's CPU).
      const heard = deltas.get(showingId);
      let furthest = snapshot.seatVersion;
      while (heard?.has(furthest + 1)) furthest += 1;
      if (furthest - snapshot.seatVersion >= ADVANCE_HELD_EVERY) {
        snapshot = { ...advanced(snapshot, furthest)!, verified: false };
        remember(showingId, snapshot);
      }
      const { map, seatAt, seatVersion } = snapshot;
      const statusNow = (seatId: number) => {
        for (let version = furthest; version > seatVersion; version -= 1) {
          const changed = heard!.get(version)!.seats.find((seat) => seat.id === seatId);
          if (changed) return changed.status;
        }
        const at = seatAt.get(seatId);
        return at && map.rows[at.row]!.seats[at.seat]!.status;
      };
      return seatIds.filter((seatId) => statusNow(seatId) !== 'free');
    },

    /**
     * How many seats the map this process holds shows free, without asking the database: a hint
     * only, as heldTaken's (undefined while the showing is not held yet).
     */
    heldFreeSeats: (showingId: number): number | undefined => heldOrLoading(showingId)?.map.freeSeats,

    /** The showing's current seat-map version (what a live subscription continues from). */
    async version(showingId: number): Promise<number> {
      const stamp = (await versions.of([showingId])).showings.get(showingId);
      if (!stamp) throw notFound(showingId);
      return stamp.seatVersion;
    },
  };
}

/** The maps of these showings, all read in one snapshot; a showing that does not exist is left out. */
async function readSnapshots(db: Db, showingIds: number[]): Promise<Map<number, Snapshot>> {
  return db.transaction(
    async (trx) => {
      const showings = await seatMapRepository.showings(trx, showingIds);
      if (showings.length === 0) return new Map();
      const [seats, catalog] = [
        await seatMapRepository.seatStates(
          trx,
          showings.map((showing) => showing.id),
        ),
        await readVersionsRepository.catalog(trx),
      ];
      const seatsByShowing = new Map<number, SeatStateRow[]>();
      for (const seat of seats) {
        const ofShowing = seatsByShowing.get(seat.showingId) ?? [];
        ofShowing.push(seat);
        seatsByShowing.set(seat.showingId, ofShowing);
      }
      return new Map(
        showings.map((showing) => [showing.id, snapshotOf(showing, seatsByShowing.get(showing.id) ?? [], catalog)]),
      );
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}

function snapshotOf(showing: SeatMapShowing, seats: SeatStateRow[], catalog: number): Snapshot {
  const map = deepFreeze(drawn(showing, seats));
  const seatAt = new Map(
    map.rows.flatMap((row, rowIndex) =>
      row.seats.map((seat, seatIndex) => [seat.id, { row: rowIndex, seat: seatIndex }]),
    ),
  );
  const sale = { startsAt: showing.startsAt, cancelledAt: showing.cancelledAt };
  return { map, seatVersion: showing.seatVersion, catalog, seating: showing.seating, sale, seatAt, verified: true };
}

/** The hall drawn for the showing: rows in drawing order, each seat with its price and status. */
function drawn(showing: SeatMapShowing, seats: SeatStateRow[]): SeatMap {
  const rows = new Map<number, SeatMap['rows'][number]>();
  for (const seat of seats) {
    const row = rows.get(seat.rowId) ?? { label: seat.row, y: seat.y, seats: [] };
    row.seats.push({
      id: seat.id,
      number: seat.number,
      x: seat.x,
      width: seat.width,
      category: seat.category,
      price: showing.prices[seat.category] ?? null,
      status: seat.blocked ? 'blocked' : seatStatusOf(seat.status),
    });
    rows.set(seat.rowId, row);
  }
  return {
    showingId: showing.id,
    version: showing.seatVersion,
    hallId: showing.hallId,
    currency: showing.currency,
    freeSeats: seats.filter((seat) => seat.status === null && !seat.blocked).length,
    rows: [...rows.values()],
  };
}

/** Whether `a` shows a later state than `b`: a later catalog first, then a later seat version; a verified map over one that is not. */
function newer(a: Snapshot, b: Snapshot): boolean {
  if (a.catalog !== b.catalog) return a.catalog > b.catalog;
  if (a.seatVersion !== b.seatVersion) return a.seatVersion > b.seatVersion;
  return a.verified && !b.verified;
}

/**
 * The map after these deltas, in version order: the seats they name take their new status. Only the
 * rows holding those seats are copied; every other row and seat stays the same (frozen) object, so
 * the new version shares them, and their JSON, with the previous one.
 */
function applied({ map, seatAt }: Snapshot, steps: SeatDelta[]): SeatMap {
  const statuses = new Map<number, SeatStatus>();
  for (const step of steps) for (const seat of step.seats) statuses.set(seat.id, seat.status);
  const rows = [...map.rows];
  let freeSeats = map.freeSeats;
  for (const [seatId, status] of statuses) {
    const at = seatAt.get(seatId);
    if (!at) continue;
    const row = rows[at.row]!;
    const seat = row.seats[at.seat]!;
    if (seat.status === status) continue;
    freeSeats += (status === 'free' ? 1 : 0) - (seat.status === 'free' ? 1 : 0);
    const seats = [...row.seats];
    seats[at.seat] = { ...seat, status };
    rows[at.row] = { ...row, seats };
  }
  return { ...map, version: steps.at(-1)!.version, freeSeats, rows };
}
