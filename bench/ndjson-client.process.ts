// The load generator of ingest-stream.bench.ts, in a process of its own: streams TOTAL NDJSON
// lines over one HTTP request (writing as fast as the socket takes them) and prints the answer.
import http from 'node:http';
import { readFileSync } from 'node:fs';

const [url, key, totalArg] = process.argv.slice(2);
const total = Number(totalArg);
const all: string[] = [];
for (const name of ['mr', 'subj', 'trec', 'sms_spam']) {
  for (const line of readFileSync(new URL(`../../shared/datasets/${name}/train.jsonl`, import.meta.url), 'utf8').trim().split('\n')) all.push(JSON.parse(line).text);
}
const texts = all.slice(0, 50_000).map((t) => {
  let out = t;
  while (out.length < 200) out += ` ${t}`;
  return out.slice(0, 200);
});

/**
 * Row i's text: a dataset text of 200 characters whose end is the row's number, so that no two
 * rows repeat a text (as in a real import; a repeated text is a duplicate the project reports,
 * `DUPLICATES=1` keeps the dataset's texts as they cycle instead).
 */
const unique = process.env.DUPLICATES === '1' ? (i: number) => texts[i % texts.length]! : (i: number) => {
  const n = ` #${i}`;
  return texts[i % texts.length]!.slice(0, 200 - n.length) + n;
};

const started = performance.now();
const target = new URL(url!);
const req = http.request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' } });
req.on('response', (res) => {
  let body = '';
  res.on('data', (c: Buffer) => (body += c.toString()));
  res.on('end', () => {
    process.stdout.write(JSON.stringify({ status: res.statusCode, body: JSON.parse(body), seconds: (performance.now() - started) / 1000 }));
  });
});
req.on('error', (error) => {
  console.error(error);
  process.exit(1);
});
let i = 0;
function write(): void {
  while (i < total) {
    let chunk = '';
    for (let n = 0; n < 500 && i < total; n++, i++) chunk += `${JSON.stringify({ external_id: `s${i}`, text: unique(i), meta: { n: i } })}\n`;
    if (!req.write(chunk)) return void req.once('drain', write);
  }
  req.end();
}
write();
