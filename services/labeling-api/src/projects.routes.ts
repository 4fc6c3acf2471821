import { withTransaction } from '@alder/db';
import { enqueue, samplingQueue, trainingQueue } from '@alder/queues';
import { problems, type HandlerDeps, type HandlerMap } from '@alder/http';
import { markTrainingRequested, recordLabels } from '@alder/retraining';
import { findProject, insertProject, listProjects, projectHasItems, updateProject } from './projects.repository';
import { toProject } from './projects.mapping';

function sameLabels(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((label, i) => label === b[i]);
}

/** Projects: create, list, read, change settings; manual training requests. */
export function projectHandlers({ pool }: HandlerDeps): HandlerMap {
  return {
    createProject: async (request, reply) => {
      const project = await insertProject(pool, request.body);
      request.log.info({ projectId: project.id }, 'project created');
      reply.code(201);
      return toProject(project);
    },

    listProjects: async (request) => {
      const limit = request.query.limit ?? 50;
      const offset = request.query.offset ?? 0;
      const { rows, total } = await listProjects(pool, limit, offset);
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
        const updated = await updateProject(client, projectId, changes);
        if (changes.strategy && changes.strategy !== current.strategy) {
          await enqueue(client, samplingQueue, 'rank-pool', { projectId, reason: 'strategy-changed' });
        }
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
        await enqueue(client, trainingQueue, 'train-model', { projectId, reason: 'manual' });
      });
      reply.code(202);
      return { project_id: projectId, job: 'train-model', reason: 'manual' };
    },
  };
}
