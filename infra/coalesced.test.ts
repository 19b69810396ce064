import { expect } from 'chai';
import { coalesced } from './coalesced.js';

/** A send whose calls each hang until the test settles them, in order. */
function heldSends() {
  const sent: string[] = [];
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const send = (key: string) => {
    sent.push(key);
    return new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
  };
  const settle = async (index: number, error?: Error) => {
    if (error) pending[index]!.reject(error);
    else pending[index]!.resolve();
    // Let the follow-up, if any, leave.
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { send, sent, settle };
}

describe('coalesced', () => {
  it('when calls come while a send is in flight, should send once more after it, not once per call', async () => {
    const { send, sent, settle } = heldSends();
    const wake = coalesced(send);
    const first = wake('p1');
    const later = [wake('p1'), wake('p1'), wake('p1')];
    expect(sent, 'nothing leaves while one is in flight').to.deep.equal(['p1']);
    await settle(0);
    await first;
    expect(sent, 'one follow-up for the three').to.deep.equal(['p1', 'p1']);
    await settle(1);
    await Promise.all(later);
    expect(sent).to.have.length(2);
  });

  it('when the send in flight fails, should still send the follow-up', async () => {
    const { send, sent, settle } = heldSends();
    const wake = coalesced(send);
    const first = wake('p1').catch((error: Error) => error.message);
    const later = wake('p1');
    await settle(0, new Error('redis away'));
    expect(await first).to.equal('redis away');
    expect(sent).to.deep.equal(['p1', 'p1']);
    await settle(1);
    await later;
  });

  it('when nothing is in flight, or for another key, should send at once', async () => {
    const { send, sent, settle } = heldSends();
    const wake = coalesced(send);
    const first = wake('p1');
    const other = wake('p2');
    expect(sent, 'keys do not wait for each other').to.deep.equal(['p1', 'p2']);
    await settle(0);
    await settle(1);
    await Promise.all([first, other]);
    const again = wake('p1');
    expect(sent, 'a call after everything settled leaves at once').to.deep.equal(['p1', 'p2', 'p1']);
    await settle(2);
    await again;
  });
});
