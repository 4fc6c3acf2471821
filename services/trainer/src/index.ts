export { startTrainer, backendPreference, type Trainer, type TrainerDeps } from './trainer.worker';
export {
  processTrainModel,
  TRAIN_SEED,
  NO_LABELS_ERROR,
  type TrainModelDeps,
  type TrainModelPayload,
  type TrainModelResult,
  type ModelMetrics,
} from './train-model.processor';
export { STALE_TRAINING_SECONDS } from './model.repository';
export { stopSetPrediction, recordStopping, type StoppingEvidence, type StopSetPrediction } from './stopping.evaluator';
export { STOP_SET_SIZE } from './stopping.repository';
export { trainerService } from './service';
