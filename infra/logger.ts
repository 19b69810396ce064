import { pino } from 'pino';
import type { Logger } from '../domain/ports.js';

/** pino, as the domain's Logger: JSON lines with the process id and whatever the caller binds. */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings } });
}
