import { counts, createProject, insertItems, insertModel, insertRanking, publishColdStart, startHarness, type Harness, type Member, expireLease, memberTasks } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const { next } = memberTasks;
const submit = (m: Member, taskId: string, label: string, extra: Record<string, unknown> = {}) => memberTasks.submit(m, taskId, label, extra);
const nextReview = (m: Member, projectId: string) => m.http({ method: 'POST', url: `/v1/projects/${projectId}/reviews/next` });
const nextEscalation = (m: Member, projectId: string) => m.http({ method: 'POST', url: `/v1/projects/${projectId}/escalations/next` });
const decide = (m: Member, reviewId: string, body: Record<string, unknown>) => m.http({ method: 'POST', url: `/v1/reviews/${reviewId}`, payload: body });

/** Each of the members labels the one item of the project with the label given. */
async function labelAll(projectId: string, pairs: [Member, string][]): Promise<void> {
  for (const [m, label] of pairs) {
    const task = await next(m, projectId);
    expect(task.statusCode).toBe(200);
    expect((await submit(m, task.json().task_id, label)).statusCode).toBe(201);
  }
}
const resolutions = async (itemId: number) => (await h.db.pool.query('SELECT label, rule FROM item_resolutions WHERE item_id = $1 ORDER BY id', [itemId])).rows;

async function team(projectId: string) {
  const [a, b, c, reviewer, expert] = await Promise.all([
    h.as(projectId, 'a'),
    h.as(projectId, 'b'),
    h.as(projectId, 'c'),
    h.as(projectId, 'reviewer', 'reviewer'),
    h.as(projectId, 'expert', 'expert'),
  ]);
  return { a: a!, b: b!, c: c!, reviewer: reviewer!, expert: expert! };
}

describe('resolution without review', () => {
  it('resolves single annotators, agreement and majorities at once', async () => {
    for (const [k, labels, rule] of [
      [1, ['pos'], 'single_annotator'],
      [2, ['pos', 'pos'], 'agreement'],
      [3, ['pos', 'neg', 'pos'], 'majority'],
    ] as const) {
      const projectId = await createProject(h, { overlap: { annotators: k } });
      const [item] = await insertItems(h.db.pool, projectId, 1);
      await publishColdStart(h.db.pool, projectId);
      const t = await team(projectId);
      await labelAll(projectId, labels.map((label, i) => [[t.a, t.b, t.c][i]!, label]));
      expect(await resolutions(item!)).toEqual([{ label: 'pos', rule }]);
      expect((await nextReview(t.reviewer, projectId)).statusCode).toBe(204);
    }
  });
});

