/**
 * An integrator of Alder, end to end: creates a project for a dataset, pushes its texts as one
 * NDJSON stream (labels withheld, as raw data arrives), and runs a receiver that verifies the
 * signatures of Alder's webhooks and logs them.
 *
 *   ALDER_URL=http://127.0.0.1:8080 ALDER_API_KEY=alder_... WEBHOOK_SECRET=whsec_... \
 *     node --import tsx packages/client/examples/integrator.ts ../shared/datasets/trec/train.jsonl
 *
 * RECEIVER_PORT (default 8787) is where the receiver listens; without WEBHOOK_SECRET it only
 * pushes. Ctrl-C stops the receiver.
 */
import { createReadStream } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { createAlderClient, verifyWebhook, WebhookVerificationError, type AlderClient, type Schemas } from '@alder/client';

/** The dataset's labels (a first pass over the file: a project's labels are fixed up front). */
export async function datasetLabels(path: string): Promise<string[]> {
  const labels = new Set<string>();
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    if (line.trim()) labels.add(String((JSON.parse(line) as { label: unknown }).label));
  }
  return [...labels].sort();
}

/** `{text, label}` lines as items with stable ids (`<dataset>-<line>`), so a second push adds nothing. */
async function* items(path: string, prefix: string): AsyncGenerator<string> {
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    n++;
    if (line.trim()) yield `${JSON.stringify({ external_id: `${prefix}-${n}`, text: (JSON.parse(line) as { text: string }).text })}\n`;
  }
}

/** Creates a project for the dataset at `path` and streams its texts in; the project and the batch's counts. */
export async function pushDataset(client: AlderClient, path: string): Promise<{ project: Schemas['Project']; batch: Schemas['IngestResult'] }> {
  const name = basename(dirname(path));
  const project = await client.createProject({ name: `integrator: ${name}`, labels: await datasetLabels(path) });
  const batch = await client.ingestStream(project.id, () => items(path, name));
  return { project, batch };
}

/**
 * A webhook receiver: verifies each delivery over its raw bytes with the endpoint's secrets
 * (the current one and, during a rotation, the previous), answers 204 and logs it; a bad
 * signature gets 401 and is logged as refused. Its `webhook-id` is the same on every retry of a
 * message, so a receiver that acts on events should remember the ids it processed.
 */
export function startReceiver(options: { port: number; secrets: string[]; log: (line: string) => void }): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      try {
        const { id } = verifyWebhook({ secrets: options.secrets, headers: req.headers, rawBody });
        const event = JSON.parse(rawBody.toString('utf8')) as { type?: string };
        options.log(`webhook ${id}: ${event.type ?? 'event'} ${rawBody.toString('utf8').slice(0, 200)}`);
        res.writeHead(204).end();
      } catch (error) {
        const reason = error instanceof WebhookVerificationError ? error.reason : 'unreadable body';
        options.log(`refused a delivery: ${reason}`);
        res.writeHead(401, { 'content-type': 'text/plain' }).end(`${reason}\n`);
      }
    });
  });
  return new Promise((resolve) => server.listen(options.port, '127.0.0.1', () => resolve(server)));
}

async function main(): Promise<void> {
  const [path] = process.argv.slice(2);
  const { ALDER_URL, ALDER_API_KEY, WEBHOOK_SECRET, RECEIVER_PORT } = process.env;
  if (!path || !ALDER_API_KEY) {
    process.stderr.write('usage: ALDER_URL=... ALDER_API_KEY=... [WEBHOOK_SECRET=whsec_...] integrator.ts DATASET/train.jsonl\n');
    process.exit(2);
  }
  const client = createAlderClient({ baseUrl: ALDER_URL ?? 'http://127.0.0.1:8080', apiKey: ALDER_API_KEY });
  const { project, batch } = await pushDataset(client, path);
  process.stdout.write(`project ${project.id} (${project.labels.join(', ')}): ${batch.inserted} items in, ${batch.duplicates} already there, ${batch.rejected} refused\n`);
  if (!WEBHOOK_SECRET) return;
  const server = await startReceiver({ port: Number(RECEIVER_PORT ?? 8787), secrets: [WEBHOOK_SECRET], log: (line) => process.stdout.write(`${line}\n`) });
  process.stdout.write(`receiving webhooks on http://127.0.0.1:${(server.address() as AddressInfo).port}/ (Ctrl-C stops)\n`);
  process.once('SIGINT', () => server.close());
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`integrator: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof Error && error.name.startsWith('Alder') ? 3 : 1);
  });
}
