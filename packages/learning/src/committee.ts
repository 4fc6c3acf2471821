import type { TrainedModel } from './model';
import { createRng } from './rng';
import { trainClassifier, type TrainOptions } from './train';

/** Members of a bootstrap committee: enough to disagree, few enough to train within a sampling job. */
export const COMMITTEE_SIZE = 4;

/**
 * Query-by-committee members (Seung et al. 1992; bagging as in Abe & Mamitsuka 1998): each is
 * trainClassifier on a bootstrap resample (n draws with replacement) of the labelled set, with
 * its own seed. Costs `members` trainings; callers cap the labelled set if that is too slow.
 */
export async function trainCommittee(
  texts: readonly string[],
  labels: readonly number[],
  numClasses: number,
  opts: { members?: number; seed: number; train?: TrainOptions },
): Promise<TrainedModel[]> {
  const rng = createRng(opts.seed ^ 0x2c1b3c6d);
  const members: TrainedModel[] = [];
  for (let m = 0; m < (opts.members ?? COMMITTEE_SIZE); m++) {
    const idx = Array.from({ length: texts.length }, () => Math.floor(rng() * texts.length));
    members.push(
      await trainClassifier(
        idx.map((i) => texts[i]),
        idx.map((i) => labels[i]),
        numClasses,
        { ...opts.train, seed: (opts.seed + 7919 * (m + 1)) >>> 0 },
      ),
    );
  }
  return members;
}

/** Per candidate: vote entropy and mean KL divergence of the members to the consensus. */
export interface CommitteeScores {
  /** Entropy of the members' hard votes, divided by log(min(members, numClasses)); in [0, 1]. */
  readonly voteEntropy: Float32Array;
  /** Mean over members of KL(member || consensus), consensus = mean of the members' probabilities; nats. */
  readonly kl: Float32Array;
}

/**
 * Disagreement of a committee over n candidates, from each member's n x numClasses
 * probabilities. Ties in a member's vote go to the lower class index.
 */
export function committeeScores(memberProbs: readonly Float32Array[], numClasses: number): CommitteeScores {
  const m = memberProbs.length;
  if (m === 0) throw new RangeError('a committee needs members');
  const n = memberProbs[0].length / numClasses;
  const voteEntropy = new Float32Array(n);
  const kl = new Float32Array(n);
  const votes = new Float64Array(numClasses);
  const consensus = new Float64Array(numClasses);
  const norm = Math.log(Math.min(m, numClasses));
  for (let i = 0; i < n; i++) {
    votes.fill(0);
    consensus.fill(0);
    for (const probs of memberProbs) {
      let top = 0;
      for (let c = 0; c < numClasses; c++) {
        const p = probs[i * numClasses + c];
        consensus[c] += p / m;
        if (p > probs[i * numClasses + top]) top = c;
      }
      votes[top] += 1 / m;
    }
    let h = 0;
    for (let c = 0; c < numClasses; c++) if (votes[c] > 0) h -= votes[c] * Math.log(votes[c]);
    voteEntropy[i] = norm > 0 ? h / norm : 0;
    let d = 0;
    for (const probs of memberProbs) {
      for (let c = 0; c < numClasses; c++) {
        const p = probs[i * numClasses + c];
        if (p > 0 && consensus[c] > 0) d += (p * Math.log(p / consensus[c])) / m;
      }
    }
    kl[i] = Math.max(0, d);
  }
  return { voteEntropy, kl };
}
