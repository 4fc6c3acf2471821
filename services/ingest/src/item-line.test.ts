import { readItemLine } from './item-line';

const labels = new Set(['pos', 'neg']);
const read = (value: unknown) => readItemLine(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), labels);
const emoji = '\u{1F600}'; // one code point, two UTF-16 units

describe('readItemLine', () => {
  it('takes an item line', () => {
    expect(read({ external_id: 'a', text: 'great film', meta: { k: 1 }, label: 'pos' })).toEqual({
      item: { external_id: 'a', text: 'great film', meta: { k: 1 }, split: 'pool', label: 'pos', gold: false },
    });
  });

  it('counts lengths in code points, as the JSON batch does: astral characters count once', () => {
    // external_id has maxLength 256: 256 emoji are 512 UTF-16 units but 256 characters.
    expect(read({ external_id: emoji.repeat(256), text: 't' })).toMatchObject({ item: { external_id: emoji.repeat(256) } });
    expect(read({ external_id: emoji.repeat(257), text: 't' })).toEqual({ problems: [{ pointer: '/external_id', reason: 'must NOT have more than 256 characters' }] });
    expect(read({ external_id: 'x'.repeat(257), text: 't' })).toEqual({ problems: [{ pointer: '/external_id', reason: 'must NOT have more than 256 characters' }] });
  });

  it('reports every schema problem of a line at once', () => {
    const result = read({ external_id: '', text: 3, split: 'train', extra: true });
    expect(result).toEqual({
      problems: expect.arrayContaining([
        { pointer: '/extra', reason: 'is not a field of an item' },
        { pointer: '/external_id', reason: 'must NOT have fewer than 1 characters' },
        { pointer: '/text', reason: 'must be string' },
        { pointer: '/split', reason: 'must be equal to one of the allowed values' },
      ]),
    });
  });

  it('refuses what Postgres can not store, found from the escapes in the line', () => {
    expect(read('{"external_id":"a","text":"nul \\u0000 here"}')).toEqual({ problems: [{ pointer: '/text', reason: 'must not contain a NUL character (\\u0000)' }] });
    expect(read('{"external_id":"a","text":"t","meta":{"k":"\\ud800"}}')).toEqual({ problems: [{ pointer: '/meta/k', reason: 'must not contain a lone UTF-16 surrogate' }] });
    // An escaped backslash before "u0000" is text, not a NUL.
    expect(read('{"external_id":"a","text":"\\\\u0000"}')).toMatchObject({ item: { text: '\\u0000' } });
  });

  it('refuses a number past a double and meta nested past 100 levels (both were stored silently, or a 500)', () => {
    expect(read('{"external_id":"a","text":"t","meta":{"n":1e400}}')).toEqual({ problems: [{ pointer: '/meta/n', reason: expect.stringContaining('finite') }] });
    const nested = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    const deep = read(`{"external_id":"a","text":"t","meta":${nested(5000)}}`);
    expect(deep).toEqual({ problems: [{ pointer: `/meta${'/a'.repeat(100)}`, reason: 'must not nest deeper than 100 levels' }] });
    expect(read(`{"external_id":"a","text":"t","meta":${nested(99)}}`)).toMatchObject({ item: { external_id: 'a' } });
  });

  it('refuses invalid UTF-8 and JSON, skips blank lines', () => {
    expect(readItemLine(Buffer.from([0x7b, 0xff, 0x7d]), labels)).toEqual({ problems: [{ pointer: '', reason: 'is not valid UTF-8' }] });
    expect(read('{"external_id":')).toMatchObject({ problems: [{ pointer: '', reason: expect.stringMatching(/^is not valid JSON/) }] });
    expect(read('   ')).toBeNull();
  });
});
