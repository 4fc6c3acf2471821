import { ContractViolation } from '@alder/contracts';
import { encodeEntries } from './ranking-entries.copy';

describe('encodeEntries', () => {
  it('writes COPY text rows with NULLs, real[] literals and escaped text', () => {
    const text = encodeEntries(7, [
      { itemId: 1, priority: 0.5, score: 0.5, probs: Float32Array.from([0.25, 0.75]), rationale: 'torn between a\tb and c\\d\nnext' },
      { itemId: 2, priority: 3, score: null, probs: null, rationale: 'cold start' },
    ]);
    expect(text).toBe('7\t1\t0.5\t0.5\t{0.25,0.75}\ttorn between a\\tb and c\\\\d\\nnext\n7\t2\t3\t\\N\t\\N\tcold start\n');
  });

  it('writes probabilities to six decimals and a derived rationale as NULL', () => {
    const text = encodeEntries(7, [{ itemId: 3, priority: 0.123456789, score: 0.123456789, probs: Float32Array.from([1 / 3, 2 / 3, 0.0000001]), rationale: null }]);
    expect(text).toBe('7\t3\t0.123456789\t0.123456789\t{0.333333,0.666667,0}\t\\N\n');
  });

  it('refuses, before writing anything, an entry that breaks the ranking-entry contract', () => {
    const good = { itemId: 1, priority: 0.5, score: 0.5, probs: Float32Array.from([0.25, 0.75]), rationale: null };
    // A cold-start entry has nothing to derive a rationale from; probabilities must sum to 1.
    expect(() => encodeEntries(7, [good, { itemId: 2, priority: 3, score: null, probs: null, rationale: null }])).toThrow(ContractViolation);
    expect(() => encodeEntries(7, [{ ...good, probs: Float32Array.from([0.25, 0.25]) }])).toThrow(/ranking_entries breaks its contract/);
  });
});
