// The receiver of webhooks.bench.ts, in a process of its own: answers every POST 200 at once,
// verifies one request in 100 with the subscription's secret (sent over IPC once the subscription
// exists, so the figures are of deliveries a real receiver accepts), and reports its counts on
// stdout when asked (SIGUSR2).
import { createServer } from 'node:http';
import { verifyWebhook } from '@alder/webhooks';

let secret = '';
process.on('message', (m: { secret: string }) => {
  secret = m.secret;
});
let received = 0;
let verified = 0;
let failed = 0;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received++;
    if (received % 100 === 1) {
      try {
        verifyWebhook({ secrets: [secret], headers: req.headers, rawBody: Buffer.concat(chunks) });
        verified++;
      } catch {
        failed++;
      }
    }
    res.end('ok');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});
process.on('SIGUSR2', () => process.stdout.write(`${JSON.stringify({ received, verified, failed })}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
