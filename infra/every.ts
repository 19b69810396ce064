import type { Logger } from '../domain/ports.js';

/** Runs `task` every `intervalMs`, never two at once; a failure is logged and the next run goes ahead. */
export function every(intervalMs: number, task: () => Promise<unknown>, log: Logger, name: string) {
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
