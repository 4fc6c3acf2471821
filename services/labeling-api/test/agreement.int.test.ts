import { createProject, insertItems, startHarness, type Harness, type Member } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

interface Who {
  userId: string | null;
  name: string;
}

interface AnnotationRow {
  item: number;
  by: Who;
  label: string;
  source?: 'annotator' | 'import';
  ms?: number | null;
  late?: boolean;
}

/** Inserts annotations in the order given (so ids follow it); returns their ids. */
async function annotate(projectId: string, rows: AnnotationRow[]): Promise<number[]> {
  if (!rows.length) return [];
  const { rows: inserted } = await h.db.pool.query(
    `INSERT INTO annotations (project_id, item_id, label, annotator, user_id, source, time_spent_ms, late)
     SELECT $1, t.item_id, t.label, t.annotator, t.user_id, t.source, t.ms, t.late
     FROM unnest($2::bigint[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::int[], $8::boolean[])
          WITH ORDINALITY AS t (item_id, label, annotator, user_id, source, ms, late, n)
     ORDER BY t.n
     RETURNING id`,
    [
      projectId,
      rows.map((r) => r.item),
      rows.map((r) => r.label),
      rows.map((r) => r.by.name),
      rows.map((r) => r.by.userId),
      rows.map((r) => r.source ?? 'annotator'),
      rows.map((r) => r.ms ?? null),
      rows.map((r) => r.late ?? false),
    ],
  );
  return inserted.map((r) => Number(r.id));
}

/** A review's reject of the item: every annotation it has so far is set aside. */
async function reject(itemId: number): Promise<void> {
  await h.db.pool.query('UPDATE items SET annotations_from = coalesce((SELECT max(id) FROM annotations WHERE item_id = $1), 0) WHERE id = $1', [itemId]);
}

async function resolve(projectId: string, itemId: number, label: string): Promise<void> {
  await h.db.pool.query(`INSERT INTO item_resolutions (project_id, item_id, label, rule, annotation_ids) VALUES ($1, $2, $3, 'reviewer', '{}')`, [projectId, itemId, label]);
}

async function makeGold(itemIds: number[], answer: string): Promise<void> {
  await h.db.pool.query('UPDATE items SET gold_answer = $2 WHERE id = ANY($1::bigint[])', [itemIds, answer]);
}

async function lease(projectId: string, itemId: number, by: Who, outcome: 'annotated' | 'released' | 'expired' | null): Promise<void> {
  await h.db.pool.query(
    `INSERT INTO task_leases (id, project_id, item_id, annotator, user_id, selection_strategy, expires_at, ended_at, outcome)
     VALUES (gen_random_uuid(), $1, $2, $3, $4, 'unranked', now() + interval '10 minutes', CASE WHEN $5::text IS NULL THEN NULL ELSE now() END, $5)`,
    [projectId, itemId, by.name, by.userId, outcome],
  );
}

const getAgreement = (projectId: string, as?: Member) =>
  (as ? as.http : h.http)({ method: 'GET', url: `/v1/projects/${projectId}/agreement` });
const getStats = (projectId: string, as?: Member) =>
  (as ? as.http : h.http)({ method: 'GET', url: `/v1/projects/${projectId}/annotators` });

