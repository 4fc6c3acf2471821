import type { Schemas } from '@alder/api-types';
import { emitEvent } from '@alder/queues';
import { withTransaction } from '@alder/db';
import { actorOf, HttpProblem, problems, type Actor, type HandlerDeps, type HandlerMap } from '@alder/http';
import { audit } from './audit';
import {
  activeAnnotations,
  claimReview,
  currentModelView,
  insertResolution,
  lockReview,
  moveQueueEntry,
  recordDecision,
  returnToPool,
  setGoldAnswerOf,
  type ReviewStage,
  type ReviewState,
} from './resolution.repository';
import { findItem } from './items.repository';
import { probabilitiesOf } from './tasks.mapping';

/** Reviews and escalations: lease the entry that most needs a look, then decide it. */
export function reviewHandlers({ pool }: HandlerDeps): HandlerMap {
  async function next(projectId: string, stage: ReviewStage, actor: Actor): Promise<Schemas['Review'] | null> {
    return withTransaction(pool, async (client) => {
      const claimed = await claimReview(client, { projectId, stage, reviewerId: actor.userId, keyId: actor.keyId });
      if (!claimed) return null;
      const annotations = await activeAnnotations(client, claimed.item_id);
      const model = await currentModelView(client, projectId, claimed.item_id);
      await audit(client, actor, [
        {
          projectId,
          kind: 'review.created',
          subject: { type: 'review', id: claimed.review_id },
          item: { id: claimed.item_id, externalId: claimed.external_id },
          after: { stage, reasons: claimed.reasons, proposed_label: claimed.proposed_label, expires_at: claimed.leased_until.toISOString() },
        },
      ]);
      const goldFailure = claimed.reasons.includes('gold_failure');
      return {
        review_id: claimed.review_id,
        project_id: projectId,
        stage,
        item: { id: claimed.item_id, external_id: claimed.external_id, text: claimed.text, meta: claimed.meta },
        annotations: annotations
          // A gold failure is about one annotator's answer: theirs is what to look at.
          .filter((a) => !goldFailure || a.user_id === claimed.about_user_id)
          .map((a) => ({ annotation_id: a.id, user_id: a.user_id, annotator: a.annotator, label: a.label, rationale: a.rationale, late: a.late, created_at: a.created_at.toISOString() })),
        proposed_label: claimed.proposed_label,
        reasons: claimed.reasons,
        gold_answer: goldFailure ? claimed.gold_answer : null,
        model: {
          version: model.version,
          probabilities: probabilitiesOf(model.labels, model.probs),
        },
        expires_at: claimed.leased_until.toISOString(),
        guidelines: claimed.guidelines,
        label_descriptions: claimed.label_descriptions,
      };
    });
  }

  /** Why a review can not be decided now, or null. */
  function refusal(review: ReviewState, actor: Actor, decision: string): HttpProblem | null {
    if (review.reviewer_id !== actor.userId) return problems.forbidden('This review is leased to another user.');
    if (review.decision !== null && review.decision !== 'expired') return new HttpProblem(409, 'conflict', 'This review is already decided.');
    if (!review.current) return problems.conflict('lease-expired', 'The lease on this review ran out and the item went to someone else; ask for a new review.');
    if (decision === 'escalate' && review.stage === 'escalated') {
      return problems.validation('An escalation is decided by an expert; it can not be escalated again.', [{ path: 'body/decision', message: 'must be accept, correct or reject' }]);
    }
    return null;
  }

  return {
    getNextReview: async (request, reply) => (await next(request.params.project_id, 'review', actorOf(request))) ?? reply.code(204).send(),

    getNextEscalation: async (request, reply) => (await next(request.params.project_id, 'escalated', actorOf(request))) ?? reply.code(204).send(),

    decideReview: async (request) => {
      const actor = actorOf(request);
      const reviewId = request.params.review_id;
      const { decision, label, note } = request.body;
      if ((decision === 'correct') !== (label !== undefined)) {
        throw problems.validation(decision === 'correct' ? 'A correction needs the label.' : 'Only a correction takes a label.', [
          { path: 'body/label', message: decision === 'correct' ? 'is required with decision "correct"' : 'is only allowed with decision "correct"' },
        ]);
      }
      return withTransaction(pool, async (client) => {
        const review = await lockReview(client, reviewId);
        if (!review) throw problems.notFound(`No review ${reviewId}.`);
        const refused = refusal(review, actor, decision);
        if (refused) throw refused;
        if (label !== undefined && !review.labels.includes(label)) {
          throw problems.validation(`"${label}" is not one of the project's labels.`, [{ path: 'body/label', message: `must be one of: ${review.labels.join(', ')}` }]);
        }
        const resolved = decision === 'accept' ? review.proposed_label : (label ?? null);
        if (decision === 'accept' && resolved === null) {
          throw new HttpProblem(409, 'conflict', 'The annotators tied, so there is no proposed label to accept; decide with "correct" and the label.');
        }
        const item = { id: review.item_id, externalId: review.external_id };
        const gold = review.gold_answer !== null && review.reasons.includes('gold_failure');
        let resolution: Schemas['ReviewOutcome']['resolution'] = null;
        let resolutionId: number | null = null;
        if (decision === 'escalate') {
          await moveQueueEntry(client, review.item_id, 'escalated');
        } else if (decision === 'reject') {
          // A gold item that fails people may be a bad one: it becomes an ordinary item.
          if (gold) await setGoldAnswerOf(client, review.item_id, null);
          await returnToPool(client, review.item_id);
          await moveQueueEntry(client, review.item_id, 'done');
        } else if (gold) {
          // Accept: the known answer stands; correct: the answer was wrong.
          if (resolved !== review.gold_answer) await setGoldAnswerOf(client, review.item_id, resolved);
          await moveQueueEntry(client, review.item_id, 'done');
        } else {
          const annotations = await activeAnnotations(client, review.item_id);
          const stored = await insertResolution(client, {
            projectId: review.project_id,
            itemId: review.item_id,
            label: resolved!,
            rule: review.stage === 'escalated' ? 'expert' : 'reviewer',
            annotationIds: annotations.map((a) => a.id),
            reviewId,
            decidedBy: actor.userId,
          });
          resolution = { label: stored.label, rule: stored.rule, created_at: stored.created_at.toISOString() };
          resolutionId = Number(stored.id);
          await moveQueueEntry(client, review.item_id, 'done');
        }
        await recordDecision(client, reviewId, { decision, label: label ?? null, note: note ?? null });
        await audit(client, actor, [
          {
            projectId: review.project_id,
            kind: 'review.decided',
            subject: { type: 'review', id: reviewId },
            item,
            before: gold ? { gold_answer: review.gold_answer } : { proposed_label: review.proposed_label },
            after: { decision, label: resolved, note: note ?? null, stage: review.stage },
          },
          ...(resolution
            ? [{ projectId: review.project_id, kind: 'item.resolved', subject: { type: 'item', id: String(review.item_id) }, item, after: { label: resolution.label, rule: resolution.rule, review_id: reviewId } }]
            : []),
        ]);
        // Outbound webhooks, in the decision's transaction (written only when someone listens).
        if (decision === 'escalate') {
          await emitEvent(client, review.project_id, 'review.needed', { external_id: review.external_id, stage: 'escalation', reasons: review.reasons, proposed_label: review.proposed_label });
        } else if (resolution) {
          await emitEvent(client, review.project_id, 'item.resolved', { external_id: review.external_id, resolution_id: resolutionId!, label: resolution.label, rule: resolution.rule });
        }
        return { review_id: reviewId, item_id: review.item_id, decision, label: decision === 'escalate' || decision === 'reject' ? null : resolved, resolution };
      });
    },

    setGoldAnswer: async (request) => {
      const { project_id: projectId, external_id: externalId } = request.params;
      const answer = request.body.answer;
      return withTransaction(pool, async (client) => {
        const item = await findItem(client, projectId, externalId, true);
        if (!item) throw problems.notFound(`No item ${externalId} in project ${projectId}.`);
        const { rows } = await client.query<{ labels: string[] }>('SELECT labels FROM projects WHERE id = $1', [projectId]);
        if (!rows[0]!.labels.includes(answer)) {
          throw problems.validation(`"${answer}" is not one of the project's labels.`, [{ path: 'body/answer', message: `must be one of: ${rows[0]!.labels.join(', ')}` }]);
        }
        if (item.split !== 'pool') throw new HttpProblem(409, 'conflict', 'Only pool items can be gold items; test items already hold out their labels.');
        if (item.annotations > 0 && item.gold_answer === null) throw new HttpProblem(409, 'conflict', 'The item already has annotations; a gold item must be new to every annotator.');
        await setGoldAnswerOf(client, item.id, answer);
        await audit(client, actorOf(request), [
          { projectId, kind: 'item.gold_set', subject: { type: 'item', id: String(item.id) }, item: { id: item.id, externalId }, before: { gold_answer: item.gold_answer }, after: { gold_answer: answer } },
        ]);
        return { item_id: item.id, external_id: externalId, answer };
      });
    },
  };
}
