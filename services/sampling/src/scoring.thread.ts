import { parentPort } from 'node:worker_threads';
import { deserializeModel, predictProba, type TrainedModel } from '@alder/learning';
import type { ScoringReply, ScoringRequest } from './scoring-threads';

// A scoring thread: holds the models of the ranking jobs in progress (by key) and turns pages
// of texts into class probabilities, the CPU-bound part of re-scoring a pool.
const models = new Map<string, TrainedModel>();
const port = parentPort!;

port.on('message', (request: ScoringRequest) => {
  try {
    if (request.type === 'load') {
      models.set(request.key, deserializeModel(request.params));
      return;
    }
    if (request.type === 'drop') {
      models.delete(request.key);
      return;
    }
    const model = models.get(request.key);
    if (!model) throw new Error(`scoring thread has no model ${request.key}`);
    const probs = predictProba(model, request.texts);
    port.postMessage({ id: request.id, probs } satisfies ScoringReply, [probs.buffer as ArrayBuffer]);
  } catch (error) {
    if (request.type === 'score') port.postMessage({ id: request.id, error: (error as Error).message } satisfies ScoringReply);
  }
});
port.postMessage('ready');
