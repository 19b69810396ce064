import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { SaleEvents } from '../../domain/ports.js';
import { scopedIdempotencyKey } from '../../domain/orders/place-order.js';
import { testSystem } from '../system.js';
import {
  countRows,
  freshShowing,
  getOrder,
  orderBody,
  submit,
  workerControl,
  type ErrorBody,
  type PlacedView,
} from './support.js';

const ordersWithKey = (key: string, email = 'buyer@example.com') =>
  countRows('orders', { idempotency_key: scopedIdempotencyKey(key, email) });
const ordersOfShowing = (showingId: number) => countRows('orders', { showing_id: showingId });

/**
 * Watches the in-process API's waits for one order's decision: `waiting` resolves once a request
 * read the order as still queued and turned to wait for its decision (it takes `decided` from what
 * events.waitFor gave it only then). `restore` puts the original waitFor back.
 */
function watchWaitsFor(events: SaleEvents, orderId: string) {
  const waitFor = events.waitFor;
  let waits = () => {};
  const waiting = new Promise<void>((resolve) => (waits = resolve));
  events.waitFor = async (id, timeoutMs) => {
    const handle = await waitFor.call(events, id, timeoutMs);
    if (id !== orderId) return handle;
    return {
      cancel: handle.cancel,
      get decided() {
        waits();
        return handle.decided;
      },
    };
  };
  return { waiting, restore: () => void (events.waitFor = waitFor) };
}

