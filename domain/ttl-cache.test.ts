import { expect } from 'chai';
import { ttlCache } from './ttl-cache.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A loader whose calls are counted and whose answers are released by hand. */
function manualLoader() {
  const calls: { key: string; resolve: (value: string) => void; reject: (error: Error) => void }[] = [];
  const load = (key: string) => new Promise<string>((resolve, reject) => calls.push({ key, resolve, reject }));
  return { load, calls };
}

/** A cache (20 ms lifetime, so 25 ms at most) holding 'old' for key 'a', past its lifetime. */
async function expiredEntry() {
  const loader = manualLoader();
  const cache = ttlCache(20, loader.load);
  const first = cache.get('a');
  loader.calls[0]!.resolve('old');
  await first;
  await sleep(40);
  return { cache, calls: loader.calls };
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

  it('when an entry has expired, should answer with the stale value at once while one reload replaces it', async () => {
    const { cache, calls } = await expiredEntry();
    expect(await Promise.all([cache.get('a'), cache.get('a')])).to.deep.equal(['old', 'old']);
    expect(calls).to.have.length(2);
    calls[1]!.resolve('new');
    await sleep(0);
    expect(await cache.get('a')).to.equal('new');
    expect(calls).to.have.length(2);
  });

  it('when a reload fails, should keep the stale value and try again on a later read', async () => {
    const { cache, calls } = await expiredEntry();
    expect(await cache.get('a')).to.equal('old');
    calls[1]!.reject(new Error('database away'));
    await sleep(0);
    expect(await cache.get('a')).to.equal('old');
    expect(calls).to.have.length(3);
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

  it('when entries are loaded together, should spread their expiry instead of reloading all at once', async () => {
    let loads = 0;
    const cache = ttlCache(100, async (key: number) => (loads += 1, key));
    await Promise.all(Array.from({ length: 200 }, (_, key) => cache.get(key)));
    await sleep(100); // past the earliest expiry (75 ms), before the latest (125 ms)
    await Promise.all(Array.from({ length: 200 }, (_, key) => cache.get(key)));
    expect(loads - 200).to.be.within(10, 190);
  });
});
