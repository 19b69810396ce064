import { expect } from 'chai';
import { ConfigError, parseConfig, parseDataTaskConfig } from './config.js';

const strong = (name: string) => `${name.toLowerCase()}-${'x'.repeat(40)}`;

const production = (overrides: Record<string, string | undefined> = {}) => ({
  NODE_ENV: 'production',
  ADMIN_TOKEN: strong('admin'),
  ORDER_TOKEN_SECRET: strong('order'),
  PAYMENT_SERVICE_KEY: strong('payment'),
  PAYMENT_SERVICE_URL: 'https://pay.internal/api/v1',
  ROLES: 'catalog,tickets,workers,realtime',
  ...overrides,
});

function problemsOf(env: Record<string, string | undefined>): string {
  try {
    parseConfig(env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('process configuration', () => {
  it('when production is given its own secrets and payment service, should start without demo data, listening on every interface', () => {
    const config = parseConfig(production());
    expect(config.SEED_WHEN_EMPTY).to.equal(false);
    expect(config.HOST).to.equal('0.0.0.0');
    expect(config.MIGRATE_ON_START).to.equal(true);
    expect(config.PAYMENT_SERVICE_URL).to.equal('https://pay.internal/api/v1');
  });

  it('when production lacks a secret, has a short one or a placeholder, should name each', () => {
    const message = problemsOf(
      production({
        ADMIN_TOKEN: undefined,
        ORDER_TOKEN_SECRET: 'short-but-16-chars',
        PAYMENT_SERVICE_KEY: `change-me-${'x'.repeat(30)}`,
      }),
    );
    expect(message).to.include('ADMIN_TOKEN: required in production');
    expect(message).to.include('ORDER_TOKEN_SECRET: must be at least 32 characters');
    expect(message).to.include('PAYMENT_SERVICE_KEY: is a placeholder');
  });

  it('when production has bad settings and missing ones together, should list every problem in one refusal, with the production rule for a short secret', () => {
    const message = problemsOf(
      production({ ADMIN_TOKEN: 'short', PORT: 'not-a-port', PAYMENT_SERVICE_URL: undefined, ROLES: 'payments' }),
    );
    expect(message).to.include('PORT:');
    expect(message).to.include('ADMIN_TOKEN: must be at least 32 characters in production');
    expect(message).not.to.include('at least 16');
    expect(message).to.include('PAYMENT_SERVICE_URL: required');
    expect(message).to.include('PAYMENT_SIMULATOR_ALLOWED=true');
  });

  it('when production names no payment service, should refuse rather than call the simulator', () => {
    expect(problemsOf(production({ PAYMENT_SERVICE_URL: undefined }))).to.include('PAYMENT_SERVICE_URL: required');
  });

  it('when production runs the payment simulator, should need it allowed, and then start it without faults', () => {
    expect(problemsOf(production({ ROLES: 'payments' }))).to.include('PAYMENT_SIMULATOR_ALLOWED=true');
    const config = parseConfig(production({ ROLES: 'payments', PAYMENT_SIMULATOR_ALLOWED: 'true' }));
    expect([
      config.PROVIDER_DECLINE_RATE,
      config.PROVIDER_ERROR_RATE,
      config.PROVIDER_TIMEOUT_RATE,
      config.PROVIDER_TIMEOUT_AFTER_CHARGE_RATE,
    ]).to.deep.equal([0, 0, 0, 0]);
    expect(
      parseConfig(production({ ROLES: 'payments', PAYMENT_SIMULATOR_ALLOWED: 'true', PROVIDER_ERROR_RATE: '0.2' }))
        .PROVIDER_ERROR_RATE,
    ).to.equal(0.2);
  });

  it('when development keeps the published secrets, should listen on loopback only and refuse another address', () => {
    const config = parseConfig({});
    expect(config.HOST).to.equal('127.0.0.1');
    expect(config.SEED_WHEN_EMPTY).to.equal(true);
    const message = problemsOf({ HOST: '0.0.0.0', ADMIN_TOKEN: strong('admin') });
    expect(message).to.include('ORDER_TOKEN_SECRET: the published development default cannot be used on 0.0.0.0');
    expect(message).to.include('PAYMENT_SERVICE_KEY');
    expect(message).not.to.include('ADMIN_TOKEN');
  });

  it('when CORS origins are listed, should parse each and refuse one that is not a URL', () => {
    expect(parseConfig({ CORS_ORIGINS: 'https://tickets.example, https://admin.example' }).CORS_ORIGINS).to.deep.equal([
      'https://tickets.example',
      'https://admin.example',
    ]);
    expect(problemsOf({ CORS_ORIGINS: 'tickets' })).to.include('CORS_ORIGINS');
  });

  it('when a one-shot task on the database (migrate, seed) starts in production, should need only the database', () => {
    expect(parseDataTaskConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/cinema' }).DATABASE_URL).to.equal(
      'postgres://db/cinema',
    );
  });
});
