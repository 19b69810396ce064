import { expect } from 'chai';
import { once } from 'node:events';
import { io as connectClient } from 'socket.io-client';
import { placePaying, untilOrder } from './payments/support.js';
import { freshShowing } from './orders/support.js';
import { freePort, spawnProcess, testSystem } from './system.js';

describe('process lifecycle', () => {
  it('when a process running every role gets SIGTERM, should stop its workers, close its stores and exit 0', async () => {
    const child = await spawnProcess('catalog,tickets,workers', 'allocation workers started');
    const started = Date.now();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).to.equal(0);
    expect(Date.now() - started).to.be.below(5_000);
  });

  it('when the configuration is invalid, should exit 78 naming every bad setting', async () => {
    let failure: Error | undefined;
    try {
      await spawnProcess('catalog', 'listening', { PORT: 'not-a-port', ROLES: 'catalog,unknown' });
    } catch (error) {
      failure = error as Error;
    }
    expect(failure?.message).to.include('exited (78)');
    expect(failure?.message).to.include('PORT');
    expect(failure?.message).to.include('ROLES');
  });

  it('when tickets, workers and the payment service run as separate processes, should take a paying order to confirmed', async () => {
    const { config } = await testSystem();
    const port = await freePort();
    const paymentService = await spawnProcess('payments', 'listening', { PORT: String(port) });
    const workers = await spawnProcess('workers', 'allocation workers started', {
      PAYMENT_SERVICE_URL: `http://127.0.0.1:${port}/api/v1`,
      CONFIRM_WITHOUT_PAYMENT: 'false',
    });
    try {
      const { showing, seats } = await freshShowing();
      const order = await placePaying(showing.id, [seats[0]!.id], 'tok_ok');
      const confirmed = await untilOrder(order, 'confirmed', (view) => view.status === 'confirmed');
      const charges = await fetch(`http://127.0.0.1:${port}/api/v1/charges?reference=${order.id}`, {
        headers: { authorization: `Bearer ${config.PAYMENT_SERVICE_KEY}` },
      });
      const { data } = (await charges.json()) as { data: { status: string; amount: number }[] };
      expect(data.map((charge) => [charge.status, charge.amount])).to.deep.equal([['succeeded', confirmed.total]]);
      expect(confirmed.paymentStatus).to.equal('paid');
    } finally {
      for (const child of [workers, paymentService]) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        expect(((await exited) as [number | null])[0]).to.equal(0);
      }
    }
  });

  it('when a realtime process with connected clients gets SIGTERM, should disconnect them and exit 0', async () => {
    const port = await freePort();
    const realtime = await spawnProcess('realtime', 'realtime started', { PORT: String(port) });
    const { showing } = await freshShowing();
    const socket = connectClient(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false });
    const answer = await socket.timeout(5_000).emitWithAck('showing:subscribe', { showingId: showing.id });
    expect(answer).to.deep.include({ ok: true });
    const disconnected = new Promise((resolve) => socket.once('disconnect', resolve));
    const exited = once(realtime, 'exit');
    realtime.kill('SIGTERM');
    await disconnected;
    expect(((await exited) as [number | null])[0]).to.equal(0);
  });
});
