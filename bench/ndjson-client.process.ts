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
    for (let n = 0; n < 500 && i < total; n++, i++) chunk += `${JSON.stringify({ external_id: `s${i}`, text: texts[i % texts.length], meta: { n: i } })}\n`;
    if (!req.write(chunk)) return void req.once('drain', write);
  }
  req.end();
}
write();
