import type { Pool, PoolClient } from '@alder/db';
import type { Logger } from '@alder/logger';
import { withTransaction } from '@alder/db';
import { inlineCompute, type Compute } from '@alder/compute';
import { COLD_START_STRATEGY } from '@alder/contracts';
import { STRATEGY_NAMES, type StrategyName } from '@alder/learning';
import { isJobProcessed, type JobContext, type PayloadOf, type samplingQueue } from '@alder/queues';
import { rankColdStart, rankWithModel, seedOf } from './rankers';
import {
  createRanking,
  deleteRanking,
  findRanking,
  loadModel,
  loadProject,
  publishRanking,
  pruneRankings,
  type PublishOutcome,
} from './ranking.repository';

/** rankings.strategy of a ranking made without a model (declared with the ranking-entry contract). */
export { COLD_START_STRATEGY };
/** Used when the project names a strategy this service cannot run (yet). */
export const FALLBACK_STRATEGY: StrategyName = 'margin';

export interface RankPoolDeps {
  pool: Pool;
  /**
   * Where scoring, selection and the cold start run: the host gives the sampling service its
   * compute threads. Default: this thread (tests of the processor's logic).
   */
  compute?: Compute;
}

export type RankPoolPayload = PayloadOf<typeof samplingQueue, 'rank-pool'>;

export type RankPoolResult =
  | { skipped: 'no-project' | 'done' | Exclude<PublishOutcome, 'published'> }
  | { rankingId: number; modelId: number | null; strategy: string; itemCount: number };

export function resolveStrategy(name: string, log: Logger): StrategyName {
  if ((STRATEGY_NAMES as readonly string[]).includes(name)) return name as StrategyName;
  log.warn({ strategy: name, using: FALLBACK_STRATEGY }, 'unsupported strategy; ranking with the fallback');
  return FALLBACK_STRATEGY;
}

/** Loads the model's weights and ranks with them on the compute threads (deserialised there, once per thread). */
async function rankWithStoredModel(
  compute: Compute,
  client: PoolClient,
  input: { projectId: string; rankingId: number; modelId: number; strategy: StrategyName; seed: number; drawSeed: number; batch: number },
): Promise<number> {
  const stored = await loadModel(client, input.modelId);
  const model = compute.model(new Uint8Array(stored.params.buffer, stored.params.byteOffset, stored.params.byteLength));
  return rankWithModel(client, { ...input, stored, model });
}

/**
 * The `rank-pool` processor: ranks the project's unlabeled pool with its current model (or by
 * the diversity cold start when it has none), writes the entries with COPY, and makes the
 * ranking current in one transaction. Idempotent per job key. A job for a model that is no
 * longer current ranks with the current one: the newer model's own request may have merged into
 * it (a project has one re-rank waiting at most, samplingQueue.deduplicate).
 */
export async function processRankPool(
  deps: RankPoolDeps,
  payload: RankPoolPayload,
  context: Pick<JobContext, 'jobKey' | 'log'>,
): Promise<RankPoolResult> {
  const { pool } = deps;
  const compute = deps.compute ?? inlineCompute();
  const { jobKey } = context;
  const { projectId } = payload;
  const log = context.log.child({ projectId });

  const project = await loadProject(pool, projectId);
  if (!project) return { skipped: 'no-project' };
  if (payload.modelId !== undefined && payload.modelId !== project.currentModelId) {
    log.info({ modelId: payload.modelId, currentModelId: project.currentModelId }, 'rank-pool asked for a model that is no longer current: ranking with the current one');
  }
  const claimed = await isJobProcessed(pool, jobKey);
  const existing = await findRanking(pool, jobKey);
  if (claimed || existing?.status === 'ready') return { skipped: 'done' };
  if (existing) {
    // An earlier attempt crashed while building: start over.
    log.warn({ rankingId: existing.id }, 'dropping a half-built ranking of an earlier attempt');
    await deleteRanking(pool, existing.id);
  }

  const modelId = project.currentModelId;
  const strategy = modelId === null ? null : resolveStrategy(project.strategy, log);
  const began = performance.now();
  const client = await pool.connect();
  let rankingId: number;
  let itemCount: number;
  try {
    rankingId = await createRanking(client, { projectId, modelId, strategy: strategy ?? COLD_START_STRATEGY, requestKey: jobKey });
    try {
      itemCount =
        modelId === null || strategy === null
          ? await rankColdStart(client, { projectId, rankingId, seed: seedOf(projectId), compute })
          : await rankWithStoredModel(compute, client, { projectId, rankingId, modelId, strategy, seed: seedOf(jobKey), drawSeed: seedOf(projectId), batch: project.retrainEvery });
    } catch (error) {
      await deleteRanking(client, rankingId).catch(() => undefined);
      throw error;
    }
  } finally {
    client.release();
  }

  const outcome = await withTransaction(pool, (tx) => publishRanking(tx, { projectId, rankingId, modelId, itemCount, jobKey }));
  if (outcome !== 'published') {
    log.info({ rankingId, modelId, outcome }, 'ranking superseded while it was built: dropped');
    return { skipped: outcome };
  }
  const pruned = await pruneRankings(pool, projectId).catch((err) => {
    log.warn({ err }, 'could not prune old rankings');
    return 0;
  });
  log.info(
    { rankingId, modelId, strategy: strategy ?? COLD_START_STRATEGY, itemCount, ms: Math.round(performance.now() - began), pruned },
    'ranking ready',
  );
  return { rankingId, modelId, strategy: strategy ?? COLD_START_STRATEGY, itemCount };
}
