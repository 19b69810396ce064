import { pino } from 'pino';
import type { Logger } from '../domain/ports.js';

/**
 * pino, as the domain's Logger: JSON lines with the process id and whatever the caller binds, on
 * stdout unless given another destination (tests capture lines that way).
 */
export function createLogger(
  level: string,
  bindings: Record<string, unknown> = {},
  destination?: pino.DestinationStream,
): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings } }, destination);
}
