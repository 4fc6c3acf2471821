// The access walk: every operation in the spec x every role x own / foreign / missing resource.
// It fails on any unexpected 2xx, and on any difference between a foreign resource and a missing
// one (nobody learns anything about a project they are not a member of). New operations are
// walked as soon as they are in the spec: a handler without the right x-alder-access fails here.
// Signed operations (inbound webhooks, `{ signature: integration }`) take no key: every caller,
// whatever their key, is refused (401) without a signature, alike for own, foreign and missing.
import { randomUUID } from 'node:crypto';
import { createIngestHandlers, insertEventDeliveries } from '@alder/ingest';
import { createApiKey, createUserWithKey, loadSpec, operationAccess, PROJECT_ROLES, upsertMember, type AccessRule, type ProjectRole } from '@alder/http';
import { startTestApp, type TestApp, type TestResponse } from '@alder/http/testing';
import { createLabelingHandlers } from '../src/index';
import { insertItems, insertModel, publishColdStart } from './harness';

const MISSING = '00000000-0000-4000-8000-000000000000';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

interface Caller {
  label: string;
  key: string | null;
  userId: string | null;
  admin: boolean;
  projectRole: ProjectRole | null;
  /** A key of this user's that the walk may revoke (their own key for revokeApiKey). */
  spareKeyId: string | null;
}

interface Operation {
  id: string;
  method: string;
  path: string;
  rule: AccessRule;
}

let app: TestApp;
const callers: Caller[] = [];
const ids = { own: {} as Record<string, string>, foreign: {} as Record<string, string> };
const victims = new Map<string, string>();
const foreignVictims = new Map<string, string>();
/** deleteIntegration's own and foreign integrations, one each per caller, as for deleteProject. */
const victimIntegrations = new Map<string, string>();
const foreignVictimIntegrations = new Map<string, string>();

