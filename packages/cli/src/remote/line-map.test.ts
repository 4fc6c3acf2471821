import { LineMap } from './line-map';

it('LineMap gives each item its file line, keeping only where the offset changes', () => {
  const lines = new LineMap();
  // Header on line 1; item 2 spans lines 3-4; item 5 spans lines 7-9.
  [[1, 2], [2, 4], [3, 5], [4, 6], [5, 9], [6, 10]].forEach(([item, line]) => lines.record(item!, line!));
  expect([1, 2, 3, 4, 5, 6].map((n) => lines.lineOf(n))).toEqual([2, 4, 5, 6, 9, 10]);
  expect(new LineMap().lineOf(3)).toBe(3);
});
