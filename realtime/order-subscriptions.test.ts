import { expect } from 'chai';
import type { OrderView } from '../domain/model/orders.js';
import { orderSubscriptions } from './order-subscriptions.js';

const view = (version: number, status: OrderView['status'] = version === 1 ? 'queued' : 'confirmed') =>
  ({ id: 'order-1', status, version }) as OrderView;

/** A read that answers when the test says so: "during the subscription" is then a place in the test. */
function heldRead(answer: OrderView) {
  let release = () => {};
  const read = () => new Promise<OrderView>((resolve) => (release = () => resolve(answer)));
  return { read, release: () => release() };
}

describe('realtime: order subscriptions tell every version once', () => {
  const setUp = () => {
    const told: [string, number][] = [];
    const subscriptions = orderSubscriptions<string>((subscriber, order) => told.push([subscriber, order.version]));
    return { told, subscriptions };
  };

  it('when the decision comes after the subscription, should answer the queued order and then tell the decision once', async () => {
    const { told, subscriptions } = setUp();
    const answer = await subscriptions.subscribe('alice', 'order-1', async () => view(1));
    expect(answer.version).to.equal(1);
    subscriptions.heard(view(2));
    subscriptions.heard(view(2));
    subscriptions.heard(view(1));
    expect(told).to.deep.equal([['alice', 2]]);
  });

  it('when the decision comes while the subscription is answered, should put it in the answer and tell nothing', async () => {
    const { told, subscriptions } = setUp();
    const { read, release } = heldRead(view(1));
    const answering = subscriptions.subscribe('alice', 'order-1', read);
    subscriptions.heard(view(2));
    release();
    expect((await answering).version).to.equal(2);
    subscriptions.heard(view(2));
    expect(told).to.deep.equal([]);
    subscriptions.heard(view(3));
    expect(told).to.deep.equal([['alice', 3]]);
  });

  it('when the decision came before the subscription, should answer it and not tell it again', async () => {
    const { told, subscriptions } = setUp();
    subscriptions.heard(view(2));
    const answer = await subscriptions.subscribe('alice', 'order-1', async () => view(2));
    expect(answer.version).to.equal(2);
    subscriptions.heard(view(2));
    expect(told).to.deep.equal([]);
  });

  it('when several subscribe at different moments, should tell each the versions it has not seen, once', async () => {
    const { told, subscriptions } = setUp();
    await subscriptions.subscribe('alice', 'order-1', async () => view(1));
    subscriptions.heard(view(2));
    await subscriptions.subscribe('bob', 'order-1', async () => view(2));
    subscriptions.heard(view(3));
    expect(told).to.deep.equal([
      ['alice', 2],
      ['alice', 3],
      ['bob', 3],
    ]);
  });

  it('when a read fails, should drop a new subscription and keep one the subscriber had', async () => {
    const { told, subscriptions } = setUp();
    const failing = () => Promise.reject(new Error('no such order'));
    await subscriptions.subscribe('bob', 'order-1', failing).catch(() => undefined);
    await subscriptions.subscribe('alice', 'order-1', async () => view(1));
    await subscriptions.subscribe('alice', 'order-1', failing).catch(() => undefined);
    subscriptions.heard(view(2));
    expect(told).to.deep.equal([['alice', 2]]);
  });

  it('when a subscriber unsubscribes or goes away, should tell it nothing more', async () => {
    const { told, subscriptions } = setUp();
    await subscriptions.subscribe('alice', 'order-1', async () => view(1));
    await subscriptions.subscribe('bob', 'order-1', async () => view(1));
    subscriptions.unsubscribe('order-1', 'alice');
    subscriptions.forget('bob');
    subscriptions.heard(view(2));
    expect(told).to.deep.equal([]);
  });
});
