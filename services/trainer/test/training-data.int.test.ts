import { annotate, seedProject, TREC_LABELS } from '@alder/fixtures';
import { createTestDatabase, type TestDatabase } from '@alder/testkit';
import { LABEL_RULE, loadTrainingData } from '../src/training-data.repository';

// What a model trains on: resolved labels first, the stated rule for unresolved items, never a
// rejected annotation or a gold item.

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe('loadTrainingData', () => {
  it('trains on resolutions, else the plurality of active annotations; leaves out rejected ones and gold items', async () => {
    const seeded = await seedProject(db.pool, { poolSize: 6, labeled: 0, testSize: 0, offset: 4000 });
    const [resolved, majority, tie, rejected, gold, untouched] = seeded.poolIds as [number, number, number, number, number, number];
    const [a, b] = TREC_LABELS as unknown as [string, string];
    const resolvedAnn = await annotate(db.pool, seeded.projectId, [resolved], [a]);
    // A reviewer corrected it: the latest resolution decides, then a second correction.
    for (const label of [b, a]) {
      await db.pool.query(`INSERT INTO item_resolutions (project_id, item_id, label, rule, annotation_ids) VALUES ($1, $2, $3, 'reviewer', $4)`, [
        seeded.projectId,
        resolved,
        label,
        resolvedAnn,
      ]);
    }
    await annotate(db.pool, seeded.projectId, [majority, majority, majority], [b, a, b]);
    const tieIds = await annotate(db.pool, seeded.projectId, [tie, tie], [a, b]);
    const rejectedIds = await annotate(db.pool, seeded.projectId, [rejected], [a]);
    await db.pool.query('UPDATE items SET annotations_from = $2 WHERE id = $1', [rejected, rejectedIds[0]]);
    await annotate(db.pool, seeded.projectId, [gold], [a]);
    await db.pool.query('UPDATE items SET gold_answer = $2 WHERE id = $1', [gold, a]);

    const data = await loadTrainingData(db.pool, seeded.projectId, [...TREC_LABELS]);
    const byItem = new Map(data.examples.map((e) => [e.itemId, e]));
    expect([...byItem.keys()].sort()).toEqual([resolved, majority, tie].sort());
    expect(byItem.get(resolved)).toMatchObject({ label: a, source: 'resolution' });
    expect(byItem.get(majority)).toMatchObject({ label: b, source: 'annotation' });
    // A tie goes to the latest annotation.
    expect(byItem.get(tie)).toMatchObject({ label: b, source: 'annotation', sourceId: tieIds[1] });
    expect(byItem.has(untouched)).toBe(false);
    expect(data.texts).toHaveLength(3);
    expect(data.labels.map((y) => TREC_LABELS[y])).toEqual(data.examples.map((e) => e.label));
    expect(LABEL_RULE).toMatch(/resolved, else plurality/);
  });
});
