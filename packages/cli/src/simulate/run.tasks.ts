import type { Dataset } from './dataset.loader';
import { fullDataRun, initialSet, simulateRun, type LoopSettings, type RoundInfo } from './in-process.loop';
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
  const initialSets = new Map<number, number[]>();
  return async (task: SimTask, onRound: (info: RoundInfo) => void): Promise<TaskResult> => {
    if (task.kind === 'full') return { kind: 'full', result: await fullDataRun(data, task.repeat, task.seed) };
    let initial = initialSets.get(task.seed);
    if (!initial) {
      initial = initialSet(data, settings.initial, task.seed);
      initialSets.set(task.seed, initial);
    }
    const result = await simulateRun(data, { strategy: task.strategy, repeat: task.repeat, seed: task.seed, initial }, settings, { onRound });
    return { kind: 'run', result };
  };
}
