export { agreementReport, DEFAULT_BOOTSTRAP_RESAMPLES, DEFAULT_MAX_DEGENERATE_SHARE, DEFAULT_MINIMUM_ITEMS, DEFAULT_SEED } from './report';
export { cohenKappa, fleissKappa, krippendorffAlpha, type FleissKappaValues, type KrippendorffAlphaValues } from './coefficients';
export { createRng, type Rng } from './rng';
export type {
  AgreementOptions,
  AgreementReport,
  Annotation,
  CoefficientInsufficient,
  CoefficientOk,
  CoefficientResult,
  InsufficientReason,
  IntervalReason,
  PairAgreement,
  PooledAgreement,
} from './types';
