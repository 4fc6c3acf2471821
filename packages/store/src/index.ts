export { recordLabels, markTrainingRequested } from './labels.repository';
