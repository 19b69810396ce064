import { expect } from 'chai';
import { ttlCache } from './ttl-cache.js';

/** A loader whose calls are counted and whose answers are released by hand. */
function manualLoader() {
  const calls: { key: string; resolve: (value: string) => void; reject: (error: Error) => void }[] = [];
  const load = (key: string) => new Promise<string>((resolve, reject) => calls.push({ key, resolve, reject }));
  return { load, calls };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

/**
 * A cache of 100 ms lifetimes (no spread) on a hand-driven clock, holding 'old' for key 'a'. A
 * reload starts from 100 ms on; from 150 ms on a read waits for a fresh load.
 */
async function cacheHoldingOld() {
  let time = 0;
  const { load, calls } = manualLoader();
  const cache = ttlCache(100, load, { now: () => time, random: () => 0.5 });
  const first = cache.get('a');
  calls[0]!.resolve('old');
  await first;
  return { cache, calls, advanceTo: (ms: number) => (time = ms) };
}

describe('ttl cache', () => {
  it('when several reads miss one key at once, should load it once and give every reader the value', async () => {
    const { load, calls } = manualLoader();
    const cache = ttlCache(1_000, load);
    const reads = [cache.get('a'), cache.get('a'), cache.get('a')];
    calls[0]!.resolve('A');
    expect(await Promise.all(reads)).to.deep.equal(['A', 'A', 'A']);
    expect(calls).to.have.length(1);
  });

  it('when an entry has just expired, should answer with the stale value at once while one reload replaces it', async () => {
    const { cache, calls, advanceTo } = await cacheHoldingOld();
    advanceTo(99);
    expect(await cache.get('a')).to.equal('old');
    expect(calls).to.have.length(1);
    advanceTo(120);
    expect(await Promise.all([cache.get('a'), cache.get('a')])).to.deep.equal(['old', 'old']);
    expect(calls).to.have.length(2);
    calls[1]!.resolve('new');
    await settled();
    expect(await cache.get('a')).to.equal('new');
    expect(calls).to.have.length(2);
  });

  it('when an entry expired more than half a lifetime ago, should wait for a fresh load instead of answering stale', async () => {
    const { cache, calls, advanceTo } = await cacheHoldingOld();
    advanceTo(150);
    const read = cache.get('a');
    expect(calls).to.have.length(2);
    calls[1]!.resolve('new');
    expect(await read).to.equal('new');
  });

  it('when a reload fails, should keep the stale value and try again after a short delay', async () => {
    const { cache, calls, advanceTo } = await cacheHoldingOld();
    advanceTo(100);
    expect(await cache.get('a')).to.equal('old');
    calls[1]!.reject(new Error('database away'));
    await settled();
    expect(await cache.get('a')).to.equal('old');
    expect(calls).to.have.length(2);
    advanceTo(110); // the retry delay is a tenth of the lifetime
    expect(await cache.get('a')).to.equal('old');
    expect(calls).to.have.length(3);
  });

  it('when a key is forgotten while it reloads, should drop what the reload brings', async () => {
    const { cache, calls, advanceTo } = await cacheHoldingOld();
    advanceTo(100);
    await cache.get('a');
    cache.forget('a');
    calls[1]!.resolve('from before the forget');
    await settled();
    const read = cache.get('a');
    calls[2]!.resolve('fresh');
    expect(await read).to.equal('fresh');
  });

  it('when a first load fails, should not keep the failure: the next read loads again', async () => {
    const { load, calls } = manualLoader();
    const cache = ttlCache(1_000, load);
    const failed = cache.get('a');
    calls[0]!.reject(new Error('database away'));
    await failed.catch(() => {});
    const retried = cache.get('a');
    calls[1]!.resolve('A');
    expect(await retried).to.equal('A');
  });

  it('when entries are loaded together, should spread their expiry over ±25 % of the lifetime', async () => {
    let time = 0;
    const spreads = [0, 1]; // the shortest and the longest lifetime
    const loads: string[] = [];
    const cache = ttlCache(100, async (key: string) => (loads.push(key), key), {
      now: () => time,
      random: () => spreads.shift()!,
    });
    await Promise.all([cache.get('short'), cache.get('long')]);
    time = 80;
    await Promise.all([cache.get('short'), cache.get('long')]);
    expect(loads).to.deep.equal(['short', 'long', 'short']);
  });
});