describe('review', () => {
  it('queues a disagreement; nobody reviews their own label; a tie can only be corrected', async () => {
    const projectId = await createProject(h, { overlap: { annotators: 2 } });
    const [item] = await insertItems(h.db.pool, projectId, 1);
    await publishColdStart(h.db.pool, projectId);
    const t = await team(projectId);
    // b is a reviewer too, but annotated the item: not theirs to review.
    await h.http({ method: 'PUT', url: `/v1/projects/${projectId}/members/${t.b.userId}`, payload: { role: 'reviewer' } });
    await labelAll(projectId, [[t.a, 'pos'], [t.b, 'neg']]);
    expect(await resolutions(item!)).toEqual([]);
    expect((await nextReview(t.b, projectId)).statusCode).toBe(204);
    // An annotator has no review queue.
    expect((await nextReview(t.a, projectId)).statusCode).toBe(403);
    const res = await nextReview(t.reviewer, projectId);
    expect(res.statusCode).toBe(200);
    const review = res.json();
    expect(review).toMatchObject({ stage: 'review', proposed_label: null, reasons: ['disagreement'], gold_answer: null, item: { id: item } });
    expect(review.annotations.map((a: { label: string; user_id: string }) => [a.user_id, a.label])).toEqual([
      [t.a.userId, 'pos'],
      [t.b.userId, 'neg'],
    ]);
    // Held: nobody else gets it meanwhile.
    expect((await nextReview(t.expert, projectId)).statusCode).toBe(204);
    const before = await counts(h.db.pool);
    expect((await decide(t.expert, review.review_id, { decision: 'correct', label: 'pos' })).statusCode).toBe(403);
    expect((await decide(t.reviewer, review.review_id, { decision: 'accept' })).statusCode).toBe(409);
    expect((await decide(t.reviewer, review.review_id, { decision: 'correct' })).statusCode).toBe(422);
    expect((await decide(t.reviewer, review.review_id, { decision: 'accept', label: 'pos' })).statusCode).toBe(422);
    expect((await decide(t.reviewer, review.review_id, { decision: 'correct', label: 'maybe' })).statusCode).toBe(422);
    expect((await decide(t.reviewer, review.review_id, { decision: 'approve' })).statusCode).toBe(422);
    expect(await counts(h.db.pool)).toEqual(before);
    const decided = await decide(t.reviewer, review.review_id, { decision: 'correct', label: 'neg', note: 'sarcasm' });
    expect(decided.statusCode).toBe(200);
    expect(decided.json()).toMatchObject({ decision: 'correct', label: 'neg', resolution: { label: 'neg', rule: 'reviewer' } });
    expect(await resolutions(item!)).toEqual([{ label: 'neg', rule: 'reviewer' }]);
    expect((await decide(t.reviewer, review.review_id, { decision: 'accept' })).statusCode).toBe(409);
    expect((await nextReview(t.reviewer, projectId)).statusCode).toBe(204);
  });

  it('escalates to experts, who decide with rule expert and can not escalate again', async () => {
    const projectId = await createProject(h, { overlap: { annotators: 2 } });
    const [item] = await insertItems(h.db.pool, projectId, 1);
    await publishColdStart(h.db.pool, projectId);
    const t = await team(projectId);
    await labelAll(projectId, [[t.a, 'pos'], [t.b, 'neg']]);
    const review = (await nextReview(t.reviewer, projectId)).json();
    expect((await decide(t.reviewer, review.review_id, { decision: 'escalate' })).json()).toMatchObject({ decision: 'escalate', resolution: null });
    expect((await nextReview(t.reviewer, projectId)).statusCode).toBe(204);
    expect((await nextEscalation(t.reviewer, projectId)).statusCode).toBe(403);
    const escalation = (await nextEscalation(t.expert, projectId)).json();
    expect(escalation).toMatchObject({ stage: 'escalated', item: { id: item } });
    expect((await decide(t.expert, escalation.review_id, { decision: 'escalate' })).statusCode).toBe(422);
    expect((await decide(t.expert, escalation.review_id, { decision: 'correct', label: 'pos' })).json().resolution).toMatchObject({ label: 'pos', rule: 'expert' });
    expect(await resolutions(item!)).toEqual([{ label: 'pos', rule: 'expert' }]);
  });

  it('a reject sends the item back to the pool for other annotators, then it is assessed again', async () => {
    const projectId = await createProject(h, { overlap: { annotators: 2 } });
    const [item] = await insertItems(h.db.pool, projectId, 1);
    await publishColdStart(h.db.pool, projectId);
    const t = await team(projectId);
    const d = await h.as(projectId, 'd');
    await labelAll(projectId, [[t.a, 'pos'], [t.b, 'neg']]);
    const review = (await nextReview(t.reviewer, projectId)).json();
    expect((await decide(t.reviewer, review.review_id, { decision: 'reject' })).statusCode).toBe(200);
    expect((await h.db.pool.query('SELECT status FROM items WHERE id = $1', [item])).rows[0].status).toBe('unlabeled');
    // The first annotators never get it back; two others label it and agree.
    expect((await next(t.a, projectId)).statusCode).toBe(204);
    expect((await next(t.b, projectId)).statusCode).toBe(204);
    await labelAll(projectId, [[t.c, 'neg'], [d, 'neg']]);
    expect(await resolutions(item!)).toEqual([{ label: 'neg', rule: 'agreement' }]);
  });

  it('queues labels the model confidently contradicts, and late ones, in priority order', async () => {
    const projectId = await createProject(h);
    const [contradicted, late, plain] = await insertItems(h.db.pool, projectId, 3);
    const modelId = await insertModel(h.db.pool, projectId, { version: 1, labels: ['pos', 'neg'], current: true });
    await insertRanking(h.db.pool, projectId, modelId, 'margin', [
      { itemId: contradicted!, priority: 0.9, score: 0.9, probs: [0.02, 0.98] },
      { itemId: late!, priority: 0.8, score: 0.8, probs: [0.5, 0.5] },
      { itemId: plain!, priority: 0.7, score: 0.7, probs: [0.6, 0.4] },
    ]);
    const t = await team(projectId);
    const first = (await next(t.a, projectId)).json();
    expect(first.item.id).toBe(contradicted);
    expect((await submit(t.a, first.task_id, 'pos')).statusCode).toBe(201);
    const second = (await next(t.a, projectId)).json();
    await expireLease(h.db.pool, second.task_id);
    expect((await submit(t.a, second.task_id, 'neg')).json().late).toBe(true);
    const third = (await next(t.a, projectId)).json();
    expect((await submit(t.a, third.task_id, 'pos')).statusCode).toBe(201);
    expect(await resolutions(plain!)).toEqual([{ label: 'pos', rule: 'single_annotator' }]);
    const r1 = (await nextReview(t.reviewer, projectId)).json();
    expect(r1).toMatchObject({ item: { id: contradicted }, reasons: ['model_disagrees'], proposed_label: 'pos', model: { version: 1, probabilities: { pos: 0.02, neg: 0.98 } } });
    const r2 = (await nextReview(t.expert, projectId)).json();
    expect(r2).toMatchObject({ item: { id: late }, reasons: ['late'], proposed_label: 'neg' });
    expect((await decide(t.reviewer, r1.review_id, { decision: 'accept' })).json().resolution).toMatchObject({ label: 'pos', rule: 'reviewer' });
  });
});