async function people(projectId: string, n: number, prefix = 'rater'): Promise<Who[]> {
  const members: Who[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${prefix} ${String(i + 1).padStart(2, '0')}`;
    members.push({ userId: (await h.as(projectId, name)).userId, name });
  }
  return members;
}

/** Every coefficient of a report: pairs' Cohen kappas, then the pooled ones overall and per label. */
function coefficients(report: any): any[] {
  return [
    ...report.pairs.map((p: any) => p.cohen_kappa),
    report.fleiss_kappa.overall,
    ...Object.values(report.fleiss_kappa.per_label),
    report.krippendorff_alpha.overall,
    ...Object.values(report.krippendorff_alpha.per_label),
  ];
}

/** The Wikipedia "Cohen's kappa" example as annotations: 20 yes-yes, 5 yes-no, 10 no-yes, 15 no-no. */
function cohenExample(items: number[], a: Who, b: Who): AnnotationRow[] {
  const cells: [string, string, number][] = [
    ['yes', 'yes', 20],
    ['yes', 'no', 5],
    ['no', 'yes', 10],
    ['no', 'no', 15],
  ];
  const rows: AnnotationRow[] = [];
  let i = 0;
  for (const [la, lb, n] of cells) {
    for (let c = 0; c < n; c++, i++) rows.push({ item: items[i]!, by: a, label: la }, { item: items[i]!, by: b, label: lb });
  }
  return rows;
}

describe('GET /v1/projects/{project_id}/agreement', () => {
  it("reproduces Fleiss (1971) through the API: 10 subjects, 14 raters, 5 categories, kappa 0.210", async () => {
    // Wikipedia, "Fleiss' kappa", worked example; row i gives n_ij, how many raters put subject i in category j.
    const counts = [
      [0, 0, 0, 0, 14],
      [0, 2, 6, 4, 2],
      [0, 0, 3, 5, 6],
      [0, 3, 9, 2, 0],
      [2, 2, 8, 1, 1],
      [7, 7, 0, 0, 0],
      [3, 2, 6, 3, 0],
      [2, 5, 3, 2, 2],
      [6, 5, 2, 1, 0],
      [0, 2, 2, 3, 7],
    ];
    const labels = ['1', '2', '3', '4', '5'];
    const projectId = await createProject(h, { labels });
    const items = await insertItems(h.db.pool, projectId, 10);
    const raters = await people(projectId, 14);
    const rows: AnnotationRow[] = [];
    counts.forEach((row, i) => {
      let r = 0;
      row.forEach((n, j) => {
        for (let c = 0; c < n; c++) rows.push({ item: items[i]!, by: raters[r++]!, label: labels[j]! });
      });
    });
    await annotate(projectId, rows);

    const res = await getAgreement(projectId);
    expect(res.statusCode).toBe(200);
    const report = res.json();
    expect(report.items_with_overlap).toBe(10);
    expect(report.minimum_items).toBe(10);
    expect(report.fleiss_kappa.overall).toMatchObject({ status: 'ok', items: 10 });
    expect(report.fleiss_kappa.overall.value).toBeCloseTo(0.21, 3);
    // With the same 14 raters on every subject: 1 - alpha = (n - 1)/n (1 - kappa), n = 140 values.
    expect(report.krippendorff_alpha.overall.value).toBeCloseTo(1 - (139 / 140) * (1 - report.fleiss_kappa.overall.value), 12);
    const [lo, hi] = report.fleiss_kappa.overall.ci95;
    expect(lo).toBeLessThanOrEqual(report.fleiss_kappa.overall.value);
    expect(hi).toBeGreaterThanOrEqual(report.fleiss_kappa.overall.value);
    expect(Object.keys(report.fleiss_kappa.per_label)).toEqual(labels);
    // Pairs name users by id, in code-unit order: every one of the 14 * 13 / 2 pairs shares all 10 subjects.
    const ids = raters.map((r) => r.userId!).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(report.pairs).toHaveLength(91);
    expect(report.pairs[0].annotators).toEqual([ids[0], ids[1]]);
    for (const pair of report.pairs) {
      expect(ids).toEqual(expect.arrayContaining(pair.annotators));
      expect(pair.annotators[0] < pair.annotators[1]).toBe(true);
      expect(pair.cohen_kappa.items).toBe(10);
    }
    // The same data gives the same report (the bootstrap is seeded).
    expect((await getAgreement(projectId)).json()).toEqual(report);
  });

  it("reproduces Cohen's kappa 0.4 (Wikipedia, 50 items), leaving out rejected annotations, gold items, imports and removed labels", async () => {
    const projectId = await createProject(h, { labels: ['yes', 'no'] });
    const items = await insertItems(h.db.pool, projectId, 75);
    const testItems = await insertItems(h.db.pool, projectId, 5, 'test');
    const [a, b, c, d] = await people(projectId, 4);
    const main = items.slice(0, 50);
    const rejected = items.slice(50, 60);
    const gold = items.slice(60, 75);
    // c labeled every item first, and a review rejected it all; a and b labeled them again.
    await annotate(projectId, main.map((item) => ({ item, by: c!, label: 'yes' })));
    for (const item of main) await reject(item);
    await annotate(projectId, cohenExample(main, a!, b!));
    // Items labeled by a and b, then rejected, and not labeled again since.
    await annotate(projectId, rejected.flatMap((item) => [{ item, by: a!, label: 'yes' }, { item, by: b!, label: 'no' }]));
    for (const item of rejected) await reject(item);
    // Gold items a and b answered; test items; imported labels; a label the project no longer has.
    await makeGold(gold, 'yes');
    await annotate(projectId, gold.flatMap((item) => [{ item, by: a!, label: 'yes' }, { item, by: b!, label: 'no' }]));
    await annotate(projectId, testItems.flatMap((item) => [{ item, by: a!, label: 'yes' }, { item, by: b!, label: 'no' }]));
    await annotate(projectId, main.map((item) => ({ item, by: { userId: null, name: 'import' }, label: 'no', source: 'import' as const })));
    await annotate(projectId, main.slice(0, 30).map((item) => ({ item, by: d!, label: 'maybe' })));

    const res = await getAgreement(projectId);
    expect(res.statusCode).toBe(200);
    const report = res.json();
    expect(report.items_with_overlap).toBe(50);
    expect(report.pairs).toHaveLength(1);
    expect(report.pairs[0].annotators).toEqual([a!.userId!, b!.userId!].sort());
    expect(report.pairs[0].cohen_kappa).toMatchObject({ status: 'ok', items: 50 });
    expect(report.pairs[0].cohen_kappa.value).toBeCloseTo(0.4, 12);
    expect(report.pairs[0].cohen_kappa.ci95).toHaveLength(2);
    // With two labels, the per-label coefficients equal the overall one.
    expect(report.fleiss_kappa.per_label.yes.value).toBeCloseTo(report.fleiss_kappa.overall.value, 12);
    expect(report.krippendorff_alpha.per_label.no.value).toBeCloseTo(report.krippendorff_alpha.overall.value, 12);
  });

  it('answers insufficient-data below 10 items, and for a single label, with no null or NaN where a number belongs', async () => {
    const projectId = await createProject(h, { labels: ['pos', 'neg', 'other'] });
    const items = await insertItems(h.db.pool, projectId, 21);
    const [a, b] = await people(projectId, 2);

    // Nothing annotated yet.
    const empty = (await getAgreement(projectId)).json();
    expect(empty.pairs).toEqual([]);
    expect(empty.items_with_overlap).toBe(0);
    expect(empty.fleiss_kappa.overall).toEqual({ status: 'insufficient-data', items: 0, minimum_items: 10, reason: 'too-few-items' });
    expect(Object.keys(empty.krippendorff_alpha.per_label)).toEqual(['pos', 'neg', 'other']);

    // 9 items labeled by both (and one by a alone, which is not overlap).
    await annotate(projectId, items.slice(0, 9).flatMap((item, i) => [
      { item, by: a!, label: i % 2 ? 'pos' : 'neg' },
      { item, by: b!, label: i % 3 ? 'pos' : 'neg' },
    ]));
    await annotate(projectId, [{ item: items[20]!, by: a!, label: 'pos' }]);
    const few = await getAgreement(projectId);
    expect(few.statusCode).toBe(200);
    expect(few.body).not.toMatch(/null|NaN|Infinity/);
    const report = few.json();
    expect(report.items_with_overlap).toBe(9);
    expect(report.pairs).toHaveLength(1);
    for (const coefficient of coefficients(report)) {
      expect(coefficient).toEqual({ status: 'insufficient-data', items: 9, minimum_items: 10, reason: 'too-few-items' });
    }

    // 12 items where everyone said 'pos': 0/0, insufficient whatever the count.
    const other = await createProject(h, { labels: ['pos', 'neg'] });
    const same = await insertItems(h.db.pool, other, 12);
    const [c, d] = await people(other, 2);
    await annotate(other, same.flatMap((item) => [{ item, by: c!, label: 'pos' }, { item, by: d!, label: 'pos' }]));
    const single = await getAgreement(other);
    expect(single.body).not.toMatch(/null|NaN|Infinity/);
    const s = single.json();
    expect(s.pairs[0].cohen_kappa).toEqual({ status: 'insufficient-data', items: 12, minimum_items: 10, reason: 'single-category' });
    expect(s.fleiss_kappa.overall).toMatchObject({ status: 'insufficient-data', items: 12, reason: 'single-category' });
    expect(s.krippendorff_alpha.overall).toMatchObject({ status: 'insufficient-data', items: 12, reason: 'single-category' });
    expect(s.fleiss_kappa.per_label.neg).toMatchObject({ status: 'insufficient-data', reason: 'label-not-used' });
  });

  it('is for managers, reviewers, experts and viewers, not annotators', async () => {
    const projectId = await createProject(h);
    const annotator = await h.as(projectId, 'an annotator', 'annotator');
    const viewer = await h.as(projectId, 'a viewer', 'viewer');
    expect((await getAgreement(projectId, annotator)).statusCode).toBe(403);
    expect((await getStats(projectId, annotator)).statusCode).toBe(403);
    expect((await getAgreement(projectId, viewer)).statusCode).toBe(200);
    expect((await getStats(projectId, viewer)).statusCode).toBe(200);
    expect((await getStats(projectId, viewer)).json()).toEqual({ data: [] });
  });
});

describe('GET /v1/projects/{project_id}/annotators', () => {
  it('counts, per person, labels, median time, agreement with the resolved label, gold, skips and late submissions', async () => {
    const projectId = await createProject(h, { labels: ['pos', 'neg'] });
    const [i1, i2, i3, i4, i5, i6, g1, g2] = (await insertItems(h.db.pool, projectId, 8)) as [number, number, number, number, number, number, number, number];
    await makeGold([g1], 'pos');
    await makeGold([g2], 'neg');
    const member = async (name: string): Promise<Who> => ({ userId: (await h.as(projectId, name)).userId, name });
    const bea = await member('Bea');
    const ada = await member('Ada');
    const dee = await member('Dee');
    const cy = await member('Cy');
    const legacy: Who = { userId: null, name: 'legacy-bot' };

    await annotate(projectId, [
      // Ada: 4 labels (i4's is rejected below but counts: the work was done), times 100, 300, -, 200.
      { item: i1, by: ada, label: 'pos', ms: 100 },
      { item: i2, by: ada, label: 'neg', ms: 300 },
      { item: i3, by: ada, label: 'pos', ms: null, late: true },
      { item: i4, by: ada, label: 'neg', ms: 200 },
      // Bea: 4 labels, times 50, 150, 400, 1000 (median 275), one late.
      { item: i1, by: bea, label: 'neg', ms: 50 },
      { item: i2, by: bea, label: 'neg', ms: 150, late: true },
      { item: i5, by: bea, label: 'pos', ms: 400 },
      { item: i6, by: bea, label: 'pos', ms: 1000 },
      // A legacy row from before users: no user id, counted under its annotator text.
      { item: i5, by: legacy, label: 'pos' },
      // Imports are nobody's work.
      { item: i6, by: { userId: null, name: 'import' }, label: 'neg', source: 'import' },
      // Gold answers: Ada 1 of 2 right (slow ones, not in her median, not in her late count); Dee 1 of 1.
      { item: g1, by: ada, label: 'pos', ms: 5000, late: true },
      { item: g2, by: ada, label: 'pos', ms: 7000 },
      { item: g1, by: dee, label: 'pos', ms: 10 },
    ]);
    await reject(i4);
    // Resolutions: i1 first 'neg', then corrected to 'pos' (the latest counts); i2 'pos'; i4 'neg' after the reject.
    await resolve(projectId, i1, 'neg');
    await resolve(projectId, i1, 'pos');
    await resolve(projectId, i2, 'pos');
    await resolve(projectId, i4, 'neg');
    // Leases: Ada released two and submitted one; one of hers expired. Cy only skipped: not an annotator here.
    await lease(projectId, i5, ada, 'released');
    await lease(projectId, i6, ada, 'released');
    await lease(projectId, i1, ada, 'annotated');
    await lease(projectId, i3, ada, 'expired');
    await lease(projectId, i2, ada, null);
    await lease(projectId, i3, cy, 'released');
    await lease(projectId, i3, legacy, 'released');
    // Another project's work is not this one's.
    const otherProject = await createProject(h);
    const [elsewhere] = await insertItems(h.db.pool, otherProject, 1);
    await annotate(otherProject, [{ item: elsewhere!, by: ada, label: 'pos', ms: 1 }]);
    await lease(otherProject, elsewhere!, ada, 'released');

    const res = await getStats(projectId);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      data: [
        {
          user_id: ada.userId,
          name: 'Ada',
          labels: 4,
          median_ms_per_label: 200,
          // i1 agreed, i2 not, i4 agreed (her rejected label still says what she thought); i3 is unresolved.
          agreement_with_resolved: { items: 3, agreed: 2, share: 2 / 3 },
          gold: { answered: 2, correct: 1, accuracy: 0.5 },
          skips: 2,
          late: 1,
        },
        {
          user_id: bea.userId,
          name: 'Bea',
          labels: 4,
          median_ms_per_label: 275,
          agreement_with_resolved: { items: 2, agreed: 0, share: 0 },
          gold: { answered: 0, correct: 0, accuracy: null },
          skips: 0,
          late: 1,
        },
        {
          user_id: dee.userId,
          name: 'Dee',
          labels: 0,
          median_ms_per_label: null,
          agreement_with_resolved: { items: 0, agreed: 0, share: null },
          gold: { answered: 1, correct: 1, accuracy: 1 },
          skips: 0,
          late: 0,
        },
        {
          user_id: 'legacy-bot',
          name: 'legacy-bot',
          labels: 1,
          median_ms_per_label: null,
          agreement_with_resolved: { items: 0, agreed: 0, share: null },
          gold: { answered: 0, correct: 0, accuracy: null },
          skips: 1,
          late: 0,
        },
      ],
    });
  });
});
