import FakeTimers, { type Clock } from '@sinonjs/fake-timers';
import { expect } from 'chai';
import { createBatcher } from './batcher.js';

/** A batcher allowing one flush at a time whose first flush hangs until `release()`. */
function firstFlushHeld(maxSize: number) {
  const flushes: number[][] = [];
  let release = () => {};
  const batcher = createBatcher<number, number>(
    async (items) => {
      flushes.push(items);
      if (flushes.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return items;
    },
    { windowMs: 2, maxSize, maxInFlight: 1 },
  );
  return { batcher, flushes, release: () => release() };
}

describe('batcher', () => {
  // Windows open and close on a fake clock: time moves only when a test says so.
  let clock: Clock;
  beforeEach(() => {
    clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => clock.uninstall());

  it('when items arrive within one window, should flush them together once the window closes and answer each in order', async () => {
    const flushes: number[][] = [];
    const batcher = createBatcher<number, number>(
      async (items) => (flushes.push(items), items.map((item) => item * 2)),
      { windowMs: 5, maxSize: 100 },
    );
    const results = Promise.all([1, 2, 3].map((item) => batcher.add(item)));
    await clock.tickAsync(4);
    expect(flushes, 'the window is still open').to.deep.equal([]);
    await clock.tickAsync(1);
    expect(flushes).to.deep.equal([[1, 2, 3]]);
    expect(await results).to.deep.equal([2, 4, 6]);
  });

  it('when maxSize items are waiting, should flush them at once without waiting for the window', async () => {
    const flushes: number[][] = [];
    const batcher = createBatcher<number, number>(async (items) => (flushes.push(items), items), {
      windowMs: 1_000,
      maxSize: 2,
    });
    const results = Promise.all([1, 2, 3].map((item) => batcher.add(item)));
    await clock.tickAsync(0);
    expect(flushes).to.deep.equal([[1, 2]]);
    await clock.tickAsync(1_000);
    expect(flushes).to.deep.equal([[1, 2], [3]]);
    expect(await results).to.deep.equal([1, 2, 3]);
  });

  it('when a flush is under way at the limit, should hold the next window and send everything that arrived meanwhile at once', async () => {
    const { batcher, flushes, release } = firstFlushHeld(100);
    const first = batcher.add(1);
    await clock.tickAsync(2);
    expect(flushes, 'the first window closed').to.deep.equal([[1]]);
    const later = [2, 3, 4].map((item) => batcher.add(item));
    await clock.tickAsync(2);
    const last = batcher.add(5);
    await clock.tickAsync(10);
    expect(flushes, 'windows closed behind the flush under way wait for it').to.deep.equal([[1]]);
    release();
    expect(await Promise.all([first, ...later, last])).to.deep.equal([1, 2, 3, 4, 5]);
    expect(flushes).to.deep.equal([[1], [2, 3, 4, 5]]);
  });

  it('when more than maxSize items wait behind a flush, should send them in chunks of maxSize and strand none', async () => {
    const { batcher, flushes, release } = firstFlushHeld(3);
    const results = [batcher.add(0)];
    await clock.tickAsync(2);
    expect(flushes).to.deep.equal([[0]]);
    results.push(...[1, 2, 3, 4, 5, 6, 7].map((item) => batcher.add(item)));
    release();
    expect(await Promise.all(results)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(flushes).to.deep.equal([[0], [1, 2, 3], [4, 5, 6], [7]]);
    expect(clock.now, 'no window had to close for the chunks behind the flush').to.equal(2);
  });

  it('when drained while items wait for their window and no flush is under way, should flush them at once', async () => {
    const flushes: number[][] = [];
    const batcher = createBatcher<number, number>(async (items) => (flushes.push(items), items), {
      windowMs: 1_000,
      maxSize: 100,
    });
    const results = Promise.all([1, 2].map((item) => batcher.add(item)));
    await batcher.drain();
    expect(flushes).to.deep.equal([[1, 2]]);
    expect(await results).to.deep.equal([1, 2]);
    expect(clock.now, 'the window did not have to close').to.equal(0);
  });

  it('when drained, should flush what waits without waiting for its window and end only after every flush', async () => {
    const flushes: number[][] = [];
    const ends: (() => void)[] = [];
    const batcher = createBatcher<number, number>(
      async (items) => {
        flushes.push(items);
        await new Promise<void>((resolve) => ends.push(resolve));
        return items;
      },
      { windowMs: 1_000, maxSize: 2, maxInFlight: 1 },
    );
    const results = [1, 2, 3, 4, 5].map((item) => batcher.add(item));
    let drained = false;
    const draining = batcher.drain().then(() => (drained = true));
    for (const expected of [
      [[1, 2]],
      [
        [1, 2],
        [3, 4],
      ],
      [[1, 2], [3, 4], [5]],
    ]) {
      await clock.tickAsync(0);
      expect(flushes).to.deep.equal(expected);
      expect(drained, 'a flush is still under way').to.equal(false);
      ends.shift()!();
    }
    await draining;
    expect(await Promise.all(results)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(clock.now, 'the last item did not wait for its window').to.equal(0);
  });
});
