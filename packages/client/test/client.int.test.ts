import { createServer } from 'node:net';
import { AlderApiError, AlderConnectionError, createAlderClient, type AlderClient } from '../src/index';
import { startFullApp } from './full-app';

// The client against a real Alder (every operation on one port, a fresh database).

let app: Awaited<ReturnType<typeof startFullApp>>;
let client: AlderClient;

beforeAll(async () => {
  app = await startFullApp();
  client = createAlderClient({ baseUrl: app.url, apiKey: app.adminKey });
});
afterAll(() => app?.close());

it('creates a project, ingests a JSON batch and an NDJSON stream, and reads the batches back', async () => {
  await client.ready();
  const project = await client.createProject({ name: 'client', labels: ['pos', 'neg'] });
  const json = await client.ingestItems(project.id, { items: [{ external_id: 'a', text: 'good', label: 'pos', split: 'pool' }] });
  expect(json).toMatchObject({ inserted: 1, labels_imported: 1 });

  const lines = ['{"external_id":"a","text":"again"}', '{"external_id":"b","text":"new"}', '{"external_id":"c"}', 'not json'];
  const streamed = await client.ingestStream(project.id, () => [lines.join('\n') + '\n']);
  expect(streamed).toMatchObject({ received: 4, inserted: 1, duplicates: 1, rejected: 2 });
  expect(streamed.errors.map((e) => e.line)).toEqual([3, 4]);

  const batch = await client.getBatch(project.id, streamed.batch_id);
  expect(batch).toMatchObject({ source: 'ndjson', status: 'completed', inserted: 1 });
  expect((await client.listBatches(project.id)).total).toBe(2);
  expect((await client.listProjects()).data.map((p) => p.id)).toContain(project.id);
});

it('streams the export', async () => {
  const project = await client.createProject({ name: 'export', labels: ['pos', 'neg'] });
  await client.ingestItems(project.id, { items: [{ external_id: 'x', text: 'x', label: 'neg', split: 'pool' }] });
  const stream = await client.exportLabels(project.id, { format: 'jsonl', status: 'all' });
  const records = (await new Response(stream).text()).trim().split('\n').map((l) => JSON.parse(l) as { item: { external_id: string }; label: string | null });
  // status=all: unresolved items too, with a null label (an imported label is an annotation, not yet a resolution).
  expect(records.map((r) => [r.item.external_id, r.label])).toEqual([['x', null]]);
});

it('throws typed errors carrying the problem details', async () => {
  const wrongKey = createAlderClient({ baseUrl: app.url, apiKey: 'alder_not_a_key' });
  const unauthorized = await wrongKey.listProjects().catch((e: unknown) => e);
  expect(unauthorized).toBeInstanceOf(AlderApiError);
  expect(unauthorized).toMatchObject({ status: 401, kind: 'unauthorized', type: 'https://alder.dev/problems/unauthorized' });
  expect((unauthorized as Error).message).toMatch(/^list projects: .+ \[401 unauthorized\]$/);

  const invalid = await client.createProject({ name: 'x', labels: ['only-one'] }).catch((e: unknown) => e);
  expect(invalid).toMatchObject({ status: 422, kind: 'validation' });
  expect((invalid as AlderApiError).problem?.errors?.[0]?.path).toMatch(/^body\/labels/);
  expect((invalid as Error).message).toMatch(/\(body\/labels.*\) \[422 validation\]$/);

  await expect(client.getProject('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ status: 404, kind: 'not-found' });
});

it('names an address that does not answer', async () => {
  // A port that was free a moment ago: nothing listens there.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const nowhere = createAlderClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: 'k' });
  const error = await nowhere.listProjects().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AlderConnectionError);
  expect(error).toMatchObject({ code: 'ECONNREFUSED', message: `list projects: cannot reach Alder at http://127.0.0.1:${port} (ECONNREFUSED); is it running there?` });
});
