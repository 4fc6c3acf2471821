import { withTransaction, type Queryable } from '@alder/db';
import { actorOf, HttpProblem, problems, type Actor, type HandlerDeps, type HandlerMap } from '@alder/http';
import { emitEvent } from '@alder/queues';
import { applyLabelCount, recordLabels } from '@alder/retraining';
import {
  extendLease,
  holdSlotForAnnotation,
  insertAnnotation,
  leaseNextItem,
  lockLease,
  releaseLease,
  whyNoTask,
  type LeaseState,
} from './tasks.repository';
import { itemOfLease, leaseProvenance, probabilitiesOf, toAnnotation, toTask } from './tasks.mapping';
import { audit, type AuditEntry } from './audit';
import { afterAnnotation, missingRationale, resolvesAlone } from './completion';

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

/** Why a lease can no longer change, or null while it can (late submissions are decided apart). */
function endedProblem(lease: LeaseState) {
  if (lease.outcome === 'annotated') return problems.conflict('already-annotated', 'This task already has its annotation.');
  if (lease.outcome === 'released') return problems.conflict('lease-released', 'This task was released; ask for a new task.');
  return null;
}

/** The lease of a task the caller holds, locked; 404 / 403 otherwise. */
async function heldLease(client: Queryable, taskId: string, actor: Actor): Promise<LeaseState> {
  const lease = await lockLease(client, taskId);
  // The access hook found the task's project; a lease gone since (retention) is a 404 too.
  if (!lease) throw problems.notFound(`No task ${taskId}.`);
  if (lease.user_id !== actor.userId) throw problems.forbidden('This task is leased to another user.');
  return lease;
}

/**
 * The outbound webhook events of a stored annotation (item.labeled, and item.resolved when it
 * resolved its item), in the submit's transaction. The mask came with the lease lock, so a project
 * nobody listens to pays no statement here (the annotator's hot path).
 */
async function emitAnnotationEvents(
  client: Queryable,
  lease: LeaseState,
  annotationId: number,
  label: string,
  late: boolean,
  resolution: { resolution_id: number; label: string; rule: string } | null,
): Promise<void> {
  const mask = lease.webhook_events;
  if (mask === 0) return;
  // A gold answer checks its annotator: it labels nothing.
  if (lease.gold_answer === null) {
    await emitEvent(client, lease.project_id, 'item.labeled', { external_id: lease.external_id, annotation_id: Number(annotationId), label, user_id: lease.user_id, task_id: lease.id, late }, { mask });
  }
  if (resolution) await emitEvent(client, lease.project_id, 'item.resolved', { external_id: lease.external_id, ...resolution }, { mask });
}

/** The resolution among afterAnnotation's audit entries (an item resolved by agreement or majority). */
function resolvedBy(entries: AuditEntry[]): { resolution_id: number; label: string; rule: string } | null {
  const entry = entries.find((e) => e.kind === 'item.resolved');
  if (!entry) return null;
  const after = entry.after as { resolution_id: number; label: string; rule: string };
  return { resolution_id: Number(after.resolution_id), label: after.label, rule: after.rule };
}

