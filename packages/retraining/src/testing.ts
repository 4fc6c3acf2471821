// What test fixtures need of the retrain rule's SQL and services must not use.
export { countLabels } from './retrain-rule';
