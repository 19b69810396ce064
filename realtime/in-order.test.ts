import FakeTimers, { type Clock } from '@sinonjs/fake-timers';
import { expect } from 'chai';
import type { SeatDelta } from '../domain/model/tickets.js';
import { inVersionOrder } from './in-order.js';

const delta = (version: number, showingId = 1): SeatDelta => ({
  showingId,
  version,
  seats: [{ id: version, status: 'held' }],
});

describe('realtime: seat deltas put back in version order', () => {
  // The reorder wait runs on a fake clock: time moves only when a test says so.
  let clock: Clock;
  beforeEach(() => {
    clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => clock.uninstall());

  it('when deltas arrive out of order, should send them in version order and drop repeats', () => {
    const sent: number[] = [];
    const ordering = inVersionOrder((d) => sent.push(d.version), 1_000);
    for (const version of [5, 7, 6, 6, 9, 8, 4]) ordering.accept(delta(version));
    ordering.close();
    expect(sent).to.deep.equal([5, 6, 7, 8, 9]);
  });

  it('when a version never comes, should send what waits behind it once the wait is over, in order', () => {
    const sent: number[] = [];
    const ordering = inVersionOrder((d) => sent.push(d.version), 30);
    for (const version of [1, 4, 3]) ordering.accept(delta(version));
    expect(sent).to.deep.equal([1]);
    clock.tick(29);
    expect(sent, 'still waiting for version 2').to.deep.equal([1]);
    clock.tick(1);
    expect(sent).to.deep.equal([1, 3, 4]);
    ordering.accept(delta(5));
    ordering.close();
    expect(sent).to.deep.equal([1, 3, 4, 5]);
  });

  it('when the missing version comes within the wait, should send at once and nothing more when the wait would have ended', () => {
    const sent: number[] = [];
    const ordering = inVersionOrder((d) => sent.push(d.version), 30);
    for (const version of [1, 3]) ordering.accept(delta(version));
    clock.tick(10);
    ordering.accept(delta(2));
    expect(sent).to.deep.equal([1, 2, 3]);
    expect(clock.countTimers(), 'the wait is called off').to.equal(0);
    ordering.accept(delta(5));
    clock.tick(29);
    expect(sent, 'a new gap waits its own full wait').to.deep.equal([1, 2, 3]);
    clock.tick(1);
    expect(sent).to.deep.equal([1, 2, 3, 5]);
    ordering.close();
  });

  it('when showings interleave, should order each one on its own', () => {
    const sent: string[] = [];
    const ordering = inVersionOrder((d) => sent.push(`${d.showingId}:${d.version}`), 1_000);
    for (const [showing, version] of [
      [1, 1],
      [2, 10],
      [1, 3],
      [2, 11],
      [1, 2],
    ] as const)
      ordering.accept(delta(version, showing));
    ordering.close();
    expect(sent).to.deep.equal(['1:1', '2:10', '2:11', '1:2', '1:3']);
  });

  it('when a client subscribed at a version, should hold a delta that skips the next one', () => {
    const sent: number[] = [];
    const ordering = inVersionOrder((d) => sent.push(d.version), 1_000);
    ordering.startAt(1, 5);
    ordering.accept(delta(7));
    expect(sent).to.deep.equal([]);
    ordering.accept(delta(6));
    ordering.close();
    expect(sent).to.deep.equal([6, 7]);
  });
});
