import { COLD_START_STRATEGY, RANKING_STRATEGIES, SELECTION_STRATEGIES, UNRANKED_STRATEGY } from '@alder/contracts';
import { loadSpec } from '@alder/http';
import { STRATEGY_NAMES } from '@alder/learning/pure';

// The strategy names of openapi/openapi.yaml and of the code are one list. `Strategy` (what a
// project may choose) is exactly the learning package's STRATEGY_NAMES. `cold_start` is not a
// project strategy: it is what a ranking made before the first model is called, so it belongs to
// `RankingStrategy` (rankings.strategy) only; `unranked` is what a task not covered by any ranking
// shows, so it belongs to `SelectionStrategy` (task and annotation provenance) only.

const schemas = (loadSpec() as { components: { schemas: Record<string, { enum?: string[] }> } }).components.schemas;
const enumOf = (name: string) => [...(schemas[name]?.enum ?? [])].sort();
const sorted = (names: readonly string[]) => [...names].sort();

describe('strategy names', () => {
  it("are the learning package's STRATEGY_NAMES in the spec's Strategy, without cold_start or unranked", () => {
    expect(enumOf('Strategy')).toEqual(sorted(STRATEGY_NAMES));
    expect(enumOf('Strategy')).not.toContain(COLD_START_STRATEGY);
    expect(enumOf('Strategy')).not.toContain(UNRANKED_STRATEGY);
  });

  it('name rankings and selections in the spec as the contracts declare them', () => {
    expect(enumOf('RankingStrategy')).toEqual(sorted(RANKING_STRATEGIES));
    expect(sorted(RANKING_STRATEGIES)).toEqual(sorted([...STRATEGY_NAMES, COLD_START_STRATEGY]));
    expect(enumOf('SelectionStrategy')).toEqual(sorted(SELECTION_STRATEGIES));
    expect(sorted(SELECTION_STRATEGIES)).toEqual(sorted([...RANKING_STRATEGIES, UNRANKED_STRATEGY]));
  });

  it('have no duplicates anywhere', () => {
    for (const names of [STRATEGY_NAMES, RANKING_STRATEGIES, SELECTION_STRATEGIES, enumOf('Strategy')]) expect(new Set(names).size).toBe(names.length);
  });
});
