import { fieldMapFromJson, FieldMapError, mapCsvRow, mapItem, mapJsonlObject, parseFieldMap, resolveCsvColumns, type MappingSyntax } from './field-map';

const cli: MappingSyntax = (field, source) => `--csv-map ${field}=${source}`;
const form: MappingSyntax = (field, source) => `"mapping": {"${field}": "${source}"}`;

describe('parseFieldMap (the command line)', () => {
  it('reads FIELD=COLUMN pairs, @line for the external id, one column for meta', () => {
    expect(parseFieldMap(' text = body ,external_id=@line,label=category,meta=attrs', '--map')).toEqual({ text: 'body', external_id: '@line', label: 'category', meta: 'attrs' });
  });

  it.each([
    ['text', '--map: "text" is not FIELD=COLUMN (e.g. --map text=body,external_id=id)'],
    ['txt=body', '--map: unknown field "txt" (the fields are external_id, text, label, split, meta)'],
    ['text=@line', '--map: @line can only be the external_id'],
    ['text=a,text=b', '--map: "text" is mapped twice'],
    [',', '--map is empty (e.g. --map text=body,external_id=id)'],
  ])('refuses %j', (spec, message) => {
    expect(() => parseFieldMap(spec, '--map')).toThrow(new FieldMapError(message));
  });
});

describe('fieldMapFromJson (a form field)', () => {
  it('takes columns, @line, and meta as one column or a list; {} maps nothing', () => {
    expect(fieldMapFromJson({ external_id: '@line', text: 'body', meta: ['source', 'date'] }, 'mapping')).toEqual({ external_id: '@line', text: 'body', meta: ['source', 'date'] });
    expect(fieldMapFromJson({}, 'mapping')).toEqual({});
  });

  it.each([
    [['text'], 'mapping must be a JSON object of field: column, e.g. {"external_id": "id", "text": "body"}', undefined],
    [{ body: 'text' }, 'mapping: unknown field "body" (the fields are external_id, text, label, split, meta)', 'body'],
    [{ text: 3 }, 'mapping: text must be a column name, not 3', 'text'],
    [{ text: '' }, 'mapping: text must be a column name, not ""', 'text'],
    [{ label: '@line' }, 'mapping: @line can only be the external_id', 'label'],
    [{ meta: [] }, 'mapping: meta names no column', 'meta'],
    [{ meta: ['a', 'a'] }, 'mapping: meta names a column twice', 'meta'],
    [{ meta: ['a', null] }, 'mapping: meta must be a column name or a list of column names, not null', 'meta'],
  ])('refuses %j, naming the field', (value, message, field) => {
    let error: FieldMapError | undefined;
    try {
      fieldMapFromJson(value, 'mapping');
    } catch (e) {
      error = e as FieldMapError;
    }
    expect({ message: error?.message, field: error?.field }).toEqual({ message, field });
  });
});

