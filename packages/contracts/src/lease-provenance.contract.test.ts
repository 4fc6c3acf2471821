import { leaseProvenanceSchema } from './lease-provenance.contract';

describe('lease provenance', () => {
  it('accepts a model ranking, the cold start and an unranked item', () => {
    const ok = [
      { ranking_id: 4, model_id: 2, selection_score: 0.7, selection_strategy: 'entropy' },
      { ranking_id: 3, model_id: null, selection_score: null, selection_strategy: 'cold_start' },
      { ranking_id: null, model_id: null, selection_score: null, selection_strategy: 'unranked' },
    ];
    for (const value of ok) expect(leaseProvenanceSchema.parse(value)).toEqual(value);
  });

  it('refuses provenance that does not add up', () => {
    const bad = [
      // unranked but from a ranking; ranked but no ranking
      { ranking_id: 4, model_id: null, selection_score: null, selection_strategy: 'unranked' },
      { ranking_id: null, model_id: 2, selection_score: 0.7, selection_strategy: 'margin' },
      // a model ranking without its model or score; the cold start with one
      { ranking_id: 4, model_id: null, selection_score: 0.7, selection_strategy: 'margin' },
      { ranking_id: 4, model_id: 2, selection_score: null, selection_strategy: 'margin' },
      { ranking_id: 3, model_id: 2, selection_score: null, selection_strategy: 'cold_start' },
      // a strategy nobody writes
      { ranking_id: 4, model_id: 2, selection_score: 0.7, selection_strategy: 'magic' },
    ];
    for (const value of bad) expect([value, leaseProvenanceSchema.safeParse(value).success]).toEqual([value, false]);
  });
});