beforeAll(async () => {
  app = await startTestApp((deps) => ({ ...createLabelingHandlers(deps), ...createIngestHandlers(deps) }));
  const pool = app.db.pool;
  const project = async (name: string) => {
    const res = await app.client({ method: 'POST', url: '/v1/projects', headers: { authorization: `Bearer ${app.adminKey}` }, payload: { name, labels: ['pos', 'neg'] } });
    return res.json().id as string;
  };
  const own = await project('own');
  const foreign = await project('foreign');
  for (const [projectId, bucket] of [[own, ids.own], [foreign, ids.foreign]] as const) {
    await insertItems(pool, projectId, 3);
    await insertModel(pool, projectId, { version: 1, current: true });
    await publishColdStart(pool, projectId);
    bucket.project_id = projectId;
  }
  // A task in each project, held by someone outside the walk.
  const holder = await createUserWithKey(pool, { name: 'holder' });
  for (const bucket of [ids.own, ids.foreign]) {
    await upsertMember(pool, bucket.project_id!, holder.userId, 'annotator');
    const res = await app.client({ method: 'POST', url: `/v1/projects/${bucket.project_id}/tasks/next`, headers: { authorization: `Bearer ${holder.key}` } });
    bucket.task_id = res.json().task_id;
    // The user a member operation targets: a viewer of that project.
    const target = await createUserWithKey(pool, { name: 'target' });
    await upsertMember(pool, bucket.project_id!, target.userId, 'viewer');
    bucket.member_user_id = target.userId;
    bucket.external_id = 'i-pool-3';
    // A review in each project, held by the holder (its queue entry and lease, as a claim writes them).
    const { rows } = await pool.query(`SELECT id FROM items WHERE project_id = $1 AND external_id = 'i-pool-3'`, [bucket.project_id]);
    const review = await pool.query(
      `WITH q AS (
         INSERT INTO review_queue (item_id, project_id, priority, reasons, review_id, leased_until)
         VALUES ($1, $2, 4, '{disagreement}', gen_random_uuid(), now() + interval '10 minutes') RETURNING review_id, leased_until
       )
       INSERT INTO reviews (id, project_id, item_id, stage, reviewer_id, expires_at) SELECT review_id, $2, $1, 'review', $3, leased_until FROM q RETURNING id`,
      [rows[0].id, bucket.project_id, holder.userId],
    );
    bucket.review_id = review.rows[0].id;
  }
  ids.own.version = '1';
  ids.foreign.version = '1';
  const integration = async (projectId: string, name: string) => {
    const res = await app.client({ method: 'POST', url: `/v1/projects/${projectId}/integrations`, headers: { authorization: `Bearer ${app.adminKey}` }, payload: { name } });
    return res.json().id as string;
  };
  for (const bucket of [ids.own, ids.foreign]) bucket.integration_id = await integration(bucket.project_id!, 'walk');
  // A webhook subscription with one delivery in each project (the delivery written by the fan-out's own function).
  for (const bucket of [ids.own, ids.foreign]) {
    const res = await app.client({ method: 'POST', url: `/v1/projects/${bucket.project_id}/webhooks`, headers: { authorization: `Bearer ${app.adminKey}` }, payload: { url: 'http://93.184.216.34/walk' } });
    bucket.webhook_id = res.json().id;
    await insertEventDeliveries(pool, { eventId: randomUUID(), projectId: bucket.project_id!, type: 'batch.completed', occurredAt: new Date().toISOString(), data: {} }, 3_600_000);
    const { rows } = await pool.query('SELECT id FROM webhook_deliveries WHERE subscription_id = $1', [bucket.webhook_id]);
    bucket.delivery_id = String(rows[0].id);
  }

  callers.push({ label: 'no key', key: null, userId: null, admin: false, projectRole: null, spareKeyId: null });
  const admin = await createUserWithKey(pool, { name: 'walk admin', role: 'admin' });
  const adminSpare = await createApiKey(pool, { name: 'spare', userId: admin.userId });
  callers.push({ label: 'admin', key: admin.key, userId: admin.userId, admin: true, projectRole: null, spareKeyId: adminSpare.id });
  for (const role of [...PROJECT_ROLES, null]) {
    const user = await createUserWithKey(pool, { name: `walk ${role ?? 'outsider'}` });
    if (role) await upsertMember(pool, own, user.userId, role);
    const spare = await createApiKey(pool, { name: 'spare', userId: user.userId });
    callers.push({ label: role ?? 'member of no project', key: user.key, userId: user.userId, admin: false, projectRole: role, spareKeyId: spare.id });
  }
  // deleteProject really deletes: each caller deletes (or fails to) a project of its own, where
  // it holds its role.
  for (const caller of callers.filter((c) => c.key)) {
    const victim = await project(`victim of ${caller.label}`);
    if (caller.projectRole) await upsertMember(pool, victim, caller.userId!, caller.projectRole);
    victims.set(caller.label, victim);
    foreignVictims.set(caller.label, await project(`foreign victim of ${caller.label}`));
    victimIntegrations.set(caller.label, await integration(ids.own.project_id!, `victim of ${caller.label}`));
    foreignVictimIntegrations.set(caller.label, await integration(ids.foreign.project_id!, `foreign victim of ${caller.label}`));
  }
  // Someone else's user and key, for the instance operations' "foreign" case.
  const other = await createUserWithKey(pool, { name: 'other' });
  ids.foreign.user_id = other.userId;
  ids.foreign.key_id = other.keyId;
});

afterAll(async () => {
  await app?.close();
});

function operations(): Operation[] {
  const spec = loadSpec();
  const access = operationAccess(spec);
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(spec.paths ?? {})) {
    if (!path.startsWith('/v1/')) continue;
    for (const method of HTTP_METHODS) {
      const op = (item as Record<string, { operationId?: string }>)[method];
      if (op?.operationId) out.push({ id: op.operationId, method: method.toUpperCase(), path, rule: access.get(op.operationId)!.rule });
    }
  }
  return out;
}

/** The path with its parameters taken from own, foreign or missing resources, for this caller. */
function urlFor(op: Operation, which: 'own' | 'foreign' | 'missing', caller: Caller): string {
  return op.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (name === 'version') return '1';
    if (which === 'missing') return name === 'version' ? '999' : MISSING;
    if (which === 'foreign' && op.id === 'deleteProject') return foreignVictims.get(caller.label) ?? MISSING;
    if (which === 'foreign' && op.id === 'deleteIntegration') return foreignVictimIntegrations.get(caller.label) ?? MISSING;
    if (which === 'foreign') return ids.foreign[name === 'user_id' && 'project' in op.rule ? 'member_user_id' : name] ?? MISSING;
    if (op.id === 'deleteProject' && name === 'project_id') return victims.get(caller.label) ?? MISSING;
    if (op.id === 'deleteIntegration') return victimIntegrations.get(caller.label) ?? MISSING;
    // Own: the caller themselves and their spare key on instance operations.
    if (name === 'user_id') return 'project' in op.rule ? ids.own.member_user_id! : (caller.userId ?? MISSING);
    if (name === 'key_id') return caller.spareKeyId ?? MISSING;
    return ids.own[name]!;
  });
}

