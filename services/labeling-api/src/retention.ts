import type { RetentionTarget } from '@alder/queues';
import { deleteEndedLeases } from './tasks.repository';

/** Ended task leases no annotation came from, for `startRetention` (@alder/queues). */
export const taskLeasesRetention: RetentionTarget = { table: 'task_leases', deleteBatch: deleteEndedLeases };
