import { mapItem, parseFieldMap, resolveCsvColumns } from './field-map';
import { LineMap } from './line-map';

describe('parseFieldMap', () => {
  it('reads FIELD=COLUMN pairs, @line for the external id', () => {
    expect(parseFieldMap(' text = body ,external_id=@line,label=category', '--map')).toEqual({ text: 'body', external_id: '@line', label: 'category' });
  });

  it.each([
    ['text', '--map: "text" is not FIELD=COLUMN (e.g. --map text=body,external_id=id)'],
    ['txt=body', '--map: unknown field "txt" (the fields are external_id, text, label, split)'],
    ['text=@line', '--map: @line can only be the external_id'],
    ['text=a,text=b', '--map: "text" is mapped twice'],
    [',', '--map is empty (e.g. --map text=body,external_id=id)'],
  ])('refuses %j', (spec, message) => {
    expect(() => parseFieldMap(spec, '--map')).toThrow(message);
  });
});

describe('resolveCsvColumns', () => {
  it('takes columns named like the fields unless mapped; label and split only when present', () => {
    expect(resolveCsvColumns(['external_id', 'text', 'other'], null)).toEqual({ external_id: 'external_id', text: 'text' });
    expect(resolveCsvColumns(['id', 'body', 'label'], { text: 'body', external_id: 'id' })).toEqual({ external_id: 'id', text: 'body', label: 'label' });
  });

  it('names what the header lacks', () => {
    expect(() => resolveCsvColumns(['id', 'body'], { text: 'content', external_id: 'id' })).toThrow('column "content" (for text) is not in the CSV header: id, body');
    expect(() => resolveCsvColumns(['id', 'text'], null)).toThrow(/no "external_id" column \(id, text\): name one with --csv-map external_id=COLUMN or --csv-map external_id=@line/);
  });
});

it('mapItem leaves out empty cells and numbers items for @line', () => {
  expect(mapItem({ id: '', body: 'x', category: '' }, { external_id: '@line', text: 'body', label: 'category' }, 7)).toEqual({ external_id: '7', text: 'x' });
});

it('LineMap gives each item its file line, keeping only where the offset changes', () => {
  const lines = new LineMap();
  // Header on line 1; item 2 spans lines 3-4; item 5 spans lines 7-9.
  [[1, 2], [2, 4], [3, 5], [4, 6], [5, 9], [6, 10]].forEach(([item, line]) => lines.record(item!, line!));
  expect([1, 2, 3, 4, 5, 6].map((n) => lines.lineOf(n))).toEqual([2, 4, 5, 6, 9, 10]);
  expect(new LineMap().lineOf(3)).toBe(3);
});