describe('policy and guidance', () => {
  it('requires a rationale where the policy says, and shows guidelines and label descriptions with every task', async () => {
    const projectId = await createProject(h, {
      guidelines: '# Read me',
      label_descriptions: { pos: 'Clearly positive.' },
      policy: { rationale_required: ['neg'] },
    });
    expect((await h.http({ method: 'GET', url: `/v1/projects/${projectId}` })).json().policy).toMatchObject({ rationale_required: ['neg'], min_agreement: 0.5 });
    await insertItems(h.db.pool, projectId, 2);
    await publishColdStart(h.db.pool, projectId);
    const a = await h.as(projectId, 'a');
    const task = (await next(a, projectId)).json();
    expect(task).toMatchObject({ guidelines: '# Read me', label_descriptions: { pos: 'Clearly positive.' } });
    const before = await counts(h.db.pool);
    const refused = await submit(a, task.task_id, 'neg');
    expect(refused.statusCode).toBe(422);
    expect(refused.json().errors).toEqual([{ path: 'body/rationale', message: 'is required for the label "neg" by the project\'s policy' }]);
    expect((await submit(a, task.task_id, 'neg', { rationale: '   ' })).statusCode).toBe(422);
    expect(await counts(h.db.pool)).toEqual(before);
    expect((await submit(a, task.task_id, 'neg', { rationale: 'negative words' })).statusCode).toBe(201);
    const other = (await next(a, projectId)).json();
    expect((await submit(a, other.task_id, 'pos')).statusCode).toBe(201);
    // Settings that name labels the project lacks are refused.
    expect((await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { label_descriptions: { maybe: 'x' } } })).statusCode).toBe(422);
    expect((await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { policy: { rationale_required: ['maybe'] } } })).statusCode).toBe(422);
    expect((await h.http({ method: 'PATCH', url: `/v1/projects/${projectId}`, payload: { policy: { gold_rate: 0.9 } } })).statusCode).toBe(422);
  });
});

describe('gold items', () => {
  it('mixes gold items in unannounced at the rate, once per annotator, and queues a failure for review', async () => {
    const projectId = await createProject(h, { policy: { gold_rate: 0.5 } });
    await insertItems(h.db.pool, projectId, 40);
    const [goldItem] = await insertItems(h.db.pool, projectId, 1, 'pool', 'gold');
    await publishColdStart(h.db.pool, projectId);
    const set = await h.http({ method: 'PUT', url: `/v1/projects/${projectId}/items/gold-pool-1/gold`, payload: { answer: 'neg' } });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toEqual({ item_id: goldItem, external_id: 'gold-pool-1', answer: 'neg' });
    const t = await team(projectId);
    const served = [];
    for (let i = 0; i < 12; i++) {
      const task = (await next(t.a, projectId)).json();
      served.push(task);
      expect(Object.keys(task).sort()).toEqual(['expires_at', 'guidelines', 'item', 'label_descriptions', 'project_id', 'selection', 'task_id']);
      expect((await submit(t.a, task.task_id, 'pos')).statusCode).toBe(201);
    }
    // Once per annotator (it was served at most once in twelve draws at rate 0.5).
    expect(served.filter((task) => task.item.id === goldItem).length).toBeLessThanOrEqual(1);
    // b is served gold within a few tasks: the chance of never in 30 draws at 0.5 is 1e-9.
    let goldTask;
    for (let i = 0; i < 30 && !goldTask; i++) {
      const task = (await next(t.b, projectId)).json();
      if (task.item.id === goldItem) goldTask = task;
      else expect((await t.b.http({ method: 'DELETE', url: `/v1/tasks/${task.task_id}` })).statusCode).toBe(204);
    }
    expect(goldTask).toBeDefined();
    expect((await submit(t.b, goldTask.task_id, 'pos')).statusCode).toBe(201);
    // Gold answers are never resolutions or training labels, and the item stays open for others.
    expect(await resolutions(goldItem!)).toEqual([]);
    expect((await h.db.pool.query('SELECT status FROM items WHERE id = $1', [goldItem])).rows[0].status).toBe('unlabeled');
    const review = (await nextReview(t.reviewer, projectId)).json();
    expect(review).toMatchObject({ item: { id: goldItem }, reasons: ['gold_failure'], gold_answer: 'neg', proposed_label: 'neg' });
    expect(review.annotations.map((x: { user_id: string }) => x.user_id)).toEqual([t.b.userId]);
    expect((await decide(t.reviewer, review.review_id, { decision: 'accept' })).json()).toMatchObject({ decision: 'accept', resolution: null });
    // Refused: a test item, an answer outside the labels, an item someone labeled already.
    expect((await h.http({ method: 'PUT', url: `/v1/projects/${projectId}/items/gold-pool-1/gold`, payload: { answer: 'maybe' } })).statusCode).toBe(422);
    expect((await h.http({ method: 'PUT', url: `/v1/projects/${projectId}/items/${served.find((s) => s.item.id !== goldItem).item.external_id}/gold`, payload: { answer: 'neg' } })).statusCode).toBe(409);
    expect((await h.http({ method: 'PUT', url: `/v1/projects/${projectId}/items/nope/gold`, payload: { answer: 'neg' } })).statusCode).toBe(404);
  });
});
