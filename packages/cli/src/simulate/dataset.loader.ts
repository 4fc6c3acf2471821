import { readFile } from 'node:fs/promises';

/** A labeled split: texts and their labels as indices into Dataset.labels. */
export interface Split {
  path: string;
  texts: string[];
  y: number[];
}

/** Train and test files read for a simulation; `labels` is the sorted union of both files' labels. */
export interface Dataset {
  labels: string[];
  train: Split;
  test: Split;
}

/** A problem with an input file; the message names the file (and line). */
export class DatasetError extends Error {
  override name = 'DatasetError';
}

interface Row {
  text: string;
  label: string;
}

/** Reads JSON Lines of `{"text": string, "label": string | number}`; blank lines are skipped. */
export async function readLabeledJsonl(path: string): Promise<Row[]> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (error) {
    throw new DatasetError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const rows: Row[] = [];
  const lines = raw.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new DatasetError(`${path}:${i + 1}: not valid JSON`);
    }
    const { text, label } = (value ?? {}) as { text?: unknown; label?: unknown };
    if (typeof text !== 'string' || !text.trim()) throw new DatasetError(`${path}:${i + 1}: "text" must be a non-empty string`);
    if (typeof label === 'number' && Number.isFinite(label)) rows.push({ text, label: String(label) });
    else if (typeof label === 'string' && label.trim()) rows.push({ text, label });
    else throw new DatasetError(`${path}:${i + 1}: "label" must be a non-empty string (the gold label)`);
  }
  if (rows.length === 0) throw new DatasetError(`${path}: no labeled lines`);
  return rows;
}

/** Loads both files and indexes their labels in one shared, sorted label list. */
export async function loadDataset(trainPath: string, testPath: string): Promise<Dataset> {
  // One after the other, so that when both are bad the error always names the train file.
  const train = await readLabeledJsonl(trainPath);
  const test = await readLabeledJsonl(testPath);
  const labels = [...new Set([...train, ...test].map((r) => r.label))].sort();
  if (labels.length < 2) throw new DatasetError(`${trainPath}: needs at least two distinct labels, found ${labels.length}`);
  const testOnly = [...new Set(test.map((r) => r.label))].filter((l) => !train.some((r) => r.label === l));
  if (testOnly.length) throw new DatasetError(`${testPath}: label(s) ${testOnly.join(', ')} never occur in ${trainPath}`);
  const index = new Map(labels.map((l, i) => [l, i]));
  const split = (path: string, rows: Row[]): Split => ({ path, texts: rows.map((r) => r.text), y: rows.map((r) => index.get(r.label)!) });
  return { labels, train: split(trainPath, train), test: split(testPath, test) };
}
