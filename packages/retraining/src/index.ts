export { isFollowupDue, markTrainingRequested, recordLabels, requestFollowupIfDue, type FollowupInput } from './retrain-rule';
