import { expect } from 'chai';
import { createBatcher } from './batcher.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
  it('when items arrive within one window, should flush them together and answer each in order', async () => {
    const flushes: number[][] = [];
    const batcher = createBatcher<number, number>(
      async (items) => (flushes.push(items), items.map((item) => item * 2)),
      { windowMs: 5, maxSize: 100 },
    );
    expect(await Promise.all([1, 2, 3].map((item) => batcher.add(item)))).to.deep.equal([2, 4, 6]);
    expect(flushes).to.deep.equal([[1, 2, 3]]);
  });

  it('when a flush is under way at the limit, should hold the next window and send everything that arrived meanwhile at once', async () => {
    const { batcher, flushes, release } = firstFlushHeld(100);
    const first = batcher.add(1);
    await sleep(10);
    const later = [2, 3, 4].map((item) => batcher.add(item));
    await sleep(10);
    const last = batcher.add(5);
    await sleep(10);
    expect(flushes).to.deep.equal([[1]]);
    release();
    expect(await Promise.all([first, ...later, last])).to.deep.equal([1, 2, 3, 4, 5]);
    expect(flushes).to.deep.equal([[1], [2, 3, 4, 5]]);
  });

  it('when more than maxSize items wait behind a flush, should send them in chunks of maxSize and strand none', async () => {
    const { batcher, flushes, release } = firstFlushHeld(3);
    const results = [batcher.add(0)];
    await sleep(10);
    results.push(...[1, 2, 3, 4, 5, 6, 7].map((item) => batcher.add(item)));
    release();
    expect(await Promise.all(results)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(flushes).to.deep.equal([[0], [1, 2, 3], [4, 5, 6], [7]]);
  });

  it('when drained, should flush what waits and wait for every flush under way', async () => {
    const flushed: number[] = [];
    const batcher = createBatcher<number, number>(async (items) => (await sleep(5), flushed.push(...items), items), {
      windowMs: 1_000,
      maxSize: 2,
      maxInFlight: 1,
    });
    const results = [1, 2, 3, 4, 5].map((item) => batcher.add(item));
    await batcher.drain();
    expect(flushed).to.deep.equal([1, 2, 3, 4, 5]);
    expect(await Promise.all(results)).to.deep.equal([1, 2, 3, 4, 5]);
  });
});
