import { agreementReport, type Annotation } from '@alder/agreement';
import type { Schemas } from '@alder/api-types';
import { problems, type HandlerDeps, type HandlerMap } from '@alder/http';
import { listAnnotatorStats, readAgreementInput, type AgreementInput, type AnnotatorStatsRow } from './agreement.repository';

/** The package's input: one entry per annotation, item ids as numbers, annotators by user id. */
export function toAnnotations({ labels, annotators }: AgreementInput): Annotation[] {
  const annotations: Annotation[] = [];
  for (const { who, itemIds, labelIndexes } of annotators) {
    for (let i = 0; i < itemIds.length; i++) annotations.push({ itemId: itemIds[i]!, annotator: who, label: labels[labelIndexes[i]!]! });
  }
  return annotations;
}

export function toAnnotatorStats(row: AnnotatorStatsRow): Schemas['AnnotatorStats'] {
  return {
    user_id: row.user_id,
    name: row.name,
    labels: row.labels,
    median_ms_per_label: row.median_ms_per_label,
    agreement_with_resolved: { items: row.resolved_items, agreed: row.resolved_agreed, share: row.resolved_share },
    gold: { answered: row.gold_answered, correct: row.gold_correct, accuracy: row.gold_accuracy },
    skips: row.skips,
    late: row.late,
  };
}

/**
 * The report runs on the API's event loop, and the bootstrap is most of its cost (about 20 ns per
 * annotation and resample): 1,000 resamples up to 25,000 annotations, fewer above so a report
 * stays near half a second of CPU, never under 100 (the intervals get coarser, not wrong).
 */
export function bootstrapResamplesFor(annotations: number): number {
  return Math.max(100, Math.min(1000, Math.floor(25_000_000 / Math.max(1, annotations))));
}

/** How far the project's annotators agree, and what each of them did. */
export function agreementHandlers({ pool }: HandlerDeps): HandlerMap {
  return {
    getAgreement: async (request) => {
      const projectId = request.params.project_id;
      const input = await readAgreementInput(pool, projectId);
      if (!input) throw problems.notFound(`No project ${projectId}.`);
      const annotations = toAnnotations(input);
      // The package's report is the response as it stands (snake_case, every number finite).
      return agreementReport(annotations, input.labels, { bootstrapResamples: bootstrapResamplesFor(annotations.length) }) satisfies Schemas['AgreementReport'];
    },

    listAnnotatorStats: async (request) => {
      const rows = await listAnnotatorStats(pool, request.params.project_id);
      return { data: rows.map(toAnnotatorStats) } satisfies Schemas['AnnotatorStatsList'];
    },
  };
}
