import { REACH_FRACTIONS, reachKey, type Saving, type StrategySummary } from './simulate.types';

const fixed = (value: number | null, digits: number) => (value === null ? 'n/a' : value.toFixed(digits));

function savingCell(s: Saving): string {
  if (s.pct === null) return 'n/a';
  const pct = `${s.pct >= 0 ? '+' : ''}${s.pct.toFixed(0)}%`;
  return s.bound === 'lower' ? `>${pct}` : s.bound === 'upper' ? `<${pct}` : pct;
}

const signedPoints = (x: number | null) => (x === null ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(1)}`);

/**
 * The summary as a plain-text table, one row per strategy (medians over repeats). A target
 * never reached shows as ">N" (N = the labels the run ended at); savings that are only bounds
 * carry > or <.
 */
export function formatSummaryTable(summaries: readonly StrategySummary[]): string {
  const reachHeads = REACH_FRACTIONS.map((f) => `@${reachKey(f)}%`);
  const header = ['strategy', 'AUC', 'final acc', ...reachHeads, ...reachHeads.map((h) => `save${h}`), 'worst gap', 'worst/rep', 'stop labels', 'stop acc'];
  const rows = summaries.map((s) => [
    s.strategy,
    fixed(s.auc, 4),
    s.final ? `${s.final.accuracy.toFixed(4)} @${s.final.labels}` : 'n/a',
    ...REACH_FRACTIONS.map((f) => {
      const labels = s.labels_to_reach[reachKey(f)];
      return labels === null ? (s.final ? `>${s.final.labels}` : 'n/a') : String(labels);
    }),
    ...REACH_FRACTIONS.map((f) => savingCell(s.saving_vs_random[reachKey(f)])),
    signedPoints(s.worst_gap_to_random),
    signedPoints(s.worst_gap_per_repeat),
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
    'worst gap: lowest point of the median paired (strategy - random) accuracy gap, in points;',
    'worst/rep: median of each repeat\'s own lowest paired gap (a min over noisy points: lower);',
    `stop: ${stoppingNote}`,
  ].join('\n');
}
