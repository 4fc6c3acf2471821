export { startSampling, type Sampling, type SamplingDeps } from './sampling.worker';
export {
  processRankPool,
  resolveStrategy,
  COLD_START_STRATEGY,
  FALLBACK_STRATEGY,
  type RankPoolDeps,
  type RankPoolPayload,
  type RankPoolResult,
} from './rank-pool.processor';
export { COLD_START_CAP, COLD_START_HEAD } from './rankers';
export { RANK_CHUNK } from './scored-pages';
export { samplingService } from './service';
export { RANKINGS_KEPT, ABANDONED_BUILD_MINUTES } from './ranking.repository';
