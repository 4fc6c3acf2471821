import { isFollowupDue } from './retrain-rule';

describe('isFollowupDue', () => {
  it('asks for a follow-up when a retrain\'s worth of labels arrived during the training', () => {
    expect(isFollowupDue({ seen: 60, now: 80, requested: 60, retrainEvery: 20 })).toBe(true);
    expect(isFollowupDue({ seen: 60, now: 79, requested: 60, retrainEvery: 20 })).toBe(false);
  });

  it('asks for one when a writer requested a retrain after the snapshot, however few labels came', () => {
    expect(isFollowupDue({ seen: 60, now: 61, requested: 61, retrainEvery: 20 })).toBe(true);
  });

  it('never asks when no label arrived, whatever was requested', () => {
    expect(isFollowupDue({ seen: 60, now: 60, requested: 60, retrainEvery: 20 })).toBe(false);
    // A manual request (it marks the count at label_count) made during the training.
    expect(isFollowupDue({ seen: 60, now: 60, requested: 60, retrainEvery: 1 })).toBe(false);
  });

  it('does not count a request made before the snapshot', () => {
    expect(isFollowupDue({ seen: 60, now: 70, requested: 50, retrainEvery: 20 })).toBe(false);
  });
});
