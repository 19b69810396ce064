import type { Logger } from '../domain/ports.js';

/**
 * Runs `task` every `intervalMs`, never two at once; a failure is logged and the next run goes ahead.
 * `onRunEnded` hears the task's name after each run, succeeded or failed (whoever must know a sweep had
 * its chance: a test, a metric); what it throws is logged and changes nothing.
 */
export function every(
  intervalMs: number,
  task: () => Promise<unknown>,
  log: Logger,
  name: string,
  onRunEnded?: (name: string) => void,
) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    running = task()
      .then(
        () => undefined,
        (error: unknown) => log.error({ err: error, task: name }, 'periodic task failed'),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
        try {
          onRunEnded?.(name);
        } catch (error) {
          log.error({ err: error, task: name }, 'periodic task observer failed');
        }
      });
  };
  timer = setTimeout(tick, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
