import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Route } from '../../api/http/route.js';
import { sampleLatencyMs, type PaymentBehaviour } from '../../simulators/payment-provider/behaviour.js';
import type { ChargeView as Charge, RefundView as Refund } from '../../simulators/payment-provider/charges.js';
import { providerStorage } from '../../simulators/payment-provider/storage.js';
import { eventually } from '../orders/support.js';
import { ADMIN_TOKEN, api, testSystem, type ApiResponse } from '../system.js';

type ErrorBody = { error: { code: string; message: string; details?: any } };

const serviceKey = async () => (await testSystem()).config.PAYMENT_SERVICE_KEY;

async function call<T = any>(
  method: string,
  path: string,
  options: { body?: unknown; key?: string | null } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = options.key ? { 'idempotency-key': options.key } : {};
  return api<T>(method, `/api/v1${path}`, { body: options.body, token: await serviceKey(), headers });
}

const chargeBody = (token = 'tok_visa', overrides: Record<string, unknown> = {}) => ({
  amount: 1500,
  currency: 'RUB',
  reference: `order-${randomUUID()}`,
  token,
  ...overrides,
});

const postCharge = <T = Charge>(body: unknown, key: string | null = randomUUID()) =>
  call<T>('POST', '/charges', { body, key });
const postRefund = <T = Refund>(body: unknown, key: string | null = randomUUID()) =>
  call<T>('POST', '/refunds', { body, key });

async function succeededCharge(amount = 1500): Promise<Charge> {
  const response = await postCharge(chargeBody('tok_visa', { amount }));
  expect(response.status, JSON.stringify(response.body)).to.equal(201);
  return response.body;
}

async function chargeRowsWithKey(key: string): Promise<{ status: string }[]> {
  const { deps } = await testSystem();
  return deps.db('payment_service.charges').select('status').where({ idempotency_key: key });
}

const changeBehaviour = (changes: Partial<PaymentBehaviour>) =>
  call<PaymentBehaviour>('PUT', '/payment-behaviour', { body: changes });

const simulatorRoutes = async (): Promise<Route[]> => (await testSystem()).routes.payments;

/** The body of a response must parse with the schema its route documents. */
async function expectDocumented(method: string, path: string, body: unknown) {
  const route = (await simulatorRoutes()).find((candidate) => candidate.method === method && candidate.path === path)!;
  const result = route.response!.safeParse(body);
  expect(result.success, `${method} ${path}: ${JSON.stringify(result.error?.issues)}`).to.equal(true);
}

