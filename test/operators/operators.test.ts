import { expect } from 'chai';
import { expectError, uniqueName } from '../catalog/crud-support.js';
import { makeCity, makeFilm, smallLayout } from '../factories.js';
import { databaseRefusal } from '../assertions.js';
import type { AuditRow } from '../../db/repositories/audit.js';
import { api, testSystem } from '../system.js';

const BASE = '/api/v1';

type IssuedKey = { id: number; operatorId: number; key: string; revokedAt: string | null; lastUsedAt: string | null };

/** An operator made by the admin, with one API key. */
async function makeOperator(): Promise<{ id: number; key: string; keyId: number }> {
  const operator = await api('POST', `${BASE}/operators`, { body: { name: uniqueName('Operator') } });
  expect(operator.status, JSON.stringify(operator.body)).to.equal(201);
  const issued = await api<IssuedKey>('POST', `${BASE}/operators/${operator.body.id}/keys`, {
    body: { label: 'box office' },
  });
  expect(issued.status, JSON.stringify(issued.body)).to.equal(201);
  return { id: operator.body.id, key: issued.body.key, keyId: issued.body.id };
}

/** A cinema with one hall and one showing tomorrow, all made with the operator's key. */
async function makeOperatorCinema(key: string) {
  const city = await makeCity();
  const film = await makeFilm();
  const cinema = await api('POST', `${BASE}/cinemas`, {
    token: key,
    body: { cityId: city.id, name: uniqueName('Cinema'), timezone: 'Europe/Moscow' },
  });
  expect(cinema.status, JSON.stringify(cinema.body)).to.equal(201);
  const hall = await api('POST', `${BASE}/halls`, {
    token: key,
    body: { cinemaId: cinema.body.id, name: 'Hall 1', layout: smallLayout() },
  });
  expect(hall.status, JSON.stringify(hall.body)).to.equal(201);
  const showing = await api('POST', `${BASE}/showings`, {
    token: key,
    body: { hallId: hall.body.id, filmId: film.id, startsAt: new Date(Date.now() + 86_400_000).toISOString() },
  });
  expect(showing.status, JSON.stringify(showing.body)).to.equal(201);
  const seatIds: number[] = hall.body.layout.rows[0].seats.map((seat: { id: number }) => seat.id);
  return { cinema: cinema.body, hall: hall.body, showing: showing.body, film, seatIds };
}

const auditOf = async (query: string, token?: string) => {
  const response = await api('GET', `${BASE}/audit?limit=200&${query}`, { token });
  expect(response.status, JSON.stringify(response.body)).to.equal(200);
  return response.body.data as (Omit<AuditRow, 'at'> & { at: string })[];
};

