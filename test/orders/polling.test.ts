import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { ordersRepository } from '../../db/repositories/orders.js';
import { api, testSystem } from '../system.js';
import { eventually, freshShowing, getOrder, orderBody, submit, workerControl } from './support.js';

/** Counts the full order reads (two joins) made while `run` runs. */
async function fullReadsDuring(run: () => Promise<unknown>): Promise<number> {
  let reads = 0;
  const withSeats = ordersRepository.withSeats;
  ordersRepository.withSeats = (...args) => ((reads += 1), withSeats(...args));
  try {
    await run();
  } finally {
    ordersRepository.withSeats = withSeats;
  }
  return reads;
}

describe('orders: polling is cheap and guided', () => {
  const workers = workerControl();
  afterEach(() => workers.stop());

  it('when an order is accepted undecided, should say where and when to poll; a decided one should not ask for more polls', async () => {
    const { showing, seats } = await freshShowing();
    const accepted = await submit(orderBody(showing.id, [seats[0]!.id]));
    expect(accepted.status).to.equal(202);
    expect(accepted.headers.get('location')).to.equal(`/api/v1/orders/${accepted.body.id}`);
    expect(accepted.headers.get('retry-after')).to.equal('1');
    const etag = accepted.headers.get('etag')!;
    expect(etag, 'the version is the ETag from the start').to.equal(`"${accepted.body.version}"`);
    const { deps } = await testSystem();
    const row = await deps.db('orders').first('updated_at').where('id', accepted.body.id);
    expect(row.updated_at.toISOString(), 'one version, one body: as stored').to.equal(accepted.body.updatedAt);
    const location = accepted.headers.get('location')!;
    const unchanged = await api('GET', location, {
      token: accepted.body.accessToken,
      headers: { 'if-none-match': etag },
    });
    expect(unchanged.status, 'the first poll of an unchanged order').to.equal(304);
    const queued = await api('GET', location, { token: accepted.body.accessToken });
    expect([queued.status, queued.body.status, queued.headers.get('retry-after')]).to.deep.equal([200, 'queued', '1']);

    await workers.start();
    const decided = await eventually('the decision', async () => {
      const read = await getOrder(accepted.body.id, accepted.body.accessToken);
      return read.body.status !== 'queued' ? read : undefined;
    });
    expect(decided.headers.get('retry-after')).to.equal(null);
    const waitedKey = randomUUID();
    const waited = await submit(orderBody(showing.id, [seats[1]!.id]), { key: waitedKey, wait: 5 });
    expect([waited.status, waited.headers.get('location'), waited.headers.get('retry-after')]).to.deep.equal([
      200,
      null,
      null,
    ]);
    const replayed = await submit(orderBody(showing.id, [seats[1]!.id]), {
      key: waitedKey,
      wait: 5,
      headers: { 'if-none-match': waited.headers.get('etag')! },
    });
    expect(replayed.status, 'a write is never answered 304').to.equal(200);
  });

  it('when an order is polled unchanged, should answer from memory (304 with its ETag) and read it fully again only after it changed', async () => {
    const { showing, seats } = await freshShowing();
    const accepted = (await submit(orderBody(showing.id, [seats[0]!.id]))).body;
    const poll = (headers: Record<string, string> = {}) =>
      api('GET', `/api/v1/orders/${accepted.id}`, { token: accepted.accessToken, headers });

    const first = await poll();
    const etag = first.headers.get('etag')!;
    expect(etag).to.equal(`"${first.body.version}"`);
    const whileQueued = await fullReadsDuring(async () => {
      for (let round = 0; round < 10; round += 1) {
        expect((await poll({ 'if-none-match': etag })).status).to.equal(304);
        expect((await poll()).body).to.deep.equal(first.body);
      }
    });
    expect(whileQueued, 'full reads of a queued order polled 20 times').to.equal(0);

    await workers.start();
    const decided = await eventually('the decision', async () => {
      const read = await poll({ 'if-none-match': etag });
      return read.status === 200 ? read : undefined;
    });
    expect(decided.body.version).to.be.above(first.body.version);
    expect(decided.headers.get('etag')).to.equal(`"${decided.body.version}"`);
    const whileDecided = await fullReadsDuring(async () => {
      for (let round = 0; round < 10; round += 1) expect((await poll()).body).to.deep.equal(decided.body);
    });
    expect(whileDecided, 'full reads of a decided order polled 10 times').to.be.at.most(1);
  });
});