describe('resolveCsvColumns', () => {
  it('takes columns named like the fields unless mapped; label, split and meta only when present', () => {
    expect(resolveCsvColumns(['external_id', 'text', 'other'], null, cli)).toEqual({ external_id: 'external_id', text: 'text' });
    expect(resolveCsvColumns(['id', 'body', 'label', 'meta'], { text: 'body', external_id: 'id' }, cli)).toEqual({ external_id: 'id', text: 'body', label: 'label', meta: 'meta' });
    expect(resolveCsvColumns(['id', 'body', 'src'], { text: 'body', external_id: '@line', meta: ['src', 'id'] }, cli)).toEqual({ external_id: '@line', text: 'body', meta: ['src', 'id'] });
  });

  it("names what the header lacks, in the caller's syntax", () => {
    expect(() => resolveCsvColumns(['id', 'body'], { text: 'content', external_id: 'id' }, cli)).toThrow('column "content" (for text) is not in the CSV header: id, body');
    expect(() => resolveCsvColumns(['id', 'text'], null, cli)).toThrow(/no "external_id" column \(id, text\): name one with --csv-map external_id=COLUMN or --csv-map external_id=@line/);
    expect(() => resolveCsvColumns(['id', 'body'], { external_id: 'id' }, form)).toThrow('the CSV header has no "text" column (id, body): name one with "mapping": {"text": "COLUMN"}');
    expect(() => resolveCsvColumns(['id', 'text'], { external_id: 'id', meta: ['src'] }, form)).toThrow('column "src" (for meta) is not in the CSV header: id, text');
  });

  it('refuses a column it reads that the header has twice, and cuts a wide header short', () => {
    expect(() => resolveCsvColumns(['id', 'text', 'text'], { external_id: 'id' }, cli)).toThrow('column "text" appears more than once in the CSV header: rename one of them');
    expect(resolveCsvColumns(['id', 'text', 'x', 'x'], { external_id: 'id' }, cli)).toEqual({ external_id: 'id', text: 'text' });
    const wide = Array.from({ length: 40 }, (_, i) => `c${i}`);
    expect(() => resolveCsvColumns(wide, null, cli)).toThrow(/\(c0, c1, .+, c29 and 10 more\): name one/);
  });
});

it('mapItem leaves out empty cells and numbers items for @line', () => {
  expect(mapItem({ id: '', body: 'x', category: '' }, { external_id: '@line', text: 'body', label: 'category' }, 7)).toEqual({ external_id: '7', text: 'x' });
});

describe('mapCsvRow', () => {
  it('parses a JSON meta column, gathers listed columns as strings, leaves empty cells out', () => {
    expect(mapCsvRow({ id: 'a', body: 'x', attrs: '{"k": [1, 2]}' }, { external_id: 'id', text: 'body', meta: 'attrs' }, 1)).toEqual({ item: { external_id: 'a', text: 'x', meta: { k: [1, 2] } }, problems: [] });
    expect(mapCsvRow({ id: 'a', body: 'x', attrs: '' }, { external_id: 'id', text: 'body', meta: 'attrs' }, 1)).toEqual({ item: { external_id: 'a', text: 'x' }, problems: [] });
    expect(mapCsvRow({ id: 'a', body: 'x', src: 'web', date: '' }, { external_id: 'id', text: 'body', meta: ['src', 'date'] }, 1)).toEqual({ item: { external_id: 'a', text: 'x', meta: { src: 'web' } }, problems: [] });
  });

  it('names a meta cell that is not a JSON object, and keeps it as text', () => {
    const columns = { external_id: 'id', text: 'body', meta: 'attrs' };
    expect(mapCsvRow({ id: 'a', body: 'x', attrs: '[1]' }, columns, 1)).toEqual({ item: { external_id: 'a', text: 'x', meta: '[1]' }, problems: [{ pointer: '/meta', reason: 'is not a JSON object (column "attrs")' }] });
    const broken = mapCsvRow({ id: 'a', body: 'x', attrs: '{k:1}' }, columns, 1);
    expect(broken.problems).toEqual([{ pointer: '/meta', reason: expect.stringMatching(/^is not JSON \(column "attrs": .+\)$/) }]);
  });
});

it('mapJsonlObject renames mapped keys, keeps the others named like the fields, meta and gold as they are', () => {
  expect(mapJsonlObject({ body: 'x', label: 'pos', meta: { a: 1 }, gold: true, other: 1 }, { external_id: '@line', text: 'body' }, 3)).toEqual({ external_id: '3', text: 'x', label: 'pos', meta: { a: 1 }, gold: true });
  expect(mapJsonlObject({ id: 'a', text: 'x', src: 'web', n: 2 }, { external_id: 'id', meta: ['src', 'n', 'none'] }, 1)).toEqual({ external_id: 'a', text: 'x', meta: { src: 'web', n: 2 } });
  expect(mapJsonlObject({ id: 'a', text: 'x', attrs: { k: 1 } }, { external_id: 'id', meta: 'attrs' }, 1)).toEqual({ external_id: 'a', text: 'x', meta: { k: 1 } });
});
