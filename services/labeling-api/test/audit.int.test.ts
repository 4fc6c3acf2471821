// The audit trail through the API: what requests record, the chain's verification, and
// tampering behind the API's back caught at exactly the event that was touched.
import { createIngestHandlers } from '@alder/ingest';
import { createUserWithKey } from '@alder/http';
import { startTestApp, type TestApp } from '@alder/http/testing';
import { createLabelingHandlers } from '../src/index';
import { publishColdStart } from './harness';

let app: TestApp;
const admin = (method: string, url: string, payload?: unknown) => app.client({ method, url, headers: { authorization: `Bearer ${app.adminKey}` }, payload });

beforeAll(async () => {
  app = await startTestApp((deps) => ({ ...createLabelingHandlers(deps), ...createIngestHandlers(deps) }));
});
afterAll(async () => {
  await app?.close();
});

/** A project with three ingested items, an annotator who labeled one and skipped one. */
async function workedProject() {
  const projectId = (await admin('POST', '/v1/projects', { name: 'audited', labels: ['pos', 'neg'] })).json().id as string;
  const ingest = await admin('POST', `/v1/projects/${projectId}/items`, {
    items: ['a', 'b', 'c'].map((id) => ({ external_id: id, text: `text ${id}` })),
  });
  expect(ingest.statusCode).toBe(200);
  await publishColdStart(app.db.pool, projectId);
  const annotator = await createUserWithKey(app.db.pool, { name: 'Ann' });
  expect((await admin('PUT', `/v1/projects/${projectId}/members/${annotator.userId}`, { role: 'annotator' })).statusCode).toBe(200);
  const as = (method: string, url: string, payload?: unknown) => app.client({ method, url, headers: { authorization: `Bearer ${annotator.key}` }, payload });
  const first = (await as('POST', `/v1/projects/${projectId}/tasks/next`)).json();
  const labeled = await as('POST', `/v1/tasks/${first.task_id}/annotation`, { label: 'neg', rationale: 'why not' });
  expect(labeled.statusCode).toBe(201);
  const second = (await as('POST', `/v1/projects/${projectId}/tasks/next`)).json();
  expect((await as('DELETE', `/v1/tasks/${second.task_id}?reason=unsure`)).statusCode).toBe(204);
  expect((await admin('PATCH', `/v1/projects/${projectId}`, { guidelines: 'Be kind.' })).statusCode).toBe(200);
  return { projectId, annotator, first, second };
}

const events = async (projectId: string) => (await admin('GET', `/v1/projects/${projectId}/audit?limit=1000`)).json().data as any[];
const verify = async (projectId: string) => (await admin('GET', `/v1/projects/${projectId}/audit/verify`)).json();

/** Runs SQL with the append-only triggers off: what someone with database access could do. */
async function behindTheApisBack(sql: string | string[], params: unknown[]): Promise<void> {
  const client = await app.db.pool.connect();
  try {
    await client.query('SET session_replication_role = replica');
    for (const statement of [sql].flat()) await client.query(statement, params);
  } finally {
    await client.query('RESET session_replication_role');
    client.release();
  }
}

