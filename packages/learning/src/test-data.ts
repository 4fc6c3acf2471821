import { readFileSync } from 'node:fs';

/** A labelled split of one of the shared datasets, labels as indices into `labels`. */
export interface Split {
  texts: string[];
  y: number[];
  labels: string[];
}

/**
 * Reads ../shared/datasets/<name>/<split>.jsonl (jest runs from the repository root). Test
 * support only: the package itself does no IO. Labels are indexed in sorted order, taken from
 * the train split so train and test agree.
 */
export function loadSplit(name: string, split: 'train' | 'test'): Split {
  const read = (s: string) =>
    readFileSync(`../shared/datasets/${name}/${s}.jsonl`, 'utf8')
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as { text: string; label: string });
  const labels = [...new Set(read('train').map((r) => r.label))].sort();
  const rows = read(split);
  return { texts: rows.map((r) => r.text), y: rows.map((r) => labels.indexOf(r.label)), labels };
}
