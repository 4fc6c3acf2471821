import { withTransaction } from '@alder/db';
import { enqueue, samplingQueue, trainingQueue } from '@alder/queues';
import { actorOf, problems, type HandlerDeps, type HandlerMap, type ProblemFieldError } from '@alder/http';
import { markTrainingRequested, recordLabels } from '@alder/retraining';
import { applyOverlap, findProject, insertProject, listProjects, projectHasItems, updateProject } from './projects.repository';
import { toProject } from './projects.mapping';
import { audit, changedFields } from './audit';
import type { Schemas } from '@alder/api-types';

/** The settings a change to which is audited, before and after. */
const SETTINGS: (keyof Schemas['Project'])[] = [
  'name',
  'labels',
  'guidelines',
  'strategy',
  'retrain_every',
  'on_resend',
  'on_duplicate_text',
  'lease_seconds',
  'label_budget',
  'overlap',
  'label_descriptions',
  'policy',
];

/** Label descriptions and rationale labels must name the project's labels (422 otherwise). */
function checkLabelReferences(labels: readonly string[], body: { label_descriptions?: Record<string, string>; policy?: { rationale_required?: unknown } }): void {
  const errors: ProblemFieldError[] = [];
  for (const label of Object.keys(body.label_descriptions ?? {})) {
    if (!labels.includes(label)) errors.push({ path: `body/label_descriptions/${label}`, message: `is not one of the project's labels: ${labels.join(', ')}` });
  }
  const required = body.policy?.rationale_required;
  if (Array.isArray(required)) {
    required.forEach((label: string, i: number) => {
      if (!labels.includes(label)) errors.push({ path: `body/policy/rationale_required/${i}`, message: `is not one of the project's labels: ${labels.join(', ')}` });
    });
  }
  if (errors.length) throw problems.validation('The settings name labels the project does not have.', errors);
}

function sameLabels(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((label, i) => label === b[i]);
}

/** Projects: create, list, read, change settings; manual training requests. */
export function projectHandlers({ pool }: HandlerDeps): HandlerMap {
  return {
    createProject: async (request, reply) => {
      checkLabelReferences(request.body.labels, request.body);
      const project = await withTransaction(pool, async (client) => {
        const created = await insertProject(client, request.body);
        await audit(client, actorOf(request), [{ projectId: created.id, kind: 'project.created', subject: { type: 'project', id: created.id }, after: toProject(created) }]);
        return created;
      });
      request.log.info({ projectId: project.id }, 'project created');
      reply.code(201);
      return toProject(project);
    },

    listProjects: async (request) => {
      const limit = request.query.limit ?? 50;
      const offset = request.query.offset ?? 0;
      const actor = actorOf(request);
      // Members see the projects they are in; admins every project.
      const { rows, total } = await listProjects(pool, limit, offset, actor.role === 'admin' ? null : actor.userId);
      return { data: rows.map(toProject), total, limit, offset };
    },

    getProject: async (request) => {
      const project = await findProject(pool, request.params.project_id);
      if (!project) throw problems.notFound(`No project ${request.params.project_id}.`);
      return toProject(project);
    },

    updateProject: async (request) => {
      const projectId = request.params.project_id;
      const changes = request.body;
      return withTransaction(pool, async (client) => {
        // The row lock also holds off an ingest batch until this commits (it locks the row too).
        const current = await findProject(client, projectId, true);
        if (!current) throw problems.notFound(`No project ${projectId}.`);
        // Labels are fixed once items exist: imported labels, annotations and model outputs all
        // refer to them. Sending the same list is fine.
        if (changes.labels && !sameLabels(changes.labels, current.labels) && (await projectHasItems(client, projectId))) {
          throw problems.conflict('labels-locked', 'The project has items, so its labels can not change.');
        }
        checkLabelReferences(changes.labels ?? current.labels, changes);
        const updated = await updateProject(client, projectId, changes);
        const diff = changedFields(toProject(current), toProject(updated), SETTINGS);
        if (diff) await audit(client, actorOf(request), [{ projectId, kind: 'project.updated', subject: { type: 'project', id: projectId }, ...diff }]);
        if (changes.strategy && changes.strategy !== current.strategy) {
          await enqueue(client, samplingQueue, 'rank-pool', { projectId, reason: 'strategy-changed' });
        }
        if (changes.overlap) await applyOverlap(client, projectId);
        if (changes.retrain_every && changes.retrain_every !== current.retrain_every) {
          await recordLabels(client, projectId, 0);
        }
        return toProject(updated);
      });
    },

    requestTraining: async (request, reply) => {
      const projectId = request.params.project_id;
      await withTransaction(pool, async (client) => {
        if (!(await markTrainingRequested(client, projectId))) throw problems.notFound(`No project ${projectId}.`);
        await audit(client, actorOf(request), [{ projectId, kind: 'training.requested', subject: { type: 'project', id: projectId }, after: { reason: 'manual' } }]);
        await enqueue(client, trainingQueue, 'train-model', { projectId, reason: 'manual' });
      });
      reply.code(202);
      return { project_id: projectId, job: 'train-model', reason: 'manual' };
    },
  };
}
