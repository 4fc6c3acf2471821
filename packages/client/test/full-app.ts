import type { AddressInfo } from 'node:net';
import { startTestApp, type TestApp } from '@alder/http/testing';
import { createIngestHandlers } from '@alder/ingest';
import { createLabelingHandlers } from '@alder/labeling-api';

/** Every operation on one port, as the all-in-one serves them, on a fresh database; and its URL. */
export async function startFullApp(): Promise<TestApp & { url: string }> {
  const app = await startTestApp((deps) => ({ ...createLabelingHandlers(deps), ...createIngestHandlers(deps) }));
  const { port } = app.app.server.address() as AddressInfo;
  return { ...app, url: `http://127.0.0.1:${port}` };
}
