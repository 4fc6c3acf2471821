import { parse } from 'csv-parse';
import { Readable } from 'node:stream';
const input = process.argv[2].replace(/\\n/g, '\n');
const extra = JSON.parse(process.argv[3] ?? '{}');
const p = Readable.from([Buffer.from(input)]).pipe(parse({ encoding: null, info: true, bom: true, skip_empty_lines: true, skip_records_with_error: true, max_record_size: 30, ...extra }));
p.on('skip', (err) => console.log('SKIP', err.code, 'lines', err.lines, 'records', err.records, 'empty', err.empty_lines, 'msg', err.message));
for await (const { record, info } of p) console.log(JSON.stringify(record.map(String)), 'lines', info.lines, 'empty', info.empty_lines);
