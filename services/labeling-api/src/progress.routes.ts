import { problems, type HandlerDeps, type HandlerMap } from '@alder/http';
import type { Schemas } from '@alder/api-types';
import { readProgress } from './progress.repository';
import { toProgress } from './progress.mapping';
import { findCurrentRanking, listRankingEntries } from './ranking.repository';
import { rankingContext, toRankingEntry, toRankingInfo } from './ranking.mapping';

/** Progress of the loop, and the current ranking of the pool. */
export function progressHandlers({ pool }: HandlerDeps): HandlerMap {
  return {
    getProgress: async (request) => {
      const projectId = request.params.project_id;
      const p = await readProgress(pool, projectId);
      if (!p) throw problems.notFound(`No project ${projectId}.`);
      return toProgress(projectId, p);
    },

    getRanking: async (request) => {
      const projectId = request.params.project_id;
      const limit = request.query.limit ?? 50;
      const offset = request.query.offset ?? 0;
      const ranking = await findCurrentRanking(pool, projectId);
      if (ranking === undefined) throw problems.notFound(`No project ${projectId}.`);
      if (ranking === null) return { ranking: null, data: [], total: 0, limit, offset };
      const context = rankingContext(ranking);
      const { rows, total } = await listRankingEntries(pool, ranking.id, limit, offset);
      return {
        ranking: toRankingInfo(ranking),
        data: rows.map((row, i) => toRankingEntry(context, row, offset + i + 1)),
        total,
        limit,
        offset,
      } satisfies Schemas['RankingPage'];
    },
  };
}
