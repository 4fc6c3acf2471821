/** One label given by one annotator to one item. */
export interface Annotation {
  itemId: string | number;
  annotator: string;
  label: string;
}

export interface AgreementOptions {
  /** A coefficient resting on fewer items than this is 'insufficient-data'. Default 10. */
  minimumItems?: number;
  /** Bootstrap resamples per coefficient; 0 disables the interval (ci95 null). Default 1000. */
  bootstrapResamples?: number;
  /** Seed of the bootstrap's random streams; the same seed and data give the same intervals. Default 1. */
  seed?: number;
  /**
   * Largest share of degenerate (0/0) resamples that is skipped; above it the interval is null
   * ('too-many-degenerate-resamples'), since an interval over the remaining resamples would be
   * conditioned on the data varying. Default 0.05.
   */
  maxDegenerateShare?: number;
}

/** Why a coefficient was not computed. */
export type InsufficientReason =
  /** Fewer items than minimum_items. */
  | 'too-few-items'
  /** Only one category was used, so the expected disagreement is 0 and the coefficient 0/0. */
  | 'single-category'
  /** Per-label coefficients: the label was never used on these items (0/0). */
  | 'label-not-used';

/** Why an 'ok' coefficient has no interval. */
export type IntervalReason = 'bootstrap-disabled' | 'too-many-degenerate-resamples';

export interface CoefficientOk {
  status: 'ok';
  value: number;
  /** Bootstrap percentile 95% interval [2.5%, 97.5%], or null (see ci95_reason). */
  ci95: [number, number] | null;
  /** Present only when ci95 is null. */
  ci95_reason?: IntervalReason;
  /** Number of items (units) the coefficient rests on. */
  items: number;
}

export interface CoefficientInsufficient {
  status: 'insufficient-data';
  items: number;
  minimum_items: number;
  reason: InsufficientReason;
}

export type CoefficientResult = CoefficientOk | CoefficientInsufficient;

export interface PairAgreement {
  /** The two annotators, in code-unit order of their names. */
  annotators: [string, string];
  cohen_kappa: CoefficientResult;
}

export interface PooledAgreement {
  overall: CoefficientResult;
  /** One entry for every label of the label set, in its order. */
  per_label: Record<string, CoefficientResult>;
}

export interface AgreementReport {
  /** Every pair of annotators that labelled at least one item in common. */
  pairs: PairAgreement[];
  fleiss_kappa: PooledAgreement;
  krippendorff_alpha: PooledAgreement;
  /** Items labelled by at least two annotators: the items Fleiss' kappa and alpha rest on. */
  items_with_overlap: number;
  minimum_items: number;
}
