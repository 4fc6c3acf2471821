import { REACH_FRACTIONS, reachKey, type Saving, type StrategySummary } from './simulate.types';

const fixed = (value: number | null, digits: number) => (value === null ? 'n/a' : value.toFixed(digits));

function savingCell(s: Saving): string {
  if (s.pct === null) return 'n/a';
  const pct = `${s.pct >= 0 ? '+' : ''}${s.pct.toFixed(0)}%`;
  return s.bound === 'lower' ? `>${pct}` : s.bound === 'upper' ? `<${pct}` : pct;
}

/**
 * The summary as a plain-text table, one row per strategy (medians over repeats). A target
 * never reached shows as ">N" (N = the labels the run ended at); savings that are only bounds
 * carry > or <.
 */
export function formatSummaryTable(summaries: readonly StrategySummary[]): string {
  const reachHeads = REACH_FRACTIONS.map((f) => `@${reachKey(f)}%`);
  const header = ['strategy', 'AUC', 'final acc', ...reachHeads, ...reachHeads.map((h) => `save${h}`), 'worst gap', 'stop labels', 'stop acc'];
  const rows = summaries.map((s) => [
    s.strategy,
    fixed(s.auc, 4),
    s.final ? `${s.final.accuracy.toFixed(4)} @${s.final.labels}` : 'n/a',
    ...REACH_FRACTIONS.map((f) => {
      const labels = s.labels_to_reach[reachKey(f)];
      return labels === null ? (s.final ? `>${s.final.labels}` : 'n/a') : String(labels);
    }),
    ...REACH_FRACTIONS.map((f) => savingCell(s.saving_vs_random[reachKey(f)])),
    s.worst_gap_to_random === null ? 'n/a' : `${s.worst_gap_to_random >= 0 ? '+' : ''}${s.worst_gap_to_random.toFixed(1)}`,
    s.stop ? String(s.stop.labels) : 'null',
    s.stop ? s.stop.accuracy.toFixed(4) : 'null',
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A few lines under the table saying what its columns mean. */
export function tableLegend(fullAccuracy: number | null, repeats: number, stoppingNote: string): string {
  return [
    `medians over ${repeats} repeat(s); full-data accuracy ${fixed(fullAccuracy, 4)}`,
    'AUC: accuracy vs labels, area / label range; @x%: labels to reach x% of full-data accuracy;',
    'save@x%: fewer labels than random (> / <: a bound, one side never got there);',
    'worst gap: lowest (strategy - random) accuracy over the curve, in points, at matching label counts;',
    `stop: ${stoppingNote}`,
  ].join('\n');
}
