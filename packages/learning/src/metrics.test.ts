import { argmaxRows, evaluate } from './metrics';

describe('evaluate', () => {
  it('matches hand-computed scores', () => {
    // true:  A A A B B C ; pred: A A B B C C
    // A: tp 2, predicted 2, support 3 -> p 1, r 2/3, f1 0.8
    // B: tp 1, predicted 2, support 2 -> p 0.5, r 0.5, f1 0.5
    // C: tp 1, predicted 2, support 1 -> p 0.5, r 1, f1 2/3
    const r = evaluate([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], ['A', 'B', 'C']);
    expect(r.accuracy).toBeCloseTo(4 / 6, 10);
    expect(r.perClass[0]).toEqual({ label: 'A', precision: 1, recall: 2 / 3, f1: expect.closeTo(0.8, 10), support: 3 });
    expect(r.perClass[1].f1).toBeCloseTo(0.5, 10);
    expect(r.perClass[2].f1).toBeCloseTo(2 / 3, 10);
    expect(r.macroF1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 10);
  });

  it('averages macro-F1 over classes that occur in truth or predictions', () => {
    // D never occurs: left out. C is predicted once but never true: counts with F1 0.
    const r = evaluate([0, 0, 1, 1], [0, 0, 1, 2], ['A', 'B', 'C', 'D']);
    // A f1 1; B p 1 r 0.5 f1 2/3; C f1 0
    expect(r.macroF1).toBeCloseTo((1 + 2 / 3 + 0) / 3, 10);
    expect(r.perClass[3]).toEqual({ label: 'D', precision: 0, recall: 0, f1: 0, support: 0 });
  });

  it('handles empty input and rejects bad indices', () => {
    expect(evaluate([], [], ['A', 'B'])).toMatchObject({ accuracy: 0, macroF1: 0 });
    expect(() => evaluate([0], [2], ['A', 'B'])).toThrow(RangeError);
    expect(() => evaluate([0, 1], [0], ['A', 'B'])).toThrow(RangeError);
  });
});

describe('argmaxRows', () => {
  it('takes the first maximum of each row', () => {
    expect(argmaxRows(Float32Array.from([0.2, 0.5, 0.3, 0.5, 0.5, 0]), 3)).toEqual([1, 0]);
  });
});
