import { openAnswer, sealAnswer } from './response-seal';

describe('sealAnswer / openAnswer', () => {
  const body = Buffer.from('{"key":"alder_plain_secret"}');

  it('opens with the same API key and context only', () => {
    const sealed = sealAnswer('alder_key_one', 'createApiKey\nk1', body);
    expect(openAnswer('alder_key_one', 'createApiKey\nk1', sealed)).toEqual(body);
    expect(() => openAnswer('alder_key_two', 'createApiKey\nk1', sealed)).toThrow();
    expect(() => openAnswer('alder_key_one', 'createApiKey\nk2', sealed)).toThrow();
  });

  it('holds nothing of the body in the clear, and never seals the same way twice', () => {
    const a = sealAnswer('alder_key_one', 'c', body);
    const b = sealAnswer('alder_key_one', 'c', body);
    expect(a.toString('latin1')).not.toContain('alder_plain_secret');
    expect(a.equals(b)).toBe(false);
    expect(a.length).toBe(body.length + 12 + 16);
  });

  it('refuses a body that was tampered with', () => {
    const sealed = sealAnswer('alder_key_one', 'c', body);
    sealed[sealed.length - 1]! ^= 1;
    expect(() => openAnswer('alder_key_one', 'c', sealed)).toThrow();
  });
});
