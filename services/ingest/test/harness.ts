import type { AddressInfo } from 'node:net';
import type { Config } from '@alder/config';
import type { Pool } from '@alder/db';
import { startTestApp, type TestApp, type TestClient } from '@alder/http/testing';
import { insertProject as createProjectRow, type ProjectSettings } from '@alder/labeling-api';
import { createIngestHandlers, type IngestOptions } from '../src/index';

export interface Harness extends Omit<TestApp, 'client'> {
  http: TestClient;
}

/** The ingest app on a fresh database, with an admin key; `options.now` replaces its clock. */
export async function startHarness(overrides: Partial<Config> = {}, options: IngestOptions = {}): Promise<Harness> {
  const { client, ...rest } = await startTestApp((deps) => createIngestHandlers(deps, options), overrides);
  return { ...rest, http: client };
}

/** A project, written by the labeling API's own repository (the owner of `projects`). */
export async function insertProject(pool: Pool, labels: string[] = ['pos', 'neg'], retrainEvery = 20, settings: ProjectSettings = {}): Promise<string> {
  return (await createProjectRow(pool, { name: 't', labels, retrain_every: retrainEvery, ...settings })).id;
}

/** Row counts of everything a request could write. */
export async function counts(pool: Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query(
    `SELECT (SELECT count(*) FROM items)::int AS items, (SELECT count(*) FROM annotations)::int AS annotations,
            (SELECT count(*) FROM outbox)::int AS outbox, (SELECT coalesce(sum(label_count), 0) FROM projects)::int AS label_count,
            (SELECT count(*) FROM received_webhooks)::int AS received_webhooks`,
  );
  return rows[0];
}

export async function outboxJobs(pool: Pool): Promise<{ queue: string; job_name: string; payload: Record<string, unknown> }[]> {
  const { rows } = await pool.query('SELECT queue, job_name, payload FROM outbox ORDER BY id');
  return rows;
}

/** The harness's HTTP port (for raw requests that write their bodies in parts). */
export function portOf(h: Harness): number {
  return (h.app.server.address() as AddressInfo).port;
}

/** Waits until the project has a batch row (a stream's is written before its first line is read). */
export async function batchOpened(pool: Pool, projectId: string): Promise<void> {
  while (!(await pool.query('SELECT 1 FROM ingest_batches WHERE project_id = $1', [projectId])).rowCount) await new Promise((r) => setTimeout(r, 20));
}

/** The project's newest batch once it is aborted (polling; jest's timeout bounds the wait). */
export async function abortedBatch(h: Harness, projectId: string): Promise<any> {
  for (;;) {
    const newest = (await h.http({ method: 'GET', url: `/v1/projects/${projectId}/batches`, headers: { authorization: `Bearer ${h.adminKey}` } })).json().data[0];
    if (newest?.status === 'aborted') return newest;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts this file's harness before its tests (giving it to `use`) and closes it after them. */
export function harnessForFile(overrides: Partial<Config>, use: (started: Harness) => void): void {
  let started: Harness | undefined;
  beforeAll(async () => {
    started = await startHarness(overrides);
    use(started);
  });
  afterAll(() => started?.close());
}
