import { expect } from 'chai';
import FakeTimers from '@sinonjs/fake-timers';
import type { Logger } from './ports.js';
import { THROTTLE_MS, warnThrottled } from './throttled-log.js';

function capturing(): Logger & { lines: unknown[] } {
  const lines: unknown[] = [];
  const write = (fields: object, message?: string) => {
    lines.push({ ...fields, message });
  };
  return { lines, debug: write, info: write, warn: write, error: write } as unknown as Logger & { lines: unknown[] };
}

describe('throttled warnings', () => {
  it('when one kind of trouble repeats, should log the first at once and then one line per period with how many were held back', () => {
    const clock = FakeTimers.install({ now: 0, toFake: ['Date'] });
    try {
      const log = capturing();
      for (let i = 0; i < 100; i += 1) warnThrottled(log, 'redis', { reason: 'ECONNREFUSED' }, 'Redis unavailable');
      warnThrottled(log, 'postgres', {}, 'PostgreSQL unavailable');
      clock.tick(THROTTLE_MS);
      warnThrottled(log, 'redis', { reason: 'ECONNREFUSED' }, 'Redis unavailable');
      expect(log.lines).to.deep.equal([
        { reason: 'ECONNREFUSED', kind: 'redis', message: 'Redis unavailable' },
        { kind: 'postgres', message: 'PostgreSQL unavailable' },
        { reason: 'ECONNREFUSED', kind: 'redis', heldBack: 99, message: 'Redis unavailable' },
      ]);
    } finally {
      clock.uninstall();
    }
  });
});
