export { applyLabelCount, isFollowupDue, countOneLabelCte, markTrainingRequested, recordLabels, requestFollowupIfDue, type FollowupInput } from './retrain-rule';
