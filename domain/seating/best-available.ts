import type { Deps } from '../context.js';
import { DomainError } from '../errors.js';
import type { SeatMap } from '../orders/seat-map-reads.js';
import type { BestRequest, PlanRow, SeatingRules } from '../model/seating.js';
import { bestSeats, withDefaultCategory, type SeatGroup } from './best-seats.js';

/** A seat of a suggestion, as a buyer would pick it on the map. */
type SuggestedSeat = { id: number; row: string; number: number; category: string; price: number | null };

/** The seat map as the best-seat search sees it: free means no ticket and no block. */
function planOf(map: SeatMap): PlanRow[] {
  return map.rows.map((row) => ({
    label: row.label,
    y: row.y,
    seats: row.seats.map((seat) => ({
      id: seat.id,
      number: seat.number,
      x: seat.x,
      width: seat.width,
      category: seat.category as PlanRow['seats'][number]['category'],
      free: seat.status === 'free',
    })),
  }));
}

function seatsOf(map: SeatMap, group: SeatGroup): SuggestedSeat[] {
  const row = map.rows.find((candidate) => candidate.label === group.row)!;
  return group.seatIds.map((seatId) => {
    const seat = row.seats.find((candidate) => candidate.id === seatId)!;
    return { id: seat.id, row: row.label, number: seat.number, category: seat.category, price: seat.price };
  });
}

const totalOf = (seats: SuggestedSeat[]) =>
  seats.every((seat) => seat.price !== null) ? seats.reduce((sum, seat) => sum + seat.price!, 0) : null;

/** The best seats together in one showing's map, or why there are none (with the split options to offer). */
function suggestionIn(map: SeatMap, seating: SeatingRules, request: BestRequest) {
  const plan = planOf(map);
  const answer = bestSeats(plan, withDefaultCategory(plan, request), seating);
  if (answer.rule === 'split' || answer.rule === 'none') return answer;
  const seats = seatsOf(map, answer.group);
  return {
    rule: answer.rule,
    explanation: answer.explanation,
    row: answer.group.row,
    score: answer.group.score,
    seats,
    total: totalOf(seats),
  };
}

/**
 * The best N seats together in a showing, chosen as the allocation would choose them now (an
 * order for "best N" gets whatever is best at its turn, which this only previews). Never a silent
 * split: when no N seats sit together the answer is NO_SEATS_TOGETHER with the best split options.
 */
export async function suggestBestSeats(deps: Deps, showingId: number, request: BestRequest) {
  const [found] = await deps.seatMaps.withSeating([showingId]);
  if (!found) throw new DomainError('SHOWING_NOT_FOUND', `Showing ${showingId} does not exist`);
  const { map, seating, sale } = found;
  if (sale.cancelledAt || sale.startsAt.getTime() <= Date.now()) {
    throw new DomainError('SHOWING_NOT_ON_SALE', `Showing ${showingId} is not on sale`, {
      reason: sale.cancelledAt ? 'cancelled' : 'started',
    });
  }
  const suggestion = suggestionIn(map, seating, request);
  if (suggestion.rule === 'none') {
    throw new DomainError('NOT_ENOUGH_SEATS', `Showing ${showingId} cannot seat ${request.count} people, even split`, {
      freeSeats: map.freeSeats,
      explanation: suggestion.explanation,
    });
  }
  if (suggestion.rule === 'split') {
    throw new DomainError('NO_SEATS_TOGETHER', `No ${request.count} seats sit together in showing ${showingId}`, {
      explanation: suggestion.explanation,
      splitOptions: suggestion.options.map((option) => ({
        split: true,
        score: option.score,
        groups: option.groups.map((group) => ({ row: group.row, score: group.score, seats: seatsOf(map, group) })),
      })),
    });
  }
  return { showingId, version: map.version, count: request.count, currency: map.currency, ...suggestion };
}

/**
 * The showings of a film in a city on a day (the cinema's local day) that still have N seats
 * together, each with its best seats: by start time, then by how good those seats are. Exact as of
 * the request, like the schedule and the seat maps it is read from.
 */
export async function searchSeatsTogether(
  deps: Deps,
  query: { cityId: number; filmId: number; date: string } & BestRequest,
) {
  const { value: schedule } = await deps.schedules.read(query);
  const now = Date.now();
  const showings = schedule.cinemas.flatMap((cinema) =>
    cinema.films.flatMap((film) =>
      film.showings
        .filter((showing) => showing.freeSeats >= query.count && showing.startsAt.getTime() > now)
        .map((showing) => ({ cinema, showing })),
    ),
  );
  const maps = new Map(
    (await deps.seatMaps.withSeating(showings.map(({ showing }) => showing.showingId))).map((found) => [
      found.map.showingId,
      found,
    ]),
  );
  const found = showings.flatMap(({ cinema, showing }) => {
    const read = maps.get(showing.showingId);
    const suggestion = read && suggestionIn(read.map, read.seating, query);
    if (!suggestion || suggestion.rule === 'split' || suggestion.rule === 'none') return [];
    return [
      {
        showingId: showing.showingId,
        cinemaId: cinema.cinemaId,
        cinemaName: cinema.name,
        hallId: showing.hallId,
        hallName: showing.hallName,
        startsAt: showing.startsAt,
        localStartTime: showing.localStartTime,
        currency: showing.currency,
        ...suggestion,
      },
    ];
  });
  found.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime() || a.score - b.score || a.showingId - b.showingId);
  return { cityId: query.cityId, filmId: query.filmId, date: query.date, count: query.count, showings: found };
}
