import { committeeScores, trainCommittee } from './committee';
import { predictProba } from './predict';

describe('committeeScores', () => {
  it('is 0 when every member agrees', () => {
    const a = Float32Array.from([0.8, 0.2, 0.1, 0.9]);
    const s = committeeScores([a, a, a], 2);
    expect(Array.from(s.voteEntropy)).toEqual([0, 0]);
    expect(s.kl[0]).toBeCloseTo(0, 6);
    expect(s.kl[1]).toBeCloseTo(0, 6);
  });

  it('is maximal for an even split of votes, and KL grows with disagreement', () => {
    const a = Float32Array.from([0.9, 0.1, 0.6, 0.4]);
    const b = Float32Array.from([0.1, 0.9, 0.4, 0.6]);
    const s = committeeScores([a, b], 2);
    expect(s.voteEntropy[0]).toBeCloseTo(1, 6);
    expect(s.voteEntropy[1]).toBeCloseTo(1, 6);
    expect(s.kl[0]).toBeGreaterThan(s.kl[1]);
    // KL(0.9,0.1 || 0.5,0.5) = 0.9 ln 1.8 + 0.1 ln 0.2
    expect(s.kl[0]).toBeCloseTo(0.9 * Math.log(1.8) + 0.1 * Math.log(0.2), 5);
  });

  it('breaks a member tie towards the lower class and handles one member', () => {
    const s = committeeScores([Float32Array.from([0.5, 0.5])], 2);
    expect(s.voteEntropy[0]).toBe(0);
    expect(() => committeeScores([], 2)).toThrow(RangeError);
  });
});

describe('trainCommittee', () => {
  it('trains distinct bootstrap members reproducibly', async () => {
    const texts = ['good movie', 'great film', 'bad movie', 'awful film', 'good fun', 'bad plot'];
    const labels = [0, 0, 1, 1, 0, 1];
    const opts = { members: 2, seed: 3, train: { epochs: 2, minSteps: 10 } };
    const a = await trainCommittee(texts, labels, 2, opts);
    const b = await trainCommittee(texts, labels, 2, opts);
    expect(a).toHaveLength(2);
    expect(predictProba(a[0], ['good'])).toEqual(predictProba(b[0], ['good']));
    expect(predictProba(a[0], texts)).not.toEqual(predictProba(a[1], texts));
  });
});
