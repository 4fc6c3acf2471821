import { withTransaction } from '@alder/db';
import { HttpProblem, problems, type HandlerDeps, type HandlerMap } from '@alder/http';
import { recordLabels } from '@alder/retraining';
import { insertAnnotation, leaseNextItem, lockLease, releaseLease, whyNoTask, type LeaseState } from './tasks.repository';
import { leaseProvenance, toAnnotation, toTask } from './tasks.mapping';

/**
 * Seconds a caller waits before asking again while the first ranking is pending: sampling makes
 * the cold start of a new pool within seconds of its arrival (a few for 20,000 items).
 */
export const RANKING_PENDING_RETRY_SECONDS = 2;

function rankingPending(projectId: string): HttpProblem {
  return new HttpProblem(
    503,
    'ranking-pending',
    `Project ${projectId} has items but no ranking yet; the first tasks come from the cold-start ranking, which sampling is making. Retry after ${RANKING_PENDING_RETRY_SECONDS} s.`,
    undefined,
    { 'retry-after': String(RANKING_PENDING_RETRY_SECONDS) },
  );
}

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
      if (task) return toTask(task);
      const why = await whyNoTask(pool, projectId);
      if (why === 'no-project') throw problems.notFound(`No project ${projectId}.`);
      // Free items but no ranking of them yet: serving them now would hand out the head of the
      // file, not the cold start's diverse picks.
      if (why === 'ranking-pending') throw rankingPending(projectId);
      return reply.code(204).send();
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
        // The annotation copies the lease's provenance: checked before it is written.
        const provenance = leaseProvenance(lease);
        const stored = await insertAnnotation(client, {
          lease,
          label: body.label,
          annotator: body.annotator,
          rationale: body.rationale ?? null,
          timeSpentMs: body.time_spent_ms ?? null,
          apiKeyId: request.apiKey?.id ?? null,
        });
        await recordLabels(client, lease.project_id, 1);
        return { lease, provenance, stored };
      });
      reply.code(201);
      return toAnnotation({
        lease: annotation.lease,
        provenance: annotation.provenance,
        id: annotation.stored.id,
        created_at: annotation.stored.created_at,
        label: body.label,
        annotator: body.annotator,
        rationale: body.rationale ?? null,
        time_spent_ms: body.time_spent_ms ?? null,
      });
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
