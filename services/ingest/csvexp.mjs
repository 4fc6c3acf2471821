import { parse } from 'csv-parse';
import { Readable } from 'node:stream';
const input = JSON.parse(process.argv[2]);
const p = Readable.from([Buffer.from(input)]).pipe(parse({ encoding: null, info: true, bom: true, skip_empty_lines: true, relax_quotes: true, relax_column_count: true, skip_records_with_error: true, max_record_size: 30,
  on_skip: (err) => console.log('ON_SKIP', err.code, 'lines', err.lines, 'records', err.records, 'empty', err.empty_lines) }));
for await (const { record, info } of p) console.log(JSON.stringify(record.map(String)), 'lines', info.lines, 'empty', info.empty_lines, 'records', info.records);
