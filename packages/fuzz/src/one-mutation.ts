import fc from 'fast-check';
import { anyValue, hostileString } from './hostile-values';
import { RawJson } from './json-text';

type Path = (string | number)[];

/** Every place in a JSON value, root first: the paths of its members, depth first. */
function placesOf(value: unknown, path: Path = [], out: Path[] = []): Path[] {
  out.push(path);
  if (Array.isArray(value)) value.forEach((item, i) => placesOf(item, [...path, i], out));
  else if (value !== null && typeof value === 'object' && !(value instanceof RawJson)) {
    for (const [key, item] of Object.entries(value)) if (item !== undefined) placesOf(item, [...path, key], out);
  }
  return out;
}

/** A copy of `value` with the member at `path` replaced (or, with `renameTo`, its key renamed), the rest shared. */
function replaced(value: unknown, path: Path, by: unknown, renameTo?: string): unknown {
  if (!path.length) return by;
  const [head, ...rest] = path;
  if (Array.isArray(value)) return value.map((item, i) => (i === head ? replaced(item, rest, by, renameTo) : item));
  const record = value as Record<string, unknown>;
  if (rest.length === 0 && renameTo !== undefined) {
    return Object.fromEntries(Object.entries(record).map(([key, item]) => (key === head ? [renameTo, item] : [key, item])));
  }
  return { ...record, [head as string]: replaced(record[head as string], rest, by, renameTo) };
}

/**
 * Values of `valid` with one place in each made hostile: a member's value replaced by a hostile
 * one, or its key renamed to a hostile string. Every place is as likely as any other, however
 * deep, so a check deep in a schema (an item's `meta`, a policy's share) is reached as often as
 * one at the top, with the rest of the request valid enough to get there.
 */
export function withOneMutation(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(valid, fc.nat(), anyValue, fc.option(hostileString, { freq: 4 })).map(([value, at, bad, key]) => {
    const places = placesOf(value);
    const place = places[at % places.length]!;
    const renames = key !== null && place.length > 0 && typeof place.at(-1) === 'string';
    return replaced(value, place, bad, renames ? key : undefined);
  });
}
