import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import copyStreams from 'pg-copy-streams';
import type { PoolClient } from '@alder/db';
import { batchPickPriority, parseContract, rankingEntrySchema, storedRationaleSchema, toStoredPrecision } from '@alder/contracts';

/**
 * One ranking_entries row; what each field means is declared in @alder/contracts
 * (ranking-entry.contract.ts): score and probs are null for the cold start, and the rationale is
 * null where the labeling API derives it from the strategy and probs.
 */
export interface RankingEntry {
  itemId: number;
  priority: number;
  score: number | null;
  probs: Float32Array | readonly number[] | null;
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
    out += (i ? ',' : '') + (Number.isFinite(v) ? String(toStoredPrecision(v)) : 'NaN');
  }
  return out + '}';
}

/**
 * Encodes entries as COPY text rows, each validated first against the contract the labeling API
 * reads them with (about 0.4 us an entry); a violation is a bug and fails the job.
 */
export function encodeEntries(rankingId: number, entries: readonly RankingEntry[]): string {
  let out = '';
  for (const e of entries) {
    parseContract('ranking_entries', rankingEntrySchema, e);
    out += `${rankingId}\t${e.itemId}\t${real(e.priority)}\t${e.score === null ? '\\N' : real(e.score)}\t${
      e.probs === null ? '\\N' : probArray(e.probs)
    }\t${e.rationale === null ? '\\N' : escapeText(e.rationale)}\n`;
  }
  return out;
}

/** Writes one chunk of entries with COPY FROM STDIN on `client`. */
export async function copyEntries(client: PoolClient, rankingId: number, entries: readonly RankingEntry[]): Promise<void> {
  if (!entries.length) return;
  // Encoded (and validated) before the COPY starts: a COPY begun and never fed would leave the
  // connection waiting for its data forever.
  const rows = encodeEntries(rankingId, entries);
  const stream = client.query(
    copyStreams.from('COPY ranking_entries (ranking_id, item_id, priority, score, probs, rationale) FROM STDIN'),
  );
  await pipeline(Readable.from([rows]), stream);
}

/**
 * Raises a batch strategy's picks (item ids in selection order, entries already copied) above
 * every score, with their rationales: priorities from the contract's batchPickPriority, each
 * rationale validated as a stored one (picks keep theirs; it cannot be derived).
 */
export async function raiseBatchPicks(client: PoolClient, rankingId: number, itemIds: readonly number[], rationales: readonly string[]): Promise<void> {
  if (itemIds.length !== rationales.length) throw new Error(`${itemIds.length} batch picks but ${rationales.length} rationales`);
  const stored = rationales.map((rationale) => parseContract('ranking_entries.rationale', storedRationaleSchema, rationale));
  await client.query(
    `UPDATE ranking_entries e SET priority = p.priority, rationale = p.rationale
       FROM unnest($2::bigint[], $3::real[], $4::text[]) AS p(item_id, priority, rationale)
      WHERE e.ranking_id = $1 AND e.item_id = p.item_id`,
    [rankingId, itemIds, itemIds.map((_, position) => batchPickPriority(position, itemIds.length)), stored],
  );
}
