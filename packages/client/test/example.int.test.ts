import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateWebhookSecret, signWebhook } from '@alder/webhooks';
import { createAlderClient } from '../src/index';
import { pushDataset, startReceiver } from '../examples/integrator';
import { startFullApp } from './full-app';

// The example integrator: a small part of a shared dataset pushed into a real Alder, and its
// receiver taking a signed delivery and refusing a forged one.

let app: Awaited<ReturnType<typeof startFullApp>>;
let dir: string;
beforeAll(async () => {
  app = await startFullApp();
  dir = await mkdtemp(join(tmpdir(), 'alder-integrator-'));
});
afterAll(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

it('pushes a dataset once: a second push adds nothing', async () => {
  const lines = readFileSync('../shared/datasets/trec/train.jsonl', 'utf8').split('\n').slice(0, 40).join('\n') + '\n';
  await mkdir(join(dir, 'trec'));
  const path = join(dir, 'trec', 'train.jsonl');
  await writeFile(path, lines);
  const client = createAlderClient({ baseUrl: app.url, apiKey: app.adminKey });
  const { project, batch } = await pushDataset(client, path);
  expect(project.name).toBe('integrator: trec');
  expect(batch).toMatchObject({ received: 40, inserted: 40, rejected: 0 });
  const again = await client.ingestStream(project.id, () => [lines.split('\n').filter(Boolean).map((l, i) => JSON.stringify({ external_id: `trec-${i + 1}`, text: JSON.parse(l).text })).join('\n')]);
  expect(again).toMatchObject({ inserted: 0, duplicates: 40 });
});

it('the receiver verifies signatures: 204 for a signed delivery, 401 for a forged one', async () => {
  const secret = generateWebhookSecret();
  const log: string[] = [];
  const server: Server = await startReceiver({ port: 0, secrets: [secret], log: (l) => log.push(l) });
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const body = JSON.stringify({ type: 'model.ready', data: { version: 1 } });
    const headers = signWebhook({ secret, id: 'msg_1', timestamp: new Date(), body });
    expect((await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body })).status).toBe(204);
    const forged = signWebhook({ secret: generateWebhookSecret(), id: 'msg_2', timestamp: new Date(), body });
    expect((await fetch(url, { method: 'POST', headers: forged, body })).status).toBe(401);
    expect(log).toEqual([`webhook msg_1: model.ready ${body}`, 'refused a delivery: bad-signature']);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
