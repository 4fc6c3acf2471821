import { rationale } from '@alder/learning/pure';
import { ContractViolation } from './contract-violation';
import {
  batchPickPriority,
  coldStartPriority,
  derivedRationale,
  entryRationale,
  parseRankingEntry,
  probabilitiesByLabel,
  rankingContextSchema,
  rankingEntrySchema,
  toStoredPrecision,
} from './ranking-entry.contract';

const margin = rankingContextSchema.parse({ strategy: 'margin', labels: ['neg', 'pos'] });
const hybrid = rankingContextSchema.parse({ strategy: 'hybrid', labels: ['neg', 'pos'] });
const coldStart = rankingContextSchema.parse({ strategy: 'cold_start', labels: null });

describe('ranking entries', () => {
  it('accepts what sampling writes: scored entries, Float32Array rows, cold-start entries', () => {
    expect(rankingEntrySchema.safeParse({ priority: 0.4, score: 0.4, probs: [0.3, 0.7], rationale: null }).success).toBe(true);
    expect(rankingEntrySchema.safeParse({ priority: 0.4, score: 0.4, probs: Float32Array.from([0.3, 0.7]), rationale: null }).success).toBe(true);
    expect(rankingEntrySchema.safeParse({ priority: 3, score: null, probs: null, rationale: 'cold start: diverse pick 1 of 3' }).success).toBe(true);
  });

  it('refuses entries whose rationale could not be derived, half-scored entries and non-probabilities', () => {
    const bad = [
      { priority: 3, score: null, probs: null, rationale: null },
      { priority: 0.4, score: 0.4, probs: null, rationale: 'x' },
      { priority: 0.4, score: null, probs: [0.3, 0.7], rationale: null },
      { priority: 0.4, score: 0.4, probs: [0.3, 0.3], rationale: null },
      { priority: 0.4, score: 0.4, probs: [1.5, -0.5], rationale: null },
      { priority: 0.4, score: 0.4, probs: [Number.NaN, 1], rationale: null },
      { priority: 0.4, score: 0.4, probs: [0.3, 0.7], rationale: '' },
      { priority: Number.NaN, score: 0.4, probs: [0.3, 0.7], rationale: null },
    ];
    for (const entry of bad) expect([entry, rankingEntrySchema.safeParse(entry).success]).toEqual([entry, false]);
  });

  it('checks an entry against its ranking: probabilities only with a model, one per label', () => {
    expect(() => parseRankingEntry(margin, { priority: 0.4, score: 0.4, probs: [0.2, 0.3, 0.5], rationale: null })).toThrow(ContractViolation);
    expect(() => parseRankingEntry(margin, { priority: 1, score: null, probs: null, rationale: 'picked' })).toThrow(/model ranking has probabilities/);
    expect(() => parseRankingEntry(coldStart, { priority: 1, score: 0.5, probs: [0.5, 0.5], rationale: 'x' })).toThrow(/cold-start entry/);
    expect(rankingContextSchema.safeParse({ strategy: 'cold_start', labels: ['a', 'b'] }).success).toBe(false);
    expect(rankingContextSchema.safeParse({ strategy: 'margin', labels: null }).success).toBe(false);
    expect(rankingContextSchema.safeParse({ strategy: 'unranked', labels: null }).success).toBe(false);
  });

  it("derives the rationale with the strategy's own wording, margin's for the rest of a batch ranking", () => {
    const entry = parseRankingEntry(margin, { priority: 0.6, score: 0.6, probs: [0.7, 0.3], rationale: null });
    expect(entryRationale(margin, entry)).toBe('model torn between neg (0.70) and pos (0.30)');
    expect(entryRationale(hybrid, entry)).toBe(rationale('margin', [0.7, 0.3], ['neg', 'pos']));
    const entropy = rankingContextSchema.parse({ strategy: 'entropy', labels: ['neg', 'pos'] });
    expect(entryRationale(entropy, entry)).toBe(derivedRationale('entropy', [0.7, 0.3], ['neg', 'pos']));
    expect(entryRationale(entropy, entry)).toMatch(/^high entropy/);
    // A stored rationale (a batch pick, the cold start) is shown as stored.
    const pick = parseRankingEntry(hybrid, { priority: batchPickPriority(0, 5), score: 0.2, probs: [0.1, 0.9], rationale: 'hybrid pick 1 of 5' });
    expect(entryRationale(hybrid, pick)).toBe('hybrid pick 1 of 5');
  });

  it('orders batch picks above every score and the cold start by position; probabilities to six decimals by label', () => {
    expect([0, 1, 4].map((p) => batchPickPriority(p, 5))).toEqual([6, 5, 2]);
    expect(Math.min(...[0, 1, 2].map((p) => batchPickPriority(p, 3)))).toBeGreaterThan(1);
    expect([0, 1, 2].map((p) => coldStartPriority(p, 3))).toEqual([3, 2, 1]);
    expect(toStoredPrecision(0.8999999761581421)).toBe(0.9);
    const entry = parseRankingEntry(margin, { priority: 0.5, score: 0.5, probs: [0.1234567, 0.8765433], rationale: null });
    expect(probabilitiesByLabel(margin, entry)).toEqual({ neg: 0.123457, pos: 0.876543 });
    expect(probabilitiesByLabel(coldStart, parseRankingEntry(coldStart, { priority: 1, score: null, probs: null, rationale: 'c' }))).toBeNull();
  });

  it('refuses a score outside [0, 1], a derived entry not at its score, and says why probabilities fail', () => {
    const bad = (entry: unknown) => rankingEntrySchema.safeParse(entry);
    expect(bad({ priority: 1.5, score: 1.5, probs: [0.5, 0.5], rationale: null }).success).toBe(false);
    expect(bad({ priority: 0.9, score: 0.4, probs: [0.5, 0.5], rationale: null }).success).toBe(false);
    // A batch pick keeps its score and stores its rationale, above every score.
    expect(bad({ priority: 3, score: 0.4, probs: [0.5, 0.5], rationale: 'pick 1 of 2' }).success).toBe(true);
    const sum = bad({ priority: 0.4, score: 0.4, probs: [0.5, 0.6], rationale: null });
    expect(sum.success).toBe(false);
    expect(JSON.stringify(sum.error?.issues)).toMatch(/sum to 1\.1/);
  });
});
