import { assess, type Policy } from './resolution';

const policy: Policy = { min_agreement: 0.5, review_model_disagreement: 0.9, review_low_confidence: null, review_late: true };
const ann = (labels: string[], late: boolean[] = []) => labels.map((label, i) => ({ id: i + 1, label, late: late[i] ?? false }));

describe('assess', () => {
  it('resolves a single label, agreement and majority at once', () => {
    expect(assess(ann(['pos']), 1, policy, null)).toEqual({ kind: 'resolve', label: 'pos', rule: 'single_annotator', annotationIds: [1] });
    expect(assess(ann(['pos', 'pos']), 2, policy, null)).toMatchObject({ kind: 'resolve', label: 'pos', rule: 'agreement' });
    expect(assess(ann(['pos', 'neg', 'pos']), 3, policy, null)).toMatchObject({ kind: 'resolve', label: 'pos', rule: 'majority', annotationIds: [1, 2, 3] });
  });

  it('sends ties and shares under min_agreement to review, with no proposed label on a tie', () => {
    expect(assess(ann(['pos', 'neg']), 2, policy, null)).toEqual({ kind: 'review', proposedLabel: null, reasons: ['disagreement'], priority: 4.5 });
    const strict = { ...policy, min_agreement: 0.75 };
    expect(assess(ann(['pos', 'neg', 'pos']), 3, strict, null)).toMatchObject({ kind: 'review', proposedLabel: 'pos', reasons: ['disagreement'] });
  });

  it('flags a label the model confidently contradicts, or gives a low probability, and late labels', () => {
    expect(assess(ann(['pos']), 1, policy, { pos: 0.05, neg: 0.95 })).toEqual({ kind: 'review', proposedLabel: 'pos', reasons: ['model_disagrees'], priority: 2.95 });
    expect(assess(ann(['pos']), 1, policy, { pos: 0.15, neg: 0.85 })).toMatchObject({ kind: 'resolve' });
    expect(assess(ann(['pos']), 1, { ...policy, review_low_confidence: 0.2 }, { pos: 0.15, neg: 0.85 })).toMatchObject({ reasons: ['low_confidence'] });
    expect(assess(ann(['pos'], [true]), 1, policy, null)).toMatchObject({ reasons: ['late'], priority: 2 - 2 });
    expect(assess(ann(['pos'], [true]), 1, { ...policy, review_late: false }, null)).toMatchObject({ kind: 'resolve' });
    expect(assess(ann(['pos'], [true]), 1, { ...policy, review_model_disagreement: null }, { pos: 0, neg: 1 })).toMatchObject({ reasons: ['late'] });
  });

  it('orders the bands: disagreement over model disagreement over low confidence over late', () => {
    const p = (a: ReturnType<typeof assess>) => (a.kind === 'review' ? a.priority : -1);
    const disagreement = p(assess(ann(['pos', 'neg']), 2, policy, null));
    const model = p(assess(ann(['pos']), 1, policy, { pos: 0, neg: 1 }));
    const low = p(assess(ann(['pos']), 1, { ...policy, review_low_confidence: 0.5 }, { pos: 0.4, neg: 0.6 }));
    const late = p(assess(ann(['pos'], [true]), 1, policy, null));
    expect(disagreement).toBeGreaterThan(model);
    expect(model).toBeGreaterThan(low);
    expect(low).toBeGreaterThan(late);
  });
});
