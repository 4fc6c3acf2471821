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
});
