const formatters = new Map<string, Intl.DateTimeFormat>();

function partsIn(timezone: string, instant: number) {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timezone, formatter);
  }
  const parts = Object.fromEntries(formatter.formatToParts(instant).map((part) => [part.type, part.value]));
  return { date: `${parts.year}-${parts.month}-${parts.day}`, ...parts } as Record<string, string> & { date: string };
}

/** The calendar date (YYYY-MM-DD) it is in the zone at that instant. */
export function localDate(timezone: string, instant: number = Date.now()): string {
  return partsIn(timezone, instant).date;
}

function offsetMs(timezone: string, instant: number): number {
  const p = partsIn(timezone, instant);
  return (
    Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!, +p.second!) - Math.floor(instant / 1000) * 1000
  );
}

/** The instant of a wall-clock time (minutes after midnight) on a local date in the zone. */
export function zonedInstant(date: string, minutesAfterMidnight: number, timezone: string): Date {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const wallClockAsUtc = Date.UTC(year, month - 1, day, 0, minutesAfterMidnight);
  const guess = wallClockAsUtc - offsetMs(timezone, wallClockAsUtc);
  // Near a DST change the offset at the guess can differ from the offset at the wall-clock time.
  return new Date(wallClockAsUtc - offsetMs(timezone, guess));
}

export function addDays(date: string, days: number): string {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}
