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
  /** Null where the labeling API derives it from the strategy and probs (migration 0005). */
  rationale: string | null;
}

// COPY text format: backslash, tab, newline and carriage return must be escaped in values.
function escapeText(value: string): string {
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

function real(value: number): string {
  return Number.isFinite(value) ? String(value) : 'NaN';
}

/**
 * Probabilities to six decimals, what the API shows of them: a float32 printed in full takes 18
 * characters that Postgres then parses back to the same float4, and across a million entries
 * those bytes are a good part of the COPY.
 */
function probArray(values: ArrayLike<number>): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out += (i ? ',' : '') + (Number.isFinite(v) ? String(Math.round(v * 1e6) / 1e6) : 'NaN');
  }
  return out + '}';
}

/** Encodes entries as COPY text rows. */
export function encodeEntries(rankingId: number, entries: readonly RankingEntry[]): string {
  let out = '';
  for (const e of entries) {
    out += `${rankingId}\t${e.itemId}\t${real(e.priority)}\t${e.score === null ? '\\N' : real(e.score)}\t${
      e.probs === null ? '\\N' : probArray(e.probs)
    }\t${e.rationale === null ? '\\N' : escapeText(e.rationale)}\n`;
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
