import { expect } from 'chai';
import { api } from '../system.js';
import { makeShowing } from '../factories.js';

describe('catalog smoke', () => {
  it('when a showing is created through the API, should be readable with its free seats', async () => {
    const showing = await makeShowing();
    const response = await api('GET', `/api/v1/showings/${showing.id}`, { token: null });
    expect(response.status).to.equal(200);
    expect(response.body.freeSeats).to.equal(12);
  });
});
