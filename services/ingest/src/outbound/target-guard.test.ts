import { addressRefusal, guardedLookup, resolvedRefusal, targetPolicy, urlRefusal } from './target-guard';

const strict = targetPolicy({ WEBHOOK_ALLOW_PRIVATE_TARGETS: false, WEBHOOK_ALLOWED_CIDRS: [] });

describe('target guard', () => {
  it('refuses every address that is not public unicast, IPv4 and IPv6, mapped ones as what they carry', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255',
      '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:169.254.169.254']) {
      expect([address, addressRefusal(address, strict)]).toEqual([address, expect.stringContaining('address')]);
    }
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) expect([address, addressRefusal(address, strict)]).toEqual([address, null]);
  });

  it('takes everything when private targets are allowed, and the listed ranges only otherwise', () => {
    expect(addressRefusal('127.0.0.1', targetPolicy({ WEBHOOK_ALLOW_PRIVATE_TARGETS: true, WEBHOOK_ALLOWED_CIDRS: [] }))).toBeNull();
    const listed = targetPolicy({ WEBHOOK_ALLOW_PRIVATE_TARGETS: false, WEBHOOK_ALLOWED_CIDRS: ['127.0.0.1/32', 'fd00::/8'] });
    expect(addressRefusal('127.0.0.1', listed)).toBeNull();
    expect(addressRefusal('::ffff:127.0.0.1', listed)).toBeNull();
    expect(addressRefusal('fd00::5', listed)).toBeNull();
    expect(addressRefusal('127.0.0.2', listed)).toMatch(/loopback/);
    expect(addressRefusal('169.254.169.254', listed)).toMatch(/linkLocal/);
  });

  it('refuses other schemes, credentials and private IP literals in URLs', () => {
    expect(urlRefusal(new URL('ftp://example.com/x'), strict)).toMatch(/not http/);
    expect(urlRefusal(new URL('https://user:pw@example.com/x'), strict)).toMatch(/user or password/);
    expect(urlRefusal(new URL('http://[::1]:8080/x'), strict)).toMatch(/loopback/);
    expect(urlRefusal(new URL('http://0x7f.1/x'), strict)).toMatch(/loopback/); // WHATWG URL normalises it to 127.0.0.1
    expect(urlRefusal(new URL('https://example.com/x'), strict)).toBeNull();
  });

  it('refuses a name when any address it resolves to is refused', async () => {
    const fake = (addresses: string[]) => ((_h: string, _o: unknown, cb: (e: null, a: { address: string; family: number }[]) => void) => cb(null, addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })))) as never;
    const run = (addresses: string[], all: boolean) =>
      new Promise<unknown>((resolve) => guardedLookup(strict, fake(addresses))('receiver.test', { all }, (error, address) => resolve(error ? error.message : address)));
    expect(await run(['93.184.216.34', '10.0.0.7'], true)).toMatch(/receiver.test resolves to 10.0.0.7 is a private address/);
    expect(await run(['93.184.216.34'], true)).toEqual([{ address: '93.184.216.34', family: 4 }]);
    expect(await run(['93.184.216.34'], false)).toBe('93.184.216.34');
    expect(await resolvedRefusal(new URL('http://localhost:1/'), strict)).toMatch(/localhost resolves to .* loopback/);
  });
});
