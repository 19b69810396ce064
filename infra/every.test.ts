import FakeTimers, { type Clock } from '@sinonjs/fake-timers';
import { expect } from 'chai';
import type { Logger } from '../domain/ports.js';
import { every } from './every.js';

/** A logger that keeps what was logged as errors. */
function recordingLog() {
  const errors: { fields: unknown; message: unknown }[] = [];
  const ignore = () => {};
  const log: Logger = {
    debug: ignore,
    info: ignore,
    warn: ignore,
    error: (fields: unknown, message?: unknown) => void errors.push({ fields, message }),
  };
  return { log, errors };
}

/** A task whose runs end only when the test ends them. */
function heldTask() {
  const ends: ((failure?: Error) => void)[] = [];
  let runs = 0;
  const task = () => {
    runs += 1;
    return new Promise<void>((resolve, reject) => ends.push((failure) => (failure ? reject(failure) : resolve())));
  };
  return {
    task,
    get runs() {
      return runs;
    },
    end: (failure?: Error) => ends.shift()!(failure),
  };
}

describe('every', () => {
  let clock: Clock;
  beforeEach(() => {
    clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => clock.uninstall());

  it('when started, should run the task after one interval, then one interval after each run ended, never two at once', async () => {
    const held = heldTask();
    const timer = every(100, held.task, recordingLog().log, 'sweep');
    await clock.tickAsync(99);
    expect(held.runs).to.equal(0);
    await clock.tickAsync(1);
    expect(held.runs).to.equal(1);
    await clock.tickAsync(1_000);
    expect(held.runs, 'a run under way holds the next one back').to.equal(1);
    held.end();
    await clock.tickAsync(99);
    expect(held.runs).to.equal(1);
    await clock.tickAsync(1);
    expect(held.runs).to.equal(2);
    held.end();
    await clock.tickAsync(0);
    await timer.stop();
  });

  it('when a run fails, should log the failure with the task name and run again', async () => {
    const held = heldTask();
    const { log, errors } = recordingLog();
    const timer = every(100, held.task, log, 'sweep');
    await clock.tickAsync(100);
    const failure = new Error('database away');
    held.end(failure);
    await clock.tickAsync(0);
    expect(errors).to.deep.equal([{ fields: { err: failure, task: 'sweep' }, message: 'periodic task failed' }]);
    await clock.tickAsync(100);
    expect(held.runs).to.equal(2);
    held.end();
    await timer.stop();
  });

  it('when runs are observed, should tell the observer after each run ended, succeeded or failed, with its name', async () => {
    const held = heldTask();
    const seen: string[] = [];
    const timer = every(100, held.task, recordingLog().log, 'order sweeps', (name) => seen.push(name));
    try {
      await clock.tickAsync(100);
      expect(seen, 'the run has not ended').to.deep.equal([]);
      held.end();
      await clock.tickAsync(0);
      expect(seen).to.deep.equal(['order sweeps']);
      await clock.tickAsync(100);
      held.end(new Error('failed runs end too'));
      await clock.tickAsync(0);
      expect(seen).to.deep.equal(['order sweeps', 'order sweeps']);
      expect(held.runs).to.equal(2);
    } finally {
      await timer.stop();
    }
  });

  it('when an observer throws, should log it and keep running the task', async () => {
    const held = heldTask();
    const { log, errors } = recordingLog();
    const timer = every(100, held.task, log, 'sweep', () => {
      throw new Error('observer bug');
    });
    try {
      await clock.tickAsync(100);
      held.end();
      await clock.tickAsync(100);
      expect(held.runs).to.equal(2);
      expect(errors.map((error) => error.message)).to.deep.equal(['periodic task observer failed']);
      held.end();
    } finally {
      await timer.stop();
    }
  });

  it('when stopped during a run, should wait for that run and start no other', async () => {
    const held = heldTask();
    const timer = every(100, held.task, recordingLog().log, 'sweep');
    await clock.tickAsync(100);
    let stopped = false;
    const stopping = timer.stop().then(() => (stopped = true));
    await clock.tickAsync(0);
    expect(stopped, 'the run is still under way').to.equal(false);
    held.end();
    await stopping;
    await clock.tickAsync(1_000);
    expect(held.runs).to.equal(1);
    expect(clock.countTimers()).to.equal(0);
  });
});
