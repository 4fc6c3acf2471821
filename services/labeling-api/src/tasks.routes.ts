import { withTransaction } from '@alder/db';
import { problems, type HandlerDeps, type HandlerMap } from '@alder/http';
import type { Schemas } from '@alder/api-types';
import { recordLabels } from '@alder/store';
import { insertAnnotation, leaseNextItem, lockLease, projectExists, releaseLease, type LeaseState } from './tasks.repository';
import { entryRationale, probabilitiesByLabel, round } from './serialize';

/** Why a lease can no longer take an annotation, or null while it can. */
function endedProblem(lease: LeaseState) {
  if (lease.outcome === 'annotated') return problems.conflict('already-annotated', 'This task already has its annotation.');
  if (lease.outcome === 'released') return problems.conflict('lease-released', 'This task was released; ask for a new task.');
  if (!lease.active) return problems.conflict('lease-expired', 'The lease on this task expired; ask for a new task.');
  return null;
}

/** Tasks: lease the next item, submit its label, release it. */
export function taskHandlers({ pool }: HandlerDeps): HandlerMap {
  return {
    getNextTask: async (request, reply) => {
      const projectId = request.params.project_id;
      const task = await leaseNextItem(pool, projectId, request.body.annotator, request.apiKey?.id ?? null);
      if (!task) {
        if (!(await projectExists(pool, projectId))) throw problems.notFound(`No project ${projectId}.`);
        return reply.code(204).send();
      }
      return {
        task_id: task.task_id,
        project_id: task.project_id,
        item: { id: task.item_id, external_id: task.external_id, text: task.text, meta: task.meta },
        expires_at: task.expires_at.toISOString(),
        selection: {
          model_version: task.model_version,
          strategy: task.strategy,
          score: round(task.score),
          probabilities: probabilitiesByLabel(task.model_labels, task.probs),
          rationale: entryRationale(task.rationale, task.strategy, task.model_labels, task.probs),
        },
      } satisfies Schemas['Task'];
    },

    submitAnnotation: async (request, reply) => {
      const taskId = request.params.task_id;
      const body = request.body;
      const annotation = await withTransaction(pool, async (client) => {
        const lease = await lockLease(client, taskId);
        if (!lease) throw problems.notFound(`No task ${taskId}.`);
        if (lease.annotator !== body.annotator) throw problems.forbidden('This task is leased to another annotator.');
        const ended = endedProblem(lease);
        if (ended) throw ended;
        if (!lease.labels.includes(body.label)) {
          throw problems.validation(`"${body.label}" is not one of the project's labels.`, [
            { path: 'body/label', message: `must be one of: ${lease.labels.join(', ')}` },
          ]);
        }
        const stored = await insertAnnotation(client, {
          lease,
          label: body.label,
          annotator: body.annotator,
          rationale: body.rationale ?? null,
          timeSpentMs: body.time_spent_ms ?? null,
          apiKeyId: request.apiKey?.id ?? null,
        });
        await recordLabels(client, lease.project_id, 1);
        return { lease, stored };
      });
      const { lease, stored } = annotation;
      reply.code(201);
      return {
        id: stored.id,
        task_id: lease.id,
        project_id: lease.project_id,
        item_id: lease.item_id,
        external_id: lease.external_id,
        label: body.label,
        rationale: body.rationale ?? null,
        time_spent_ms: body.time_spent_ms ?? null,
        annotator: body.annotator,
        source: 'annotator',
        selection: { model_version: lease.model_version, strategy: lease.selection_strategy, score: round(lease.selection_score) },
        created_at: stored.created_at.toISOString(),
      } satisfies Schemas['Annotation'];
    },

    releaseTask: async (request, reply) => {
      const taskId = request.params.task_id;
      const annotator = request.query.annotator;
      await withTransaction(pool, async (client) => {
        const lease = await lockLease(client, taskId);
        if (!lease) throw problems.notFound(`No task ${taskId}.`);
        if (annotator !== undefined && lease.annotator !== annotator) throw problems.forbidden('This task is leased to another annotator.');
        if (lease.outcome === 'annotated') throw problems.conflict('already-annotated', 'This task already has its annotation.');
        // Releasing twice, or after expiry, changes nothing and is not an error.
        if (lease.outcome === null) await releaseLease(client, lease);
      });
      return reply.code(204).send();
    },
  };
}
