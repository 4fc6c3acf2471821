import { DEFAULT_STOPPING_OPTIONS, recommendStop } from '@alder/learning/pure';
import { stoppingEvidenceSchema } from './model-stopping.contract';

const history = [400, 420, 440, 460].map((labels, i) => ({ labels, predictions: [0, 1, 1], version: i + 1 }));
const recommendation = recommendStop({ numClasses: 2, labelCount: 460, budget: 1000, history, probs: Float32Array.from([0.9, 0.1, 0.2, 0.8, 0.3, 0.7]) });
const evidence = { ...recommendation, label_count: 460, label_budget: 1000, stop_set_size: 3, options: { ...DEFAULT_STOPPING_OPTIONS } };

describe('models.stopping', () => {
  it("accepts the trainer's evidence as recommendStop builds it", () => {
    expect(stoppingEvidenceSchema.parse(evidence)).toEqual(evidence);
    const early = recommendStop({ numClasses: 2, labelCount: 0, budget: null, history: [], probs: null });
    expect(stoppingEvidenceSchema.safeParse({ ...early, label_count: 0, label_budget: null, stop_set_size: 0, options: DEFAULT_STOPPING_OPTIONS }).success).toBe(true);
  });

  it('keeps a criterion name it does not know (a newer trainer may add one) and drops unknown fields', () => {
    const newer = { ...evidence, added_later: true, criteria: [...evidence.criteria, { name: 'new_rule', met: false, value: null, threshold: 1, decides: false, detail: 'x' }] };
    const parsed = stoppingEvidenceSchema.parse(newer);
    expect(parsed.criteria.map((c) => c.name)).toContain('new_rule');
    expect(parsed).not.toHaveProperty('added_later');
  });

  it('refuses evidence without its thresholds, a non-boolean met, or an infinite value', () => {
    const { options: _options, ...withoutOptions } = evidence;
    expect(stoppingEvidenceSchema.safeParse(withoutOptions).success).toBe(false);
    const criterion = evidence.criteria[0]!;
    expect(stoppingEvidenceSchema.safeParse({ ...evidence, criteria: [{ ...criterion, met: 'yes' }] }).success).toBe(false);
    expect(stoppingEvidenceSchema.safeParse({ ...evidence, criteria: [{ ...criterion, value: Number.POSITIVE_INFINITY }] }).success).toBe(false);
    expect(stoppingEvidenceSchema.safeParse({ ...evidence, label_budget: 0 }).success).toBe(false);
  });
});