describe('operators', () => {
  before(async () => {
    await testSystem();
  });

  describe('ownership', () => {
    it("when operator A reads, changes or deletes operator B's hall, should answer 404 and leave it as it was", async () => {
      const a = await makeOperator();
      const b = await makeOperator();
      const { hall } = await makeOperatorCinema(b.key);
      expectError(await api('GET', `${BASE}/halls/${hall.id}`, { token: a.key }), 404, 'HALL_NOT_FOUND');
      expectError(
        await api('PATCH', `${BASE}/halls/${hall.id}`, { token: a.key, body: { name: 'Taken over' } }),
        404,
        'HALL_NOT_FOUND',
      );
      expectError(await api('DELETE', `${BASE}/halls/${hall.id}`, { token: a.key }), 404, 'HALL_NOT_FOUND');
      // The same answer as for a hall that does not exist at all: no existence leak.
      expectError(await api('GET', `${BASE}/halls/999999999`, { token: a.key }), 404, 'HALL_NOT_FOUND');
      const after = await api('GET', `${BASE}/halls/${hall.id}`, { token: b.key });
      expect(after.status).to.equal(200);
      expect(after.body.name).to.equal('Hall 1');
      // Buyers and the admin still read it.
      expect((await api('GET', `${BASE}/halls/${hall.id}`, { token: null })).status).to.equal(200);
    });

    it("when operator A acts on operator B's cinema, showing or seats, should answer 404 for each and change nothing", async () => {
      const a = await makeOperator();
      const b = await makeOperator();
      const { cinema, hall, showing, film, seatIds } = await makeOperatorCinema(b.key);
      const token = a.key;
      const refusals: [string, string, unknown, string][] = [
        ['PATCH', `/cinemas/${cinema.id}`, { name: 'Mine now' }, 'CINEMA_NOT_FOUND'],
        ['DELETE', `/cinemas/${cinema.id}`, undefined, 'CINEMA_NOT_FOUND'],
        ['POST', '/halls', { cinemaId: cinema.id, name: 'Intruder', layout: smallLayout() }, 'CINEMA_NOT_FOUND'],
        [
          'POST',
          '/showings',
          { hallId: hall.id, filmId: film.id, startsAt: new Date(Date.now() + 2 * 86_400_000).toISOString() },
          'HALL_NOT_FOUND',
        ],
        ['PATCH', `/showings/${showing.id}`, { prices: { standard: 1 } }, 'SHOWING_NOT_FOUND'],
        ['DELETE', `/showings/${showing.id}`, undefined, 'SHOWING_NOT_FOUND'],
        ['POST', `/showings/${showing.id}/cancel`, undefined, 'SHOWING_NOT_FOUND'],
        ['POST', `/showings/${showing.id}/blocks`, { seatIds: [seatIds[0]], reason: 'broken' }, 'SHOWING_NOT_FOUND'],
        ['GET', `/showings/${showing.id}/blocks`, undefined, 'SHOWING_NOT_FOUND'],
        ['GET', `/showings/${showing.id}/tickets`, undefined, 'SHOWING_NOT_FOUND'],
        ['GET', `/cinemas/${cinema.id}/halls`, undefined, 'CINEMA_NOT_FOUND'],
        ['GET', `/halls/${hall.id}/showings`, undefined, 'HALL_NOT_FOUND'],
        ['GET', `/showings/${showing.id}`, undefined, 'SHOWING_NOT_FOUND'],
      ];
      for (const [method, path, body, code] of refusals) {
        expectError(await api(method, `${BASE}${path}`, { token, body }), 404, code);
      }
      const unchanged = await api('GET', `${BASE}/showings/${showing.id}`, { token: b.key });
      expect(unchanged.body).to.include({ status: 'scheduled' });
      expect(unchanged.body.prices.standard).to.equal(showing.prices.standard);
      expect((await api('GET', `${BASE}/showings/${showing.id}/blocks`, { token: b.key })).body.blocks).to.deep.equal(
        [],
      );
      expect((await api('GET', `${BASE}/cinemas/${cinema.id}/halls`, { token: b.key })).body.data).to.have.length(1);
    });

    it("when an operator lists cinemas, halls or showings with its key, should see its own only; without a key, everyone's", async () => {
      const a = await makeOperator();
      const b = await makeOperator();
      const mine = await makeOperatorCinema(a.key);
      const theirs = await makeOperatorCinema(b.key);
      for (const [path, own, other] of [
        ['/cinemas', mine.cinema.id, theirs.cinema.id],
        ['/halls', mine.hall.id, theirs.hall.id],
        ['/showings', mine.showing.id, theirs.showing.id],
        [`/films/${theirs.film.id}/showings`, undefined, theirs.showing.id],
      ] as const) {
        const seen = (await api('GET', `${BASE}${path}?limit=200`, { token: a.key })).body.data.map(
          (item: { id: number }) => item.id,
        );
        if (own !== undefined) expect(seen, path).to.include(own);
        expect(seen, path).not.to.include(other);
        const all = (await api('GET', `${BASE}${path}?limit=200`, { token: null })).body;
        expect(all.data.length, path).to.be.above(0);
      }
      const cinemas = (await api('GET', `${BASE}/cinemas?limit=200`, { token: a.key })).body.data;
      expect(cinemas.every((cinema: { operatorId: number }) => cinema.operatorId === a.id)).to.equal(true);
    });

    it('when an operator creates a cinema, should own it; naming another operator should answer 404; the admin may give it to one', async () => {
      const a = await makeOperator();
      const b = await makeOperator();
      const city = await makeCity();
      const fields = { cityId: city.id, name: uniqueName('Cinema'), timezone: 'Europe/Moscow' };
      const own = await api('POST', `${BASE}/cinemas`, { token: a.key, body: fields });
      expect(own.status).to.equal(201);
      expect(own.body.operatorId).to.equal(a.id);
      expectError(
        await api('POST', `${BASE}/cinemas`, { token: a.key, body: { ...fields, operatorId: b.id } }),
        404,
        'OPERATOR_NOT_FOUND',
      );
      expectError(
        await api('PATCH', `${BASE}/cinemas/${own.body.id}`, { token: a.key, body: { operatorId: b.id } }),
        404,
        'OPERATOR_NOT_FOUND',
      );
      expectError(
        await api('PATCH', `${BASE}/cinemas/${own.body.id}`, { token: a.key, body: { operatorId: null } }),
        403,
        'FORBIDDEN',
      );
      const given = await api('PATCH', `${BASE}/cinemas/${own.body.id}`, { body: { operatorId: b.id } });
      expect(given.body.operatorId).to.equal(b.id);
      // Both operators' logs show the cinema changing hands.
      for (const operator of [a, b]) {
        const entries = await auditOf(`operatorId=${operator.id}&entity=cinemas&entityId=${own.body.id}`);
        expect(
          entries.map((entry) => entry.action),
          `operator ${operator.id}`,
        ).to.include('update');
      }
      expectError(await api('GET', `${BASE}/cinemas/${own.body.id}`, { token: a.key }), 404, 'CINEMA_NOT_FOUND');
      expect((await api('GET', `${BASE}/cinemas/${own.body.id}`, { token: b.key })).status).to.equal(200);
      expectError(
        await api('POST', `${BASE}/cinemas`, {
          body: { ...fields, name: uniqueName('Cinema'), operatorId: 999999999 },
        }),
        404,
        'OPERATOR_NOT_FOUND',
      );
      expectError(await api('DELETE', `${BASE}/operators/${b.id}`), 409, 'OPERATOR_HAS_CINEMAS');
    });

    it("when an operator's key is used on the admin's routes or on another operator, should answer 403 or 404", async () => {
      const a = await makeOperator();
      const b = await makeOperator();
      expectError(
        await api('POST', `${BASE}/films`, { token: a.key, body: { title: 'x', durationMinutes: 90 } }),
        403,
        'FORBIDDEN',
      );
      expectError(
        await api('POST', `${BASE}/cities`, { token: a.key, body: { name: uniqueName('City') } }),
        403,
        'FORBIDDEN',
      );
      expectError(await api('GET', `${BASE}/operators`, { token: a.key }), 403, 'FORBIDDEN');
      expectError(await api('POST', `${BASE}/operators`, { token: a.key, body: { name: 'x' } }), 403, 'FORBIDDEN');
      expectError(await api('GET', `${BASE}/operators/${b.id}`, { token: a.key }), 404, 'OPERATOR_NOT_FOUND');
      expectError(await api('GET', `${BASE}/operators/${b.id}/keys`, { token: a.key }), 404, 'OPERATOR_NOT_FOUND');
      expectError(
        await api('POST', `${BASE}/operators/${b.id}/keys/${b.keyId}/revoke`, { token: a.key }),
        404,
        'OPERATOR_NOT_FOUND',
      );
      expectError(
        await api('POST', `${BASE}/operators/${a.id}/keys/${b.keyId}/revoke`, { token: a.key }),
        404,
        'API_KEY_NOT_FOUND',
      );
      expect((await api('GET', `${BASE}/operators/${a.id}`, { token: a.key })).body.id).to.equal(a.id);
    });
  });

  describe('API keys', () => {
    it('when a key is issued, should show it once, keep only its digest, and record when it was last used', async () => {
      const operator = await makeOperator();
      const listed = await api('GET', `${BASE}/operators/${operator.id}/keys`);
      expect(listed.body.data).to.have.length(1);
      expect(listed.body.data[0]).not.to.have.property('key');
      expect(listed.body.data[0].lastUsedAt).to.equal(null);
      const { deps } = await testSystem();
      const stored = await deps.db('operator_keys').where({ id: operator.keyId }).first();
      expect(stored.secret_hash).to.be.instanceOf(Buffer);
      expect(stored.secret_hash.toString('hex')).not.to.include(Buffer.from(operator.key).toString('hex'));
      expect(JSON.stringify(stored)).not.to.include(/^cop_\d+_(.+)$/.exec(operator.key)![1]);

      await api('GET', `${BASE}/operators/${operator.id}`, { token: operator.key });
      const used = await api('GET', `${BASE}/operators/${operator.id}/keys`);
      expect(used.body.data[0].lastUsedAt).to.be.a('string');
    });

    it("when a key is revoked, should refuse it from the next request on and leave the operator's other keys working", async () => {
      const operator = await makeOperator();
      const second = await api<IssuedKey>('POST', `${BASE}/operators/${operator.id}/keys`, {
        token: operator.key,
        body: { label: 'ci' },
      });
      expect(second.status).to.equal(201);
      const revoked = await api('POST', `${BASE}/operators/${operator.id}/keys/${operator.keyId}/revoke`, {
        token: second.body.key,
      });
      expect(revoked.status).to.equal(200);
      expect(revoked.body.revokedAt).to.be.a('string');
      const refused = await api('POST', `${BASE}/cinemas`, {
        token: operator.key,
        body: { cityId: (await makeCity()).id, name: uniqueName('Cinema'), timezone: 'Europe/Moscow' },
      });
      expectError(refused, 401, 'API_KEY_REVOKED');
      expectError(await api('GET', `${BASE}/halls?limit=1`, { token: operator.key }), 401, 'API_KEY_REVOKED');
      expect((await api('GET', `${BASE}/operators/${operator.id}`, { token: second.body.key })).status).to.equal(200);
      // Revoking twice keeps the first time.
      const again = await api('POST', `${BASE}/operators/${operator.id}/keys/${operator.keyId}/revoke`);
      expect(again.body.revokedAt).to.equal(revoked.body.revokedAt);
    });

    it('when a key is rotated, should issue a new one and stop the old one after the grace period, at once with none', async () => {
      const operator = await makeOperator();
      const graced = await api('POST', `${BASE}/operators/${operator.id}/keys/${operator.keyId}/rotate`, {
        token: operator.key,
        body: { graceSeconds: 3600 },
      });
      expect(graced.status, JSON.stringify(graced.body)).to.equal(201);
      expect(graced.body.replaces).to.include({ id: operator.keyId, replacedBy: graced.body.id });
      expect(Date.parse(graced.body.replaces.revokedAt)).to.be.above(Date.now() + 3500_000);
      // Within the grace period both keys work.
      expect((await api('GET', `${BASE}/operators/${operator.id}`, { token: operator.key })).status).to.equal(200);
      expect((await api('GET', `${BASE}/operators/${operator.id}`, { token: graced.body.key })).status).to.equal(200);
      expectError(
        await api('POST', `${BASE}/operators/${operator.id}/keys/${operator.keyId}/rotate`, { body: {} }),
        409,
        'API_KEY_ALREADY_REVOKED',
      );
      // The key being replaced still works, but can neither mint a key nor revoke its replacement.
      expectError(
        await api('POST', `${BASE}/operators/${operator.id}/keys`, { token: operator.key, body: { label: 'mine' } }),
        403,
        'FORBIDDEN',
      );
      expectError(
        await api('POST', `${BASE}/operators/${operator.id}/keys/${graced.body.id}/revoke`, { token: operator.key }),
        403,
        'FORBIDDEN',
      );

      const immediate = await api('POST', `${BASE}/operators/${operator.id}/keys/${graced.body.id}/rotate`, {
        token: graced.body.key,
        body: {},
      });
      expect(immediate.status).to.equal(201);
      expectError(
        await api('GET', `${BASE}/operators/${operator.id}`, { token: graced.body.key }),
        401,
        'API_KEY_REVOKED',
      );
      expect((await api('GET', `${BASE}/operators/${operator.id}`, { token: immediate.body.key })).status).to.equal(
        200,
      );
    });

    it('when a key has a wrong secret, an unknown id or no key shape, should answer 403; without a token 401', async () => {
      const operator = await makeOperator();
      const [, keyId, secret] = /^cop_(\d+)_(.+)$/.exec(operator.key)!;
      const wrongSecret = `cop_${keyId}_${secret!.slice(0, -1)}${secret!.endsWith('A') ? 'B' : 'A'}`;
      for (const token of [wrongSecret, `cop_999999999_${secret}`, 'cop_1_short', 'not-a-key']) {
        expectError(await api('GET', `${BASE}/operators/${operator.id}`, { token }), 403, 'FORBIDDEN');
      }
      expectError(await api('GET', `${BASE}/operators/${operator.id}`, { token: null }), 401, 'UNAUTHORIZED');
      // A public read ignores a token that is no key (an order's, say), but checks one shaped like a key.
      expect((await api('GET', `${BASE}/cinemas?limit=1`, { token: 'not-a-key' })).status).to.equal(200);
      expectError(await api('GET', `${BASE}/cinemas?limit=1`, { token: wrongSecret }), 403, 'FORBIDDEN');
    });
  });

  describe('audit log', () => {
    it('when an operator writes, should record who, what, when, before and after in the same transaction', async () => {
      const operator = await makeOperator();
      const { hall, showing, seatIds } = await makeOperatorCinema(operator.key);
      const renamed = await api('PATCH', `${BASE}/halls/${hall.id}`, { token: operator.key, body: { name: 'Hall 2' } });
      expect(renamed.status).to.equal(200);
      await api('POST', `${BASE}/showings/${showing.id}/blocks`, {
        token: operator.key,
        body: { seatIds: [seatIds[0]], reason: 'broken' },
      });
      await api('POST', `${BASE}/showings/${showing.id}/cancel`, { token: operator.key });

      const hallEntries = await auditOf(`entity=halls&entityId=${hall.id}`);
      const update = hallEntries.find((entry) => entry.action === 'update')!;
      expect(update).to.include({
        actor: `operator ${operator.id} (key ${operator.keyId})`,
        actorOperatorId: operator.id,
        actorKeyId: operator.keyId,
        operatorId: operator.id,
        request: `PATCH ${BASE}/halls/${hall.id}`,
      });
      expect(update.before).to.include({ name: 'Hall 1' });
      expect(update.after).to.include({ name: 'Hall 2' });

      const own = await auditOf(`operatorId=${operator.id}`);
      const kinds = new Set(own.map((entry) => `${entry.entity} ${entry.action}`));
      for (const kind of [
        'operators insert',
        'operator_keys insert',
        'cinemas insert',
        'halls insert',
        'halls update',
        'showings insert',
        'seat_blocks insert',
        'showings update',
      ]) {
        expect([...kinds], kind).to.include(kind);
      }
      const cancel = own.filter((entry) => entry.request === `POST ${BASE}/showings/${showing.id}/cancel`);
      expect(cancel).to.have.length(1);
      expect(cancel[0]!.before).to.include({ cancelled_at: null });
      expect(cancel[0]!.after!.cancelled_at).to.be.a('string');
      // A block is its own row; the showing's seat-map counters it moves are the system's, not recorded.
      const block = own.filter((entry) => entry.request === `POST ${BASE}/showings/${showing.id}/blocks`);
      expect(block.map((entry) => entry.entity)).to.deep.equal(['seat_blocks']);
      expect(own.every((entry) => entry.operatorId === operator.id)).to.equal(true);
      expect(JSON.stringify(own)).not.to.include('secret_hash');
    });

    it('when a write is refused, should record nothing; an operator should read only its own entries', async () => {
      const a = await makeOperator();
      const b = await makeOperator();
      const { cinema } = await makeOperatorCinema(a.key);
      await makeOperatorCinema(b.key);
      const before = await auditOf(`operatorId=${a.id}`);
      const taken = await api('POST', `${BASE}/halls`, {
        token: a.key,
        body: { cinemaId: cinema.id, name: 'Hall 1', layout: smallLayout() },
      });
      expectError(taken, 409, 'HALL_NAME_TAKEN');
      expect(await auditOf(`operatorId=${a.id}`)).to.have.length(before.length);

      const seenByA = await auditOf(`operatorId=${b.id}`, a.key);
      expect(seenByA.length).to.be.above(0);
      expect(seenByA.every((entry) => entry.operatorId === a.id)).to.equal(true);
    });

    it('when anyone changes or deletes an audit entry, even with SQL, should be refused', async () => {
      await makeOperator();
      const { deps } = await testSystem();
      const refusals = [
        await databaseRefusal(deps.db('audit_log').update({ actor: 'nobody' })),
        await databaseRefusal(deps.db('audit_log').delete()),
        await databaseRefusal(deps.db.raw('TRUNCATE audit_log')),
      ];
      for (const refusal of refusals) expect(refusal.code).to.equal('42501');
    });

    it('when the admin writes, should record it as the admin; cities and films too', async () => {
      const city = await makeCity();
      const entries = await auditOf(`entity=cities&entityId=${city.id}`);
      expect(entries).to.have.length(1);
      expect(entries[0]).to.include({ actor: 'admin', action: 'insert', operatorId: null, actorOperatorId: null });
      expect(entries[0]!.after).to.include({ name: city.name });
    });
  });
});
