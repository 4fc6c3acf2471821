import fc from 'fast-check';
import { RawJson } from './json-text';

/** Strings Postgres can not store, or that break naive handling: NUL, lone surrogates, odd Unicode. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\ud800',
    '\udbff',
    'x\udc00',
    '\udfff\ud800',
    '',
    ' ',
    '\t\n\r',
    '\u00a0',
    '\u200b',
    '\ufeff',
    '\ufffd',
    '😀',
    'e\u0301',
    '\u202eevil',
    "' OR 1=1 --",
    '%00',
    '%',
    '../../etc/passwd',
    '{"a":1}',
    'null',
    '-1',
  ),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.tuple(fc.string({ maxLength: 5 }), fc.constantFrom('\u0000', '\ud800', '\udc00'), fc.string({ maxLength: 5 })).map(([a, bad, b]) => a + bad + b),
  // Longer than any maxLength of the spec's strings, short of the body limit.
  fc.constantFrom(2_049, 20_001, 200_001).map((n) => 'x'.repeat(n)),
);

/** Integers and numbers at and past the bounds of int4, int8 and doubles, and fractions where integers are due. */
export const hostileNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -1, 0.5, -0.5, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 2 ** 63, -(2 ** 63), 1e308, -1e308, 5e-324),
  fc.constantFrom('1e400', '-1e400', '1E-400', '-0', '9223372036854775808', '123456789012345678901234567890', '0.1e1', '1.0').map((text) => new RawJson(text)),
  fc.double(),
);

/** A value of the wrong type: any small JSON value, hostile strings and numbers included. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2, depthSize: 'small' }),
  hostileString,
  hostileNumber,
  fc.constantFrom(null, true, false, [], {}, [[[[[[[[[[]]]]]]]]]]),
  // Nested past what a recursive walk of the value survives.
  fc.constantFrom(101, 5_000, 50_000).map((depth) => new RawJson('{"a":'.repeat(depth) + '[]' + '}'.repeat(depth))),
);
