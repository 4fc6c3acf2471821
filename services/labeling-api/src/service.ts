import { defineService } from '@alder/host';
import { createLabelingHandlers } from './handlers';
import { taskLeasesRetention } from './retention';

/** The labeling API: projects, tasks, annotations, models, keys; enqueues training and re-ranking. */
export const labelingApiService = defineService({ name: 'labeling-api', handlers: createLabelingHandlers, produces: true, cpuHeavy: false, retention: [taskLeasesRetention] });
