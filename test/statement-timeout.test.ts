import { expect } from 'chai';
import type { Server } from 'node:http';
import type { Wiring } from '../host/deps.js';
import { makeShowing } from './factories.js';
import { call, startInstance } from './instances.js';
import { ADMIN_TOKEN, testSystem } from './system.js';

describe('PostgreSQL statement timeouts', () => {
  let instance: { server: Server; baseUrl: string; wiring: Wiring };

  before(async () => {
    instance = await startInstance({ DB_STATEMENT_TIMEOUT_MS: '300' });
  });

  after(async () => {
    instance.server.close();
    await instance.wiring.close();
  });

  it('when a statement waits past DB_STATEMENT_TIMEOUT_MS, should answer 503 with Retry-After and free its connection', async () => {
    const showing = await makeShowing();
    const { deps } = await testSystem();
    // Another session holds the showing's row, as a long transaction would.
    const holder = await deps.db.transaction();
    try {
      await holder('showings').where({ id: showing.id }).forUpdate().first('id');
      const startedAt = Date.now();
      const answer = await call(instance.baseUrl, 'PATCH', `/api/v1/showings/${showing.id}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        body: { prices: { standard: 100 } },
      });
      expect(answer.status, JSON.stringify(answer.body)).to.equal(503);
      expect(answer.body.error.code).to.equal('SERVICE_UNAVAILABLE');
      expect(answer.headers.get('retry-after')).to.equal('2');
      expect(Date.now() - startedAt).to.be.below(5_000);
    } finally {
      await holder.rollback();
    }
    // The pool's connections still work, and the write goes through once nothing holds the row.
    const retried = await call(instance.baseUrl, 'PATCH', `/api/v1/showings/${showing.id}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: { prices: { standard: 100 } },
    });
    expect(retried.status, JSON.stringify(retried.body)).to.equal(200);
    expect(retried.body.prices.standard).to.equal(100);
  });
});