describe('orders: idempotency', () => {
  const workers = workerControl();
  afterEach(() => workers.stop());

  it('when a request is replayed with the same key and body, should return the same order and access token and store one order', async () => {
    const { showing, seats } = await freshShowing();
    const key = randomUUID();
    const body = orderBody(showing.id, [seats[0]!.id, seats[1]!.id], 'replay@example.com', 'Ann');
    const first = await submit(body, { key });
    const second = await submit(body, { key });
    expect(first.status).to.equal(202);
    expect(second.status).to.equal(202);
    expect(second.body.id).to.equal(first.body.id);
    expect(second.body.accessToken).to.equal(first.body.accessToken);
    expect(second.body.status).to.equal('queued');
    expect(await ordersWithKey(key, 'replay@example.com')).to.equal(1);
    expect(await ordersOfShowing(showing.id)).to.equal(1);
  });

  it('when the replay lists the seats in another order and the e-mail in other letter case, should treat it as the same request', async () => {
    const { showing, seats } = await freshShowing();
    const key = randomUUID();
    const first = await submit(orderBody(showing.id, [seats[0]!.id, seats[1]!.id], 'Same@Example.com'), { key });
    const second = await submit(orderBody(showing.id, [seats[1]!.id, seats[0]!.id], 'same@example.com'), { key });
    expect(first.status).to.equal(202);
    expect(second.status, JSON.stringify(second.body)).to.equal(202);
    expect(second.body.id).to.equal(first.body.id);
    expect(await ordersOfShowing(showing.id)).to.equal(1);
  });

  it('when a request is replayed after its order was decided, should answer 200 with the decided order', async () => {
    await workers.start();
    const { showing, seats } = await freshShowing();
    const key = randomUUID();
    const body = orderBody(showing.id, [seats[3]!.id]);
    const first = await submit(body, { key, wait: 5 });
    expect(first.status).to.equal(200);
    expect(first.body.status).to.equal('confirmed');
    const replay = await submit(body, { key });
    expect(replay.status).to.equal(200);
    expect(replay.body).to.deep.equal(first.body);
    const read = await getOrder(first.body.id, replay.body.accessToken);
    expect(read.status).to.equal(200);
    expect(read.body.status).to.equal('confirmed');
    expect(await ordersWithKey(key)).to.equal(1);
  });

  it('when a replay of a still-queued order asks to wait (RFC 7240 list form), should answer 200 once the order is decided', async () => {
    const { deps } = await testSystem();
    const { showing, seats } = await freshShowing();
    const key = randomUUID();
    const body = orderBody(showing.id, [seats[2]!.id]);
    const first = await submit(body, { key });
    expect(first.status).to.equal(202);
    const watch = watchWaitsFor(deps.events, first.body.id);
    try {
      const replaying = submit(body, { key, headers: { prefer: 'respond-async, wait=5' } });
      // No worker runs until the replay found the order queued and waits for its decision.
      const happened = await Promise.race([
        watch.waiting.then(() => 'waiting for the decision'),
        replaying.then(() => 'answered'),
      ]);
      expect(happened, 'the replay of a queued order waits').to.equal('waiting for the decision');
      await workers.start();
      const replay = await replaying;
      expect(replay.status, JSON.stringify(replay.body)).to.equal(200);
      expect(replay.body.id).to.equal(first.body.id);
      expect(replay.body.status).to.equal('confirmed');
    } finally {
      watch.restore();
    }
  });

  it('when a key is reused with a different body, should refuse with 422 IDEMPOTENCY_KEY_REUSED and leave the first order alone', async () => {
    const { showing, seats } = await freshShowing();
    const other = await freshShowing();
    const key = randomUUID();
    const body = orderBody(showing.id, [seats[0]!.id], 'first@example.com');
    const first = await submit(body, { key });
    expect(first.status).to.equal(202);
    const variants = {
      'other seats': orderBody(showing.id, [seats[1]!.id], 'first@example.com'),
      'one more seat': orderBody(showing.id, [seats[0]!.id, seats[1]!.id], 'first@example.com'),
      'other showing': orderBody(other.showing.id, [other.seats[0]!.id], 'first@example.com'),
      'a name added': orderBody(showing.id, [seats[0]!.id], 'first@example.com', 'Bob'),
    };
    for (const [what, variant] of Object.entries(variants)) {
      const reused = await submit<ErrorBody>(variant, { key });
      expect(reused.status, what).to.equal(422);
      expect(reused.body.error.code, what).to.equal('IDEMPOTENCY_KEY_REUSED');
      expect(JSON.stringify(reused.body), `${what}: the first order is not disclosed`).to.not.include(first.body.id);
    }
    expect(await ordersWithKey(key, 'first@example.com')).to.equal(1);
    expect(await ordersOfShowing(other.showing.id)).to.equal(0);
    const read = await getOrder(first.body.id, first.body.accessToken);
    expect(read.body.seats.map((seat) => seat.seatId)).to.deep.equal([seats[0]!.id]);
  });

  it('when another customer sends the same key, should place their own order and disclose nothing of the first', async () => {
    const { showing, seats } = await freshShowing();
    const key = randomUUID();
    const first = await submit(orderBody(showing.id, [seats[0]!.id], 'first@example.com'), { key });
    expect(first.status).to.equal(202);
    for (const body of [
      orderBody(showing.id, [seats[1]!.id], 'second@example.com'),
      orderBody(showing.id, [seats[0]!.id], 'third@example.com'),
    ]) {
      const theirs = await submit<PlacedView & ErrorBody>(body, { key });
      expect(theirs.status === 202 || theirs.body.error?.code === 'SEAT_TAKEN', JSON.stringify(theirs.body)).to.equal(
        true,
      );
      expect(JSON.stringify(theirs.body), 'the first order is not disclosed').to.not.include(first.body.id);
      expect(JSON.stringify(theirs.body)).to.not.include(first.body.accessToken);
    }
    expect(await ordersWithKey(key, 'first@example.com')).to.equal(1);
    expect(await ordersWithKey(key, 'second@example.com')).to.equal(1);
  });

  it('when the Idempotency-Key header is missing, should refuse with 400 IDEMPOTENCY_KEY_REQUIRED and store nothing', async () => {
    const { showing, seats } = await freshShowing();
    const response = await submit<ErrorBody>(orderBody(showing.id, [seats[0]!.id]), { key: null });
    expect(response.status).to.equal(400);
    expect(response.body.error.code).to.equal('IDEMPOTENCY_KEY_REQUIRED');
    expect(await ordersOfShowing(showing.id)).to.equal(0);
  });

  it('when many requests with the same key arrive at once, should create one order and give each of them its id and token', async () => {
    const { showing, seats } = await freshShowing();
    const key = randomUUID();
    const body = orderBody(showing.id, [seats[2]!.id]);
    const responses = await Promise.all(Array.from({ length: 30 }, () => submit(body, { key })));
    for (const response of responses) expect(response.status, JSON.stringify(response.body)).to.equal(202);
    expect(new Set(responses.map((response) => response.body.id)).size).to.equal(1);
    expect(new Set(responses.map((response) => response.body.accessToken)).size).to.equal(1);
    expect(await ordersWithKey(key)).to.equal(1);
    expect(await ordersOfShowing(showing.id)).to.equal(1);
  });

  it('when requests with the same key but different bodies arrive at once, should create one order and refuse the others with 422', async () => {
    const { showing, seats } = await freshShowing();
    const key = randomUUID();
    const responses = await Promise.all(
      seats.slice(0, 6).map((seat) => submit<ErrorBody & { id: string }>(orderBody(showing.id, [seat.id]), { key })),
    );
    const accepted = responses.filter((response) => response.status === 202);
    const refused = responses.filter((response) => response.status === 422);
    expect(accepted, JSON.stringify(responses.map((response) => response.body))).to.have.length(1);
    expect(refused).to.have.length(5);
    for (const response of refused) expect(response.body.error.code).to.equal('IDEMPOTENCY_KEY_REUSED');
    expect(await ordersWithKey(key)).to.equal(1);
  });
});