async function call(op: Operation, url: string, caller: Caller): Promise<TestResponse> {
  const headers: Record<string, string> = caller.key ? { authorization: `Bearer ${caller.key}` } : {};
  // An empty body: where the operation needs fields, access is decided before validation says so.
  const payload = ['POST', 'PUT', 'PATCH'].includes(op.method) ? {} : undefined;
  return app.client({ method: op.method, url, headers, payload });
}

/** A response with the ids of the request taken out, to compare foreign with missing. */
function shape(res: TestResponse, url: string): unknown {
  let body: Record<string, unknown> = {};
  try {
    body = res.json();
  } catch {
    // an empty body
  }
  const { request_id: _, instance: __, ...rest } = body;
  const text = JSON.stringify(rest).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>');
  return { status: res.statusCode, body: text.replaceAll(url.split('/').pop()!, '<param>') };
}

function allowed(rule: AccessRule, caller: Caller): boolean {
  // A key opens no signed operation, an admin's neither.
  if (caller.key === null || 'signature' in rule) return false;
  if (caller.admin) return true;
  if ('instance' in rule) return rule.instance === 'member';
  return caller.projectRole !== null && rule.roles.includes(caller.projectRole);
}

describe('access walk', () => {
  it('covers every /v1 operation', () => {
    expect(operations().length).toBeGreaterThanOrEqual(20);
  });

  it('answers every operation x role x own / foreign / missing as its rule says', async () => {
    const failures: string[] = [];
    const fail = (op: Operation, caller: Caller, which: string, why: string, res: TestResponse) =>
      failures.push(`${op.id} as ${caller.label} on ${which}: ${why} (got ${res.statusCode} ${res.body.slice(0, 160)})`);
    for (const op of operations()) {
      for (const caller of callers) {
        const own = await call(op, urlFor(op, 'own', caller), caller);
        const missingUrl = urlFor(op, 'missing', caller);
        const missing = await call(op, missingUrl, caller);
        const foreignUrl = urlFor(op, 'foreign', caller);
        const foreign = await call(op, foreignUrl, caller);
        if (caller.key === null) {
          for (const [which, res] of [['own', own], ['foreign', foreign], ['missing', missing]] as const) {
            if (res.statusCode !== 401) fail(op, caller, which, 'expected 401 without a key', res);
          }
          continue;
        }
        const may = allowed(op.rule, caller);
        if (!may && own.statusCode < 300) fail(op, caller, 'own', 'unexpected 2xx', own);
        if ('signature' in op.rule && own.statusCode !== 401) fail(op, caller, 'own', 'expected 401 for a key on a signed operation', own);
        if (!may && 'instance' in op.rule && own.statusCode !== 403) fail(op, caller, 'own', 'expected 403 for a member on an admin operation', own);
        if (!may && 'project' in op.rule && caller.projectRole !== null && own.statusCode !== 403) fail(op, caller, 'own', 'expected 403 for a role the rule lacks', own);
        if (may && (own.statusCode === 401 || (own.statusCode === 403 && /may not call this operation/.test(own.body)))) fail(op, caller, 'own', 'refused a role the rule allows', own);
        if (!op.path.includes('{')) {
          // A list: nothing of anyone else's in it.
          const leaked = [ids.foreign.project_id, ids.foreign.user_id, ids.foreign.key_id].filter((id) => own.body.includes(id!));
          if (!caller.admin && leaked.length) fail(op, caller, 'own', `the list shows foreign ids ${leaked.join(', ')}`, own);
          continue;
        }
        if (foreign.statusCode < 300 && !caller.admin) fail(op, caller, 'foreign', 'unexpected 2xx on a foreign resource', foreign);
        // A retained resource (the audit trail) outlives its project: admins read it when the project is gone.
        const retained = 'project' in op.rule && op.rule.retained === true && caller.admin;
        if (missing.statusCode < 300 && op.path.includes('{') && !retained) fail(op, caller, 'missing', 'unexpected 2xx on a missing resource', missing);
        // Foreign must read exactly as missing for everyone but admins (who see every project),
        // wherever the path names a resource the caller could be told apart from a missing one.
        const namesResource = /\{(project_id|task_id|user_id|key_id|integration_id|webhook_id)\}/.test(op.path);
        if (!caller.admin && namesResource && !(op.rule && 'instance' in op.rule && op.rule.instance === 'admin')) {
          const a = shape(foreign, foreignUrl);
          const b = shape(missing, missingUrl);
          if (JSON.stringify(a) !== JSON.stringify(b)) fail(op, caller, 'foreign', `differs from missing: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`, foreign);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
