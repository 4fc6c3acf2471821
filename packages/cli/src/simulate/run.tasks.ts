import type { Dataset } from './dataset.loader';
import { coldStartOrder, memoizeFeatures } from '@alder/learning';
import { fullDataRun, simulateRun, type LoopSettings, type RoundInfo } from './in-process.loop';
import type { FullDataResult, RunResult } from './simulate.types';

/** A unit of in-process work: one strategy in one repeat, or one repeat's full-data reference. */
export type SimTask =
  | { kind: 'run'; strategy: string; repeat: number; seed: number }
  | { kind: 'full'; repeat: number; seed: number };

export type TaskResult = { kind: 'run'; result: RunResult } | { kind: 'full'; result: FullDataResult };

export interface TaskSettings extends LoopSettings {
  initial: number;
}

/**
 * Runs tasks against one loaded dataset. Each thread keeps its own memo of cold-start sets:
 * coldStartOrder is a pure function of the texts and the seed, so every strategy of a repeat
 * starts from the same set whichever thread runs it.
 */
export function createTaskRunner(data: Dataset, settings: TaskSettings) {
  // Every round featurises the same texts again (training, scoring, the stop set, the test
  // split): remembering them all saves most of that work, and the results are the same.
  memoizeFeatures(data.train.texts.length + data.test.texts.length);
  const orders = new Map<number, number[]>();
  return async (task: SimTask, onRound: (info: RoundInfo) => void): Promise<TaskResult> => {
    if (task.kind === 'full') return { kind: 'full', result: await fullDataRun(data, task.repeat, task.seed) };
    let coldStart = orders.get(task.seed);
    if (!coldStart) {
      coldStart = coldStartOrder(data.train.texts, { seed: task.seed });
      orders.set(task.seed, coldStart);
    }
    const initial = coldStart.slice(0, Math.min(settings.initial, coldStart.length));
    const result = await simulateRun(data, { strategy: task.strategy, repeat: task.repeat, seed: task.seed, initial }, settings, { onRound });
    return { kind: 'run', result };
  };
}
