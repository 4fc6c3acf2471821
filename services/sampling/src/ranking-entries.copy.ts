import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import copyStreams from 'pg-copy-streams';
import type { PoolClient } from '@alder/db';

/** One ranking_entries row; score and probs are null for the cold start. */
export interface RankingEntry {
  itemId: number;
  priority: number;
  score: number | null;
  probs: ArrayLike<number> | null;
  rationale: string;
}

// COPY text format: backslash, tab, newline and carriage return must be escaped in values.
function escapeText(value: string): string {
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

function real(value: number): string {
  return Number.isFinite(value) ? String(value) : 'NaN';
}

function realArray(values: ArrayLike<number>): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length; i++) parts.push(real(values[i]));
  return `{${parts.join(',')}}`;
}

/** Encodes entries as COPY text rows. */
export function encodeEntries(rankingId: number, entries: readonly RankingEntry[]): string {
  let out = '';
  for (const e of entries) {
    out += `${rankingId}\t${e.itemId}\t${real(e.priority)}\t${e.score === null ? '\\N' : real(e.score)}\t${
      e.probs === null ? '\\N' : realArray(e.probs)
    }\t${escapeText(e.rationale)}\n`;
  }
  return out;
}

/** Writes one chunk of entries with COPY FROM STDIN on `client`. */
export async function copyEntries(client: PoolClient, rankingId: number, entries: readonly RankingEntry[]): Promise<void> {
  if (!entries.length) return;
  const stream = client.query(
    copyStreams.from('COPY ranking_entries (ranking_id, item_id, priority, score, probs, rationale) FROM STDIN'),
  );
  await pipeline(Readable.from([encodeEntries(rankingId, entries)]), stream);
}