describe('payment service', () => {
  let original: PaymentBehaviour;

  before(async () => {
    original = (await call<PaymentBehaviour>('GET', '/payment-behaviour')).body;
  });

  // Other suites rely on the test defaults: every test leaves the behaviour as it found it.
  afterEach(async () => {
    const restored = await changeBehaviour(original);
    expect(restored.body).to.deep.equal(original);
  });

  describe('authentication', () => {
    it('when a payment service route is called without a token, with a wrong one or with the admin token, should answer 401 / 403', async () => {
      const routes = await simulatorRoutes();
      expect(routes.every((route) => route.guard === 'serviceKey')).to.equal(true);
      for (const route of routes) {
        const path = `/api/v1${route.path.replace(':id', randomUUID())}`;
        const method = route.method.toUpperCase();
        const body = method === 'GET' ? undefined : {};
        const missing = await api<ErrorBody>(method, path, { token: null, body });
        expect(missing.status, `${method} ${path}`).to.equal(401);
        expect(missing.body.error.code).to.equal('UNAUTHORIZED');
        for (const token of ['wrong-key-0123456789', ADMIN_TOKEN]) {
          const wrong = await api<ErrorBody>(method, path, { token, body });
          expect(wrong.status, `${method} ${path}`).to.equal(403);
          expect(wrong.body.error.code).to.equal('FORBIDDEN');
        }
      }
    });
  });

  describe('charges', () => {
    it('when an ordinary card is charged, should answer 201 with the succeeded charge, readable by id and by reference', async () => {
      const body = chargeBody();
      const created = await postCharge(body);
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(created.body).to.deep.include({
        status: 'succeeded',
        amount: 1500,
        currency: 'RUB',
        reference: body.reference,
        declineCode: null,
        refundedAmount: 0,
      });
      expect(created.body).to.not.have.property('token');
      await expectDocumented('post', '/charges', created.body);

      const read = await call<Charge>('GET', `/charges/${created.body.id}`);
      expect(read.status).to.equal(200);
      expect(read.body).to.deep.equal(created.body);
      await expectDocumented('get', '/charges/:id', read.body);

      const listed = await call<{ data: Charge[] }>('GET', `/charges?reference=${encodeURIComponent(body.reference)}`);
      expect(listed.body.data).to.deep.equal([created.body]);
      await expectDocumented('get', '/charges', listed.body);
    });

    it('when the card token asks for a decline, should answer 402 CARD_DECLINED with the declined charge and its decline code', async () => {
      for (const [token, declineCode] of [
        ['tok_decline', 'card_declined'],
        ['tok_insufficient_funds', 'insufficient_funds'],
      ] as const) {
        const body = chargeBody(token);
        const response = await postCharge<ErrorBody>(body);
        expect(response.status, token).to.equal(402);
        expect(response.body.error.code).to.equal('CARD_DECLINED');
        const charge = response.body.error.details.charge as Charge;
        expect(charge).to.deep.include({
          status: 'declined',
          declineCode,
          reference: body.reference,
          refundedAmount: 0,
        });
        await expectDocumented('post', '/charges', charge);
        const read = await call<Charge>('GET', `/charges/${charge.id}`);
        expect(read.body).to.deep.equal(charge);
      }
    });

    it('when the card token asks for an error, should answer 503 PROVIDER_UNAVAILABLE at once and store nothing', async () => {
      const key = randomUUID();
      const body = chargeBody('tok_error');
      const response = await postCharge<ErrorBody>(body, key);
      expect(response.status).to.equal(503);
      expect(response.body.error.code).to.equal('PROVIDER_UNAVAILABLE');
      expect(await chargeRowsWithKey(key)).to.deep.equal([]);
      const listed = await call<{ data: Charge[] }>('GET', `/charges?reference=${body.reference}`);
      expect(listed.body.data).to.deep.equal([]);
    });

    it('when the card token asks for a timeout, should answer 503 only after hangMs, store nothing, and meanwhile refuse the same key with 409 REQUEST_IN_PROGRESS', async () => {
      await changeBehaviour({ hangMs: 400 });
      const key = randomUUID();
      const body = chargeBody('tok_timeout');
      const started = Date.now();
      const hanging = postCharge<ErrorBody>(body, key);
      await eventually('the hanging attempt to hold the key', async () => (await chargeRowsWithKey(key)).length > 0);
      const during = await postCharge<ErrorBody>(body, key);
      expect(during.status, JSON.stringify(during.body)).to.equal(409);
      expect(during.body.error.code).to.equal('REQUEST_IN_PROGRESS');
      const listed = await call<{ data: Charge[] }>('GET', `/charges?reference=${body.reference}`);
      expect(listed.body.data.map((charge) => charge.status)).to.deep.equal(['processing']);
      const otherBody = await postCharge<ErrorBody>({ ...body, amount: 1 }, key);
      expect(otherBody.status).to.equal(422);

      const answered = await hanging;
      expect(answered.status).to.equal(503);
      expect(answered.body.error.code).to.equal('PROVIDER_UNAVAILABLE');
      expect(Date.now() - started).to.be.at.least(400);
      expect(await chargeRowsWithKey(key)).to.deep.equal([]);
    });

    it('when the card token asks for a timeout after the charge, should store it succeeded at once, answer replays at once, and answer the first request after hangMs', async () => {
      await changeBehaviour({ hangMs: 600 });
      const key = randomUUID();
      const body = chargeBody('tok_timeout_after_charge');
      const started = Date.now();
      let firstAnswered = false;
      const hanging = postCharge(body, key).finally(() => (firstAnswered = true));
      await eventually(
        'the charge to be stored',
        async () => (await chargeRowsWithKey(key))[0]?.status === 'succeeded',
      );
      const replay = await postCharge(body, key);
      expect(replay.status, JSON.stringify(replay.body)).to.equal(201);
      expect(replay.body.status).to.equal('succeeded');
      expect(firstAnswered, 'the replay is answered while the first request still hangs').to.equal(false);

      const answered = await hanging;
      expect(answered.status).to.equal(201);
      expect(Date.now() - started).to.be.at.least(600);
      expect(answered.body).to.deep.equal(replay.body);
      expect(await chargeRowsWithKey(key)).to.deep.equal([{ status: 'succeeded' }]);
    });

    it('when a finished charge is replayed with the same key and body, should answer with the stored charge and status and charge nothing more', async () => {
      for (const token of ['tok_visa', 'tok_decline']) {
        const key = randomUUID();
        const body = chargeBody(token);
        const first = await postCharge(body, key);
        const second = await postCharge(body, key);
        expect(second.status, token).to.equal(first.status);
        expect(second.body, token).to.deep.equal(first.body);
        expect(await chargeRowsWithKey(key)).to.have.length(1);
      }
    });

    it('when a replay of a timed-out-after-charge charge comes after the answer, should get the charge at once, the token’s hang not applied again', async () => {
      await changeBehaviour({ hangMs: 300 });
      const key = randomUUID();
      const body = chargeBody('tok_timeout_after_charge');
      const first = await postCharge(body, key);
      const started = Date.now();
      const replay = await postCharge(body, key);
      expect(Date.now() - started).to.be.below(300);
      expect(replay.status).to.equal(201);
      expect(replay.body).to.deep.equal(first.body);
    });

    it('when a key is reused with a different body, should refuse with 422 IDEMPOTENCY_KEY_REUSED and leave the charge alone', async () => {
      const key = randomUUID();
      const body = chargeBody();
      const first = await postCharge(body, key);
      expect(first.status).to.equal(201);
      const variants = {
        amount: { ...body, amount: 1501 },
        currency: { ...body, currency: 'EUR' },
        reference: { ...body, reference: `${body.reference}-2` },
        token: { ...body, token: 'tok_other' },
      };
      for (const [what, variant] of Object.entries(variants)) {
        const reused = await postCharge<ErrorBody>(variant, key);
        expect(reused.status, what).to.equal(422);
        expect(reused.body.error.code, what).to.equal('IDEMPOTENCY_KEY_REUSED');
        expect(JSON.stringify(reused.body), what).to.not.include(first.body.id);
      }
      expect(await chargeRowsWithKey(key)).to.deep.equal([{ status: 'succeeded' }]);
    });

    it('when many requests with the same key arrive at once, should charge once; the others get that charge or 409 REQUEST_IN_PROGRESS', async () => {
      const key = randomUUID();
      const body = chargeBody();
      const responses = await Promise.all(Array.from({ length: 20 }, () => postCharge<Charge & ErrorBody>(body, key)));
      const charged = responses.filter((response) => response.status === 201);
      const busy = responses.filter((response) => response.status === 409);
      expect(charged.length + busy.length, JSON.stringify(responses.map((r) => r.body))).to.equal(20);
      expect(new Set(charged.map((response) => response.body.id)).size).to.equal(1);
      for (const response of busy) expect(response.body.error.code).to.equal('REQUEST_IN_PROGRESS');
      expect(await chargeRowsWithKey(key)).to.deep.equal([{ status: 'succeeded' }]);
    });

    it('when a request failed before charging (5xx, timeout), should let a retry with the same key charge as a fresh attempt', async () => {
      const key = randomUUID();
      const body = chargeBody();
      await changeBehaviour({ errorRate: 1 });
      expect((await postCharge(body, key)).status).to.equal(503);
      await changeBehaviour({ errorRate: 0, timeoutRate: 1, hangMs: 100 });
      expect((await postCharge(body, key)).status).to.equal(503);
      expect(await chargeRowsWithKey(key)).to.deep.equal([]);
      await changeBehaviour({ timeoutRate: 0 });
      const retry = await postCharge(body, key);
      expect(retry.status).to.equal(201);
      expect(retry.body.status).to.equal('succeeded');
    });

    it('when the attempt holding a key lost its lease (its instance died), should let a retry take the key over, and the stale attempt change nothing', async () => {
      const { deps } = await testSystem();
      await changeBehaviour({ timeoutRate: 1, hangMs: 500 });
      const key = randomUUID();
      const body = chargeBody();
      const stale = postCharge<ErrorBody>(body, key);
      await eventually('the stale attempt to hold the key', async () => (await chargeRowsWithKey(key)).length > 0);
      await deps
        .db('payment_service.charges')
        .where({ idempotency_key: key })
        .update({ lease_expires_at: deps.db.raw("now() - interval '1 second'") });
      await changeBehaviour({ timeoutRate: 0 });
      const retry = await postCharge(body, key);
      expect(retry.status, JSON.stringify(retry.body)).to.equal(201);
      expect((await stale).status).to.equal(503);
      expect(await chargeRowsWithKey(key)).to.deep.equal([{ status: 'succeeded' }]);
      expect((await postCharge(body, key)).body).to.deep.equal(retry.body);
    });

    it("when an attempt died holding its key (its lease ran out, nobody took it over), should leave it out of the reference's charges and never let it charge", async () => {
      const { deps } = await testSystem();
      const reference = `order-${randomUUID()}`;
      const attempt = (id: string, lease: string) => ({
        id,
        idempotency_key: `charge:${id}`,
        reference,
        amount: 1500,
        currency: 'RUB',
        token: 'tok_visa',
        status: 'processing',
        lease_expires_at: deps.db.raw(`now() + interval '${lease}'`),
      });
      const [dead, live] = [randomUUID(), randomUUID()];
      await deps.db('payment_service.charges').insert([attempt(dead, '-1 second'), attempt(live, '1 minute')]);
      const listed = await call<{ data: Charge[] }>('GET', `/charges?reference=${reference}`);
      expect(listed.body.data.map((charge) => [charge.id, charge.status])).to.deep.equal([[live, 'processing']]);
      // Had the dead attempt's request come back to finish, it would have charged nothing.
      expect(await providerStorage.completeCharge(deps.db, dead, null)).to.equal(undefined);
      expect(await providerStorage.completeCharge(deps.db, live, null)).to.include({ status: 'succeeded' });
    });

    it('when several charges share a reference, should list them newest first, whatever their status', async () => {
      const reference = `order-${randomUUID()}`;
      const first = await postCharge<ErrorBody>(chargeBody('tok_decline', { reference }));
      const second = await postCharge(chargeBody('tok_visa', { reference }));
      const listed = await call<{ data: Charge[] }>('GET', `/charges?reference=${reference}`);
      expect(listed.status).to.equal(200);
      expect(listed.body.data.map((charge) => charge.id)).to.deep.equal([
        second.body.id,
        first.body.error.details.charge.id,
      ]);
      expect(listed.body.data.map((charge) => charge.status)).to.deep.equal(['succeeded', 'declined']);
    });

    it('when the key is missing, the body is invalid or the charge does not exist, should answer 400 / 404', async () => {
      const missingKey = await postCharge<ErrorBody>(chargeBody(), null);
      expect(missingKey.status).to.equal(400);
      expect(missingKey.body.error.code).to.equal('IDEMPOTENCY_KEY_REQUIRED');
      const longKey = await postCharge<ErrorBody>(chargeBody(), 'k'.repeat(256));
      expect(longKey.body.error.code).to.equal('VALIDATION_FAILED');
      for (const invalid of [
        { amount: 0 },
        { amount: 1.5 },
        { currency: 'rub' },
        { reference: '' },
        { token: '' },
        { extra: 1 },
      ]) {
        const response = await postCharge<ErrorBody>(chargeBody('tok_visa', invalid));
        expect(response.status, JSON.stringify(invalid)).to.equal(400);
        expect(response.body.error.code).to.equal('VALIDATION_FAILED');
      }
      const unknown = await call<ErrorBody>('GET', `/charges/${randomUUID()}`);
      expect(unknown.status).to.equal(404);
      expect(unknown.body.error.code).to.equal('CHARGE_NOT_FOUND');
    });
  });

  describe('refunds', () => {
    it('when a succeeded charge is refunded in parts, should answer 201 each time and grow its refundedAmount up to the amount, then refuse 409 REFUND_EXCEEDS_CHARGE', async () => {
      const charge = await succeededCharge(1500);
      const first = await postRefund({ chargeId: charge.id, amount: 500, reason: 'one seat cancelled' });
      expect(first.status, JSON.stringify(first.body)).to.equal(201);
      expect(first.body).to.deep.include({
        chargeId: charge.id,
        amount: 500,
        reason: 'one seat cancelled',
        status: 'succeeded',
      });
      await expectDocumented('post', '/refunds', first.body);
      expect((await call<Charge>('GET', `/charges/${charge.id}`)).body.refundedAmount).to.equal(500);

      const rest = await postRefund({ chargeId: charge.id, amount: 1000 });
      expect(rest.status).to.equal(201);
      expect(rest.body.reason).to.equal(null);
      const over = await postRefund<ErrorBody>({ chargeId: charge.id, amount: 1 });
      expect(over.status).to.equal(409);
      expect(over.body.error.code).to.equal('REFUND_EXCEEDS_CHARGE');
      expect((await call<Charge>('GET', `/charges/${charge.id}`)).body.refundedAmount).to.equal(1500);

      const listed = await call<{ data: Refund[] }>('GET', `/refunds?chargeId=${charge.id}`);
      expect(listed.status).to.equal(200);
      expect(listed.body.data.map((refund) => refund.id)).to.deep.equal([rest.body.id, first.body.id]);
      await expectDocumented('get', '/refunds', listed.body);
    });

    it('when a refund is replayed with the same key, should return the same refund and refund nothing more; another body gets 422', async () => {
      const charge = await succeededCharge(1500);
      const key = randomUUID();
      const body = { chargeId: charge.id, amount: 1500 };
      const first = await postRefund(body, key);
      const replay = await postRefund(body, key);
      expect(replay.status).to.equal(201);
      expect(replay.body).to.deep.equal(first.body);
      expect((await call<Charge>('GET', `/charges/${charge.id}`)).body.refundedAmount).to.equal(1500);
      const other = await postRefund<ErrorBody>({ ...body, amount: 100 }, key);
      expect(other.status).to.equal(422);
      expect(other.body.error.code).to.equal('IDEMPOTENCY_KEY_REUSED');
      const concurrentReplays = await Promise.all(Array.from({ length: 5 }, () => postRefund(body, key)));
      for (const response of concurrentReplays) expect(response.body).to.deep.equal(first.body);
    });

    it('when concurrent refunds together exceed the charge, should accept only what fits', async () => {
      const charge = await succeededCharge(1500);
      const pair = await Promise.all([
        postRefund<ErrorBody>({ chargeId: charge.id, amount: 1000 }),
        postRefund<ErrorBody>({ chargeId: charge.id, amount: 1000 }),
      ]);
      expect(pair.map((response) => response.status).sort()).to.deep.equal([201, 409]);
      expect(pair.find((response) => response.status === 409)!.body.error.code).to.equal('REFUND_EXCEEDS_CHARGE');

      const other = await succeededCharge(1500);
      const many = await Promise.all(
        Array.from({ length: 30 }, () => postRefund<ErrorBody>({ chargeId: other.id, amount: 100 })),
      );
      const statuses = many.map((response) => response.status);
      expect(
        statuses.filter((status) => status === 201),
        JSON.stringify(statuses),
      ).to.have.length(15);
      expect(statuses.filter((status) => status === 409)).to.have.length(15);
      expect((await call<Charge>('GET', `/charges/${other.id}`)).body.refundedAmount).to.equal(1500);
    });

    it('when the charge was declined or does not exist, should refuse with 409 CHARGE_NOT_REFUNDABLE / 404 CHARGE_NOT_FOUND', async () => {
      const declined = await postCharge<ErrorBody>(chargeBody('tok_decline'));
      const notRefundable = await postRefund<ErrorBody>({
        chargeId: declined.body.error.details.charge.id,
        amount: 100,
      });
      expect(notRefundable.status).to.equal(409);
      expect(notRefundable.body.error.code).to.equal('CHARGE_NOT_REFUNDABLE');
      const unknown = await postRefund<ErrorBody>({ chargeId: randomUUID(), amount: 100 });
      expect(unknown.status).to.equal(404);
      expect(unknown.body.error.code).to.equal('CHARGE_NOT_FOUND');
      expect((await call<ErrorBody>('GET', `/refunds?chargeId=${randomUUID()}`)).body.error.code).to.equal(
        'CHARGE_NOT_FOUND',
      );
      const missingKey = await postRefund<ErrorBody>({ chargeId: randomUUID(), amount: 100 }, null);
      expect(missingKey.body.error.code).to.equal('IDEMPOTENCY_KEY_REQUIRED');
    });
  });

  describe('behaviour', () => {
    it('when the behaviour is read, should start from the PROVIDER_* configuration', async () => {
      const { config } = await testSystem();
      const read = await call<PaymentBehaviour>('GET', '/payment-behaviour');
      expect(read.status).to.equal(200);
      expect(read.body).to.deep.equal({
        latencyMedianMs: config.PROVIDER_LATENCY_MEDIAN_MS,
        latencyP99Ms: config.PROVIDER_LATENCY_P99_MS,
        declineRate: config.PROVIDER_DECLINE_RATE,
        errorRate: config.PROVIDER_ERROR_RATE,
        timeoutRate: config.PROVIDER_TIMEOUT_RATE,
        timeoutAfterChargeRate: config.PROVIDER_TIMEOUT_AFTER_CHARGE_RATE,
        hangMs: config.PROVIDER_HANG_MS,
      });
      await expectDocumented('get', '/payment-behaviour', read.body);
    });

    it('when errorRate is set to 1, should answer every charge and refund 503 with nothing done, until it is set back to 0', async () => {
      const charge = await succeededCharge();
      const changed = await changeBehaviour({ errorRate: 1 });
      expect(changed.status).to.equal(200);
      expect(changed.body).to.deep.equal({ ...original, errorRate: 1 });
      expect((await call<PaymentBehaviour>('GET', '/payment-behaviour')).body.errorRate).to.equal(1);

      const body = chargeBody();
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const refused = await postCharge<ErrorBody>(body);
        expect(refused.status).to.equal(503);
        expect(refused.body.error.code).to.equal('PROVIDER_UNAVAILABLE');
      }
      expect((await postRefund<ErrorBody>({ chargeId: charge.id, amount: 100 })).status).to.equal(503);
      expect((await call<{ data: Charge[] }>('GET', `/charges?reference=${body.reference}`)).body.data).to.deep.equal(
        [],
      );
      expect((await call<Charge>('GET', `/charges/${charge.id}`)).body.refundedAmount).to.equal(0);

      await changeBehaviour({ errorRate: 0 });
      expect((await postCharge(body)).status).to.equal(201);
      expect((await postRefund({ chargeId: charge.id, amount: 100 })).status).to.equal(201);
    });

    it('when declineRate is set to 1, should decline ordinary cards', async () => {
      await changeBehaviour({ declineRate: 1 });
      const response = await postCharge<ErrorBody>(chargeBody());
      expect(response.status).to.equal(402);
      expect(response.body.error.details.charge.declineCode).to.equal('card_declined');
    });

    it('when a latency is set, should make charges wait about that long', async () => {
      await changeBehaviour({ latencyMedianMs: 200, latencyP99Ms: 200 });
      const started = Date.now();
      expect((await postCharge(chargeBody())).status).to.equal(201);
      expect(Date.now() - started).to.be.within(190, 1_000);
    });

    it('when the change is empty or out of range, should refuse it with 400 and keep the behaviour', async () => {
      for (const body of [
        {},
        { errorRate: 1.5 },
        { declineRate: -0.1 },
        { hangMs: 1.5 },
        { latencyMedianMs: -1 },
        { unknown: 1 },
      ]) {
        const response = await changeBehaviour(body as Partial<PaymentBehaviour>);
        expect(response.status, JSON.stringify(body)).to.equal(400);
      }
      expect((await call<PaymentBehaviour>('GET', '/payment-behaviour')).body).to.deep.equal(original);
    });
  });

  describe('latency sampler', () => {
    const percentile = (sorted: number[], p: number) => sorted[Math.floor(sorted.length * p)]!;

    it('when sampled many times, should have the configured median and 99th percentile', () => {
      const samples = Array.from({ length: 50_000 }, () =>
        sampleLatencyMs({ latencyMedianMs: 300, latencyP99Ms: 3000 }),
      ).sort((a, b) => a - b);
      expect(percentile(samples, 0.5)).to.be.within(270, 330);
      expect(percentile(samples, 0.99)).to.be.within(2500, 3500);
      expect(samples[0]).to.be.above(0);
    });

    it('when the median is 0, should not wait; when the p99 is not above the median, should always give the median', () => {
      expect(sampleLatencyMs({ latencyMedianMs: 0, latencyP99Ms: 500 })).to.equal(0);
      expect(sampleLatencyMs({ latencyMedianMs: 200, latencyP99Ms: 100 })).to.equal(200);
      expect(sampleLatencyMs({ latencyMedianMs: 200, latencyP99Ms: 200 }, () => 0.999_999)).to.equal(200);
    });
  });
});
