import { loadConfig, ConfigError } from './index';

describe('loadConfig', () => {
  it('applies defaults', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(8080);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.QUEUE_PREFIX).toBe('alder');
  });

  it('coerces numbers and treats empty strings as unset', () => {
    const config = loadConfig({ PORT: '9000', REDIS_URL: '' });
    expect(config.PORT).toBe(9000);
    expect(config.REDIS_URL).toBeUndefined();
  });

  it('names every bad variable in one error', () => {
    try {
      loadConfig({ PORT: 'abc', LOG_LEVEL: 'loud', DATABASE_URL: 'not a url' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      expect(message).toContain('PORT');
      expect(message).toContain('LOG_LEVEL');
      expect(message).toContain('DATABASE_URL');
    }
  });

  it('keeps a week of outbox rows, job claims and ended leases by default, swept every ten minutes', () => {
    const config = loadConfig({});
    expect(config.RETENTION_HOURS).toBe(168);
    expect(config.RETENTION_INTERVAL_MS).toBe(600_000);
    expect(loadConfig({ RETENTION_HOURS: '1', RETENTION_INTERVAL_MS: '1000' })).toMatchObject({ RETENTION_HOURS: 1, RETENTION_INTERVAL_MS: 1000 });
  });

  it('keeps Idempotency-Keys for 24 hours by default, at least one hour, in whole hours', () => {
    expect(loadConfig({}).IDEMPOTENCY_KEY_TTL_HOURS).toBe(24);
    expect(loadConfig({ IDEMPOTENCY_KEY_TTL_HOURS: '1' }).IDEMPOTENCY_KEY_TTL_HOURS).toBe(1);
    for (const env of [{ IDEMPOTENCY_KEY_TTL_HOURS: '0' }, { IDEMPOTENCY_KEY_TTL_HOURS: '1.5' }, { IDEMPOTENCY_KEY_TTL_HOURS: 'day' }, { IDEMPOTENCY_KEY_TTL_HOURS: '9000' }]) {
      expect(() => loadConfig(env)).toThrow(/IDEMPOTENCY_KEY_TTL_HOURS/);
    }
  });

  it('refuses a retention horizon under an hour and a sweep more often than every second', () => {
    for (const env of [{ RETENTION_HOURS: '0' }, { RETENTION_HOURS: '0.5' }, { RETENTION_HOURS: '-3' }, { RETENTION_HOURS: 'week' }]) {
      expect(() => loadConfig(env)).toThrow(/RETENTION_HOURS/);
    }
    for (const env of [{ RETENTION_INTERVAL_MS: '999' }, { RETENTION_INTERVAL_MS: '1.5e3x' }]) {
      expect(() => loadConfig(env)).toThrow(/RETENTION_INTERVAL_MS/);
    }
  });

  it('reads the webhook retry schedule as durations, Standard Webhooks senders\' by default', () => {
    expect(loadConfig({}).WEBHOOK_RETRY_SCHEDULE).toEqual([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(loadConfig({ WEBHOOK_RETRY_SCHEDULE: '0ms, 50ms,1s' }).WEBHOOK_RETRY_SCHEDULE).toEqual([0, 50, 1_000]);
    for (const schedule of ['5', '5 s', '1.5s', '1w', ',', '8d']) {
      expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: schedule })).toThrow(/WEBHOOK_RETRY_SCHEDULE/);
    }
  });

  it('refuses private webhook targets unless told, and reads its flags and CIDRs strictly', () => {
    expect(loadConfig({}).WEBHOOK_ALLOW_PRIVATE_TARGETS).toBe(false);
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }).WEBHOOK_ALLOW_PRIVATE_TARGETS).toBe(true);
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'yes' })).toThrow(/WEBHOOK_ALLOW_PRIVATE_TARGETS/);
    expect(loadConfig({ WEBHOOK_ALLOWED_CIDRS: '10.1.0.0/16, fd00::/8' }).WEBHOOK_ALLOWED_CIDRS).toEqual(['10.1.0.0/16', 'fd00::/8']);
    expect(() => loadConfig({ WEBHOOK_ALLOWED_CIDRS: 'intranet' })).toThrow(/WEBHOOK_ALLOWED_CIDRS/);
  });
});
