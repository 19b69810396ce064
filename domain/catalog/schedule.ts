import type { Deps } from '../context.js';
import type { ScheduleQuery } from './schedule-reads.js';

/**
 * A city's showings on a calendar date, grouped cinema → film → showing, with free seats. The date is
 * read in each cinema's own time zone, so a late show in one zone is not moved to the next day by
 * another's. Exact as of the request's arrival.
 */
export const getSchedule = (deps: Deps, query: ScheduleQuery) => deps.schedules.read(query);