describe('audit trail', () => {
  it('records every change with its actor, and what the annotator was shown', async () => {
    const { projectId, annotator, first, second } = await workedProject();
    const trail = await events(projectId);
    expect(trail.map((e) => e.kind)).toEqual([
      'project.created',
      'items.ingested',
      'member.added',
      'lease.created',
      'annotation.created',
      'lease.created',
      'lease.released',
      'project.updated',
    ]);
    expect(trail.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const [created, ingested, , leased, annotated, , released, updated] = trail;
    // The annotation resolved its item in the same change: its event says so.
    expect(annotated.after.resolution).toMatchObject({ label: 'neg', rule: 'single_annotator' });
    expect(created.actor_user_id).not.toBeNull();
    expect(ingested.after).toMatchObject({ received: 3, inserted: 3, duplicates: 0, digest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(leased).toMatchObject({ actor_user_id: annotator.userId, actor_key_id: annotator.keyId, item_external_id: first.item.external_id });
    expect(leased.after.selection).toEqual({ ...first.selection, ranking_id: expect.any(Number) });
    expect(annotated.after).toMatchObject({ label: 'neg', rationale: 'why not', user_id: annotator.userId, late: false, shown: { strategy: 'cold_start', model_version: null } });
    expect(released).toMatchObject({ subject_id: second.task_id, after: { reason: 'unsure' } });
    expect(updated).toMatchObject({ before: { guidelines: '' }, after: { guidelines: 'Be kind.' } });
    expect(await verify(projectId)).toEqual({ ok: true, events: 8, pending: 0, first_bad: null });
    // The kind filter and keyset paging.
    const leases = (await admin('GET', `/v1/projects/${projectId}/audit?kind=lease.created,lease.released&limit=2`)).json();
    expect(leases.data.map((e: { seq: number }) => e.seq)).toEqual([4, 6]);
    expect((await admin('GET', `/v1/projects/${projectId}/audit?kind=lease.created,lease.released&after=${leases.next_after}`)).json().data.map((e: { seq: number }) => e.seq)).toEqual([7]);
  });

  it("lists an item's history: its batch, its leases and its annotation, in order", async () => {
    const { projectId, first } = await workedProject();
    const res = await admin('GET', `/v1/projects/${projectId}/items/${encodeURIComponent(first.item.external_id)}/history`);
    expect(res.statusCode).toBe(200);
    expect(res.json().item).toMatchObject({ external_id: first.item.external_id, status: 'labeled', split: 'pool' });
    expect(res.json().data.map((e: { kind: string }) => e.kind)).toEqual(['items.ingested', 'lease.created', 'annotation.created']);
    expect((await admin('GET', `/v1/projects/${projectId}/items/nope/history`)).statusCode).toBe(404);
  });

  it('catches an edited, deleted or reordered event at exactly that event', async () => {
    const cases: { tamper: (ids: number[], projectId: string) => Promise<void>; at: (ids: number[]) => { id: number | null; position: number; reason: string } }[] = [
      // Edited: the label of the annotation, as if someone changed history.
      {
        tamper: (ids) => behindTheApisBack(`UPDATE audit_events SET after = jsonb_set(after, '{label}', '"pos"') WHERE id = $1`, [ids[4]]),
        at: (ids) => ({ id: ids[4]!, position: 5, reason: 'hash' }),
      },
      // Deleted: the release.
      { tamper: (ids) => behindTheApisBack('DELETE FROM audit_events WHERE id = $1', [ids[6]]), at: (ids) => ({ id: ids[6]!, position: 7, reason: 'missing_event' }) },
      // Reordered: two events swap places in the chain.
      {
        tamper: (ids, projectId) =>
          behindTheApisBack(
            [
              'UPDATE audit_chain SET event_id = -1 WHERE project_id = $3 AND seq = 3 AND $1::bigint + $2::bigint > 0',
              'UPDATE audit_chain SET event_id = $1 WHERE project_id = $3 AND seq = 4 AND $2::bigint > 0',
              'UPDATE audit_chain SET event_id = $2 WHERE project_id = $3 AND seq = 3 AND $1::bigint > 0',
            ],
            [ids[2], ids[3], projectId],
          ),
        at: (ids) => ({ id: ids[3]!, position: 3, reason: 'hash' }),
      },
      // The last event deleted, then also its link.
      { tamper: (ids) => behindTheApisBack('DELETE FROM audit_events WHERE id = $1', [ids[7]]), at: (ids) => ({ id: ids[7]!, position: 8, reason: 'missing_event' }) },
      {
        tamper: (ids) => behindTheApisBack(['DELETE FROM audit_events WHERE id = $1', 'DELETE FROM audit_chain WHERE event_id = $1'], [ids[7]]),
        at: () => ({ id: null, position: 8, reason: 'missing_tail' }),
      },
    ];
    for (const { tamper, at } of cases) {
      const { projectId } = await workedProject();
      const ids = (await events(projectId)).map((e) => e.id as number);
      await tamper(ids, projectId);
      const verdict = await verify(projectId);
      expect(verdict.ok).toBe(false);
      expect(verdict.first_bad).toEqual(at(ids));
    }
  });

  it('refuses to change or delete events through ordinary SQL', async () => {
    const { projectId } = await workedProject();
    await expect(app.db.pool.query('UPDATE audit_events SET kind = $2 WHERE project_id = $1', [projectId, 'x.y'])).rejects.toThrow();
    await expect(app.db.pool.query('DELETE FROM audit_events WHERE project_id = $1', [projectId])).rejects.toThrow();
    expect((await verify(projectId)).ok).toBe(true);
  });

  it('keeps users and keys on the instance chain, for admins only', async () => {
    const user = (await admin('POST', '/v1/users', { name: 'Zed' })).json();
    const key = (await admin('POST', '/v1/api-keys', { name: 'zed', user_id: user.id })).json();
    expect((await admin('DELETE', `/v1/api-keys/${key.id}`)).statusCode).toBe(204);
    const trail = (await admin('GET', '/v1/audit?limit=1000')).json().data;
    expect(trail.filter((e: { subject_id: string }) => [user.id, key.id].includes(e.subject_id)).map((e: { kind: string }) => e.kind)).toEqual([
      'user.created',
      'key.created',
      'key.revoked',
    ]);
    expect(JSON.stringify(trail)).not.toContain(key.key);
    expect((await admin('GET', '/v1/audit/verify')).json()).toMatchObject({ ok: true, first_bad: null });
  });
});
