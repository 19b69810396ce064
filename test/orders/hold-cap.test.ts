import { expect } from 'chai';
import { api } from '../system.js';
import { freshShowing, orderBody, overrideConfig, submit, workerControl, type PlacedView } from './support.js';

const CAP = 4;
const ADDRESS_CAP = 6;

/** A one-seat order by this customer, waiting for its decision; `from`: the client address nginx names. */
const orderAs = async (showingId: number, seatId: number, email: string, from = '192.0.2.1') => {
  const response = await submit<PlacedView>(orderBody(showingId, [seatId], email), {
    wait: 5,
    headers: { 'x-forwarded-for': from },
  });
  expect(response.status, JSON.stringify(response.body)).to.equal(200);
  return response.body;
};

describe('orders: a cap on seats held per customer and per client address', () => {
  const workers = workerControl();
  let restore: () => void = () => {};

  before(async () => {
    restore = await overrideConfig({
      CONFIRM_WITHOUT_PAYMENT: false,
      MAX_HELD_SEATS_PER_CUSTOMER: CAP,
      MAX_HELD_SEATS_PER_ADDRESS: ADDRESS_CAP,
    });
    await workers.start();
  });

  after(async () => {
    await workers.stop();
    restore();
  });

  it('when one customer sends ten one-seat orders at once, should hold exactly the cap and reject the rest HOLD_LIMIT; another customer is not held back', async () => {
    const { showing, seats } = await freshShowing(6);
    const orders = await Promise.all(
      seats.slice(0, 10).map((seat) => orderAs(showing.id, seat.id, 'Scalper@Example.com')),
    );
    const held = orders.filter((order) => order.status === 'awaiting_payment');
    const refused = orders.filter((order) => order.status === 'rejected');
    expect(held).to.have.length(CAP);
    expect(refused.map((order) => order.reason)).to.deep.equal(Array(10 - CAP).fill('HOLD_LIMIT'));
    // The cap is per customer, whatever the spelling of the email.
    expect((await orderAs(showing.id, seats[10]!.id, 'scalper@example.com')).reason).to.equal('HOLD_LIMIT');
    expect((await orderAs(showing.id, seats[11]!.id, 'someone@example.com')).status).to.equal('awaiting_payment');

    // A hold given up makes room again.
    const cancelled = await api('POST', `/api/v1/orders/${held[0]!.id}/cancel`, { token: held[0]!.accessToken });
    expect(cancelled.status, JSON.stringify(cancelled.body)).to.equal(200);
    expect((await orderAs(showing.id, seats[12]!.id, 'scalper@example.com')).status).to.equal('awaiting_payment');
  });

  it('when the customer holds seats in another showing, should count each showing on its own', async () => {
    const first = await freshShowing(4);
    const second = await freshShowing(4);
    for (const seat of first.seats.slice(0, CAP)) await orderAs(first.showing.id, seat.id, 'two-showings@example.com');
    const elsewhere = await orderAs(second.showing.id, second.seats[0]!.id, 'two-showings@example.com');
    expect(elsewhere.status).to.equal('awaiting_payment');
  });

  it('when one address sends twelve one-seat orders at once under twelve emails, should hold exactly its cap and reject the rest ADDRESS_HOLD_LIMIT; another address is not held back', async () => {
    const { showing, seats } = await freshShowing(8);
    const orders = await Promise.all(
      seats
        .slice(0, 12)
        .map((seat, index) => orderAs(showing.id, seat.id, `buyer-${index}@example.com`, '198.51.100.7')),
    );
    expect(orders.filter((order) => order.status === 'awaiting_payment')).to.have.length(ADDRESS_CAP);
    expect(orders.filter((order) => order.status === 'rejected').map((order) => order.reason)).to.deep.equal(
      Array(12 - ADDRESS_CAP).fill('ADDRESS_HOLD_LIMIT'),
    );
    // An IPv6 client counts by its /64: another address in it is the same client.
    const v6 = await Promise.all(
      seats
        .slice(12, 12 + ADDRESS_CAP + 1)
        .map((seat, index) =>
          orderAs(showing.id, seat.id, `v6-${index}@example.com`, `2001:db8:1:2::${(index + 1).toString(16)}`),
        ),
    );
    expect(v6.map((order) => order.reason ?? order.status)).to.deep.equal([
      ...Array(ADDRESS_CAP).fill('awaiting_payment'),
      'ADDRESS_HOLD_LIMIT',
    ]);
    expect((await orderAs(showing.id, seats[20]!.id, 'elsewhere@example.com', '203.0.113.9')).status).to.equal(
      'awaiting_payment',
    );
  });
});
