import { ContractViolation, parseContract } from './contract-violation';
import { modelMetricsSchema } from './model-metrics.contract';

const metrics = {
  accuracy: 0.75,
  macro_f1: 0.7,
  per_class: [
    { label: 'pos', precision: 0.8, recall: 0.7, f1: 0.75, support: 10 },
    { label: 'neg', precision: 0.6, recall: 0.9, f1: 0.72, support: 8 },
  ],
  test_count: 18,
};

describe('models.metrics', () => {
  it('accepts what the trainer writes, with and without a test set', () => {
    expect(parseContract('models.metrics', modelMetricsSchema, metrics)).toEqual(metrics);
    const none = { accuracy: null, macro_f1: null, per_class: [], test_count: 0 };
    expect(parseContract('models.metrics', modelMetricsSchema, none)).toEqual(none);
  });

  it('refuses the camelCase of evaluate() and names every problem', () => {
    const camel = { accuracy: 0.5, macroF1: 0.4, perClass: [], test_count: 3 };
    let thrown: unknown;
    try {
      parseContract('models.metrics', modelMetricsSchema, camel);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ContractViolation);
    const violation = thrown as ContractViolation;
    expect(violation.contract).toBe('models.metrics');
    expect(violation.issues.map((i) => i.path).sort()).toEqual(['macro_f1', 'per_class']);
    expect(violation.message).toMatch(/^models\.metrics breaks its contract: /);
  });

  it('refuses ratios outside [0, 1], NaN, fractional supports and a missing test count', () => {
    const bad = [
      { ...metrics, accuracy: 1.2 },
      { ...metrics, macro_f1: Number.NaN },
      { ...metrics, per_class: [{ ...metrics.per_class[0], support: 2.5 }] },
      { ...metrics, per_class: [{ ...metrics.per_class[0], recall: -0.1 }] },
      { accuracy: 0.75, macro_f1: 0.7, per_class: [] },
      // A score without a test set, or no score with one.
      { ...metrics, test_count: 0 },
      { ...metrics, accuracy: null, macro_f1: null },
    ];
    for (const value of bad) expect(modelMetricsSchema.safeParse(value).success).toBe(false);
  });
});