/** Tasks: lease the next item, extend it, submit its label, release it. */
export function taskHandlers({ pool }: HandlerDeps): HandlerMap {
  return {
    getNextTask: async (request, reply) => {
      const projectId = request.params.project_id;
      const actor = actorOf(request);
      // One statement leases the item and records it in the audit trail.
      const leased = await leaseNextItem(pool, projectId, { userId: actor.userId, name: actor.name, keyId: actor.keyId });
      const task = leased ? toTask(leased) : null;
      if (task) return task;
      const why = await whyNoTask(pool, projectId);
      if (why === 'no-project') throw problems.notFound(`No project ${projectId}.`);
      // Free items but no ranking of them yet: serving them now would hand out the head of the
      // file, not the cold start's diverse picks.
      if (why === 'ranking-pending') throw rankingPending(projectId);
      return reply.code(204).send();
    },

    heartbeatTask: async (request) => {
      const taskId = request.params.task_id;
      const actor = actorOf(request);
      return withTransaction(pool, async (client) => {
        const lease = await heldLease(client, taskId, actor);
        const ended = endedProblem(lease);
        if (ended) throw ended;
        // Expired but nobody took the slot: the annotator is still on it, so it revives.
        if (!lease.holds_slot) throw problems.conflict('lease-expired', 'The lease on this task expired and its slot went to someone else; ask for a new task.');
        const expiresAt = await extendLease(client, lease);
        await audit(client, actor, [
          { projectId: lease.project_id, kind: 'lease.extended', subject: { type: 'lease', id: lease.id }, item: itemOfLease(lease), after: { expires_at: expiresAt.toISOString() } },
        ]);
        return { task_id: lease.id, expires_at: expiresAt.toISOString() };
      });
    },

    submitAnnotation: async (request, reply) => {
      const taskId = request.params.task_id;
      const actor = actorOf(request);
      const body = request.body;
      const annotation = await withTransaction(pool, async (client) => {
        const lease = await heldLease(client, taskId, actor);
        const ended = endedProblem(lease);
        if (ended) throw ended;
        // Exactly one of the labels: no trimming, no case or Unicode folding ("pos " and a
        // Cyrillic "рos" are different strings, and a model would learn them as such).
        if (!lease.labels.includes(body.label)) {
          throw problems.validation(`"${body.label}" is not one of the project's labels.`, [
            { path: 'body/label', message: `must be one of: ${lease.labels.join(', ')}` },
          ]);
        }
        const noRationale = missingRationale(lease, body.label, body.rationale);
        if (noRationale) throw problems.validation('This label needs a rationale.', [noRationale]);
        // The annotation copies the lease's provenance: checked before it is written.
        const provenance = leaseProvenance(lease);
        // After expiry the label is kept (flagged late) if the item still has room for it.
        const late = lease.expired || !lease.holds_slot;
        const slot = await holdSlotForAnnotation(client, lease);
        if (!slot.held) {
          throw problems.conflict(
            'overlap-full',
            `The lease on this task expired and the item has all the annotators it needs (${lease.required_annotations}); the label was not stored. Ask for a new task.`,
          );
        }
        const annotationEvent = {
          task_id: lease.id,
          user_id: actor.userId,
          label: body.label,
          rationale: body.rationale ?? null,
          time_spent_ms: body.time_spent_ms ?? null,
          late,
          // What the annotator was shown when the item was leased.
          shown: {
            model_version: lease.model_version,
            strategy: provenance.selection_strategy,
            score: provenance.selection_score,
            probabilities: probabilitiesOf(lease.model_labels, lease.selection_probs),
          },
        };
        const annotationInput = { lease, label: body.label, rationale: body.rationale ?? null, timeSpentMs: body.time_spent_ms ?? null, keyId: actor.keyId, late };
        // The common case, one statement: the annotation decides its item alone.
        const rule = slot.supersededLease ? null : resolvesAlone(lease, body.label, late);
        if (rule) {
          const stored = await insertAnnotation(client, { ...annotationInput, record: { rule, eventAfter: annotationEvent } });
          await applyLabelCount(client, lease.project_id, stored.train_due);
          await emitAnnotationEvents(client, lease, stored.id, body.label, late, stored.resolution_id === null ? null : { resolution_id: stored.resolution_id, label: body.label, rule });
          return { lease, provenance, stored, late };
        }
        const stored = await insertAnnotation(client, annotationInput);
        const entries: AuditEntry[] = [
          {
            projectId: lease.project_id,
            kind: 'annotation.created',
            subject: { type: 'annotation', id: String(stored.id) },
            item: itemOfLease(lease),
            after: { annotation_id: stored.id, ...annotationEvent },
          },
        ];
        if (slot.supersededLease) {
          entries.push({ projectId: lease.project_id, kind: 'lease.expired', subject: { type: 'lease', id: slot.supersededLease }, item: itemOfLease(lease), after: { taken_over_by: lease.id } });
        }
        const after = await afterAnnotation(client, actor, lease, { id: stored.id, label: body.label, late }, stored.completed);
        if (after.resolution) (entries[0]!.after as Record<string, unknown>).resolution = after.resolution;
        entries.push(...after.entries);
        await audit(client, actor, entries);
        const resolved = after.resolution ?? resolvedBy(after.entries);
        await emitAnnotationEvents(client, lease, stored.id, body.label, late, lease.gold_answer === null ? resolved : null);
        for (const queued of after.entries.filter((e) => e.kind === 'review.queued')) {
          const why = queued.after as { reasons: string[]; proposed_label?: string | null };
          await emitEvent(client, lease.project_id, 'review.needed', { external_id: lease.external_id, stage: 'review', reasons: why.reasons, proposed_label: why.proposed_label ?? null }, { mask: lease.webhook_events });
        }
        // Last: counting the label locks the project's row until commit, and every submit to
        // the project waits for that lock, so it is held for the commit alone. A gold answer
        // checks the annotator; it is no label to train on.
        if (lease.gold_answer === null) await recordLabels(client, lease.project_id, 1);
        return { lease, provenance, stored, late };
      });
      reply.code(201);
      return toAnnotation({
        lease: annotation.lease,
        provenance: annotation.provenance,
        id: annotation.stored.id,
        created_at: annotation.stored.created_at,
        label: body.label,
        rationale: body.rationale ?? null,
        time_spent_ms: body.time_spent_ms ?? null,
        late: annotation.late,
      });
    },

    releaseTask: async (request, reply) => {
      const taskId = request.params.task_id;
      const actor = actorOf(request);
      await withTransaction(pool, async (client) => {
        const lease = await heldLease(client, taskId, actor);
        if (lease.outcome === 'annotated') throw problems.conflict('already-annotated', 'This task already has its annotation.');
        // Releasing twice changes nothing and is not an error. A lease that expired is still
        // released: the reason is recorded and the user is not offered the item again.
        if (lease.outcome === null || lease.outcome === 'expired') {
          const reason = request.query.reason ?? 'skip';
          await releaseLease(client, lease, reason);
          await audit(client, actor, [{ projectId: lease.project_id, kind: 'lease.released', subject: { type: 'lease', id: lease.id }, item: itemOfLease(lease), after: { reason } }]);
        }
      });
      return reply.code(204).send();
    },
  };
}
