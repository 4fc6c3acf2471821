import * as crypto from 'node:crypto';
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from '@alder/db';
import { MAX_LISTED_UPDATES } from './batch-landing';
import {
  conflictsOf,
  firstBatchItemAfter,
  importCopiedLabels,
  insertDuplicateTexts,
  insertStreamChunk,
  itemIdsSoFar,
  releaseCopiedChunk,
  streamItemsCopy,
  streamLine,
  streamStagingCopy,
  updateStaged,
  type NewItem,
  type OnDuplicateText,
  type OnResend,
} from './items.repository';

/** Hex SHA-256 of a text: crypto.hash (one call, no Hash object) where this Node has it (20.12 and later). */
const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function' ? (text) => crypto.hash('sha256', text, 'hex') : (text) => createHash('sha256').update(text, 'utf8').digest('hex');

/** A chunk lands at this many bytes of staging lines (long texts) if it has not reached its rows (INGEST_CHUNK_ROWS) before. */
export const CHUNK_BYTES = 16 * 2 ** 20;
/** Staging lines gathered into one COPY write. */
const WRITE_BYTES = 1 << 16;
/**
 * Chunks copied straight into items, each in a savepoint (a subtransaction), at most: Postgres
 * keeps 64 subtransactions of a transaction in shared memory, past which every other session's
 * snapshots get slower while the stream runs. Later chunks go the staged way.
 */
export const MAX_COPIED_CHUNKS = 48;
const UNIQUE_VIOLATION = '23505';

/**
 * A stream's lines gathered for one landing, no two with the same external_id. The staging lines
 * are kept as 64 KB buffers from the start: a line's parsed item dies young instead of living
 * (and being promoted to the old generation) until its chunk lands, which is what kept the
 * server's RSS growing with the stream.
 */
export class StreamChunk {
  private readonly staged: Buffer[] = [];
  private write = '';
  /** Each line's number, in order. */
  readonly ords: number[] = [];
  /** Each line's "external_id TAB content hash" (what the batch digest covers) followed by LF, all in one text. */
  private readonly digestParts: Buffer[] = [];
  private digestText = '';
  /** Where each line's digest entry starts in that text (bytes). */
  private readonly digestStarts: number[] = [];
  private digestBytes = 0;
  /** Bytes of digest entries so far, sealed or not. */
  private digestEnd = 0;
  private readonly firstLineOf = new Map<string, number>();
  private readonly texts = new Set<string>();
  /** Two of its lines have one text: the chunk is staged (a copy would fail on the first-text key). */
  repeatsText = false;
  private bytes = 0;

  /** Pool lines, and lines with an imported label (an annotation to write). */
  pool = 0;
  labeled = 0;

  /**
   * `maxRows`: lines gathered before the chunk lands (large enough that its round trips do not
   * count, small enough to hold two); `batch`: what each row names.
   */
  constructor(
    private readonly maxRows: number,
    private readonly batch: { projectId: string; batchId: string },
  ) {}

  /** The line of this chunk that has this external_id already, if any. */
  lineWith(externalId: string): number | undefined {
    return this.firstLineOf.get(externalId);
  }

  add(line: number, item: NewItem): void {
    const contentHash = sha256Hex(item.text);
    if (this.texts.has(contentHash)) this.repeatsText = true;
    else this.texts.add(contentHash);
    this.write += streamLine(this.batch.projectId, this.batch.batchId, { line, item, contentHash });
    if (item.split === 'pool') {
      this.pool++;
      if (item.label !== null && !item.gold) this.labeled++;
    }
    if (this.write.length >= WRITE_BYTES) this.seal();
    this.ords.push(line);
    const entry = `${item.external_id}\t${contentHash}\n`;
    this.digestStarts.push(this.digestEnd);
    this.digestEnd += Buffer.byteLength(entry, 'utf8');
    this.digestText += entry;
    if (this.digestText.length >= WRITE_BYTES) this.sealDigest();
    this.firstLineOf.set(item.external_id, line);
  }

  private sealDigest(): void {
    const buffer = Buffer.from(this.digestText, 'utf8');
    this.digestParts.push(buffer);
    this.digestBytes += buffer.length;
    this.digestText = '';
  }

  /**
   * The digest entries of the lines that landed (all but `skipped`), joined by LF, fed to
   * `hash`, after an LF when `more` (entries were fed before).
   */
  feedDigest(hash: Hash, more: boolean, skipped: ReadonlySet<number>): number {
    if (this.digestText) this.sealDigest();
    if (!skipped.size) {
      // Every line landed: the whole text, less its last LF.
      if (more) hash.update('\n');
      this.digestParts.forEach((part, i) => hash.update(i === this.digestParts.length - 1 ? part.subarray(0, part.length - 1) : part));
      return this.ords.length;
    }
    const text = Buffer.concat(this.digestParts, this.digestBytes);
    let fed = 0;
    this.ords.forEach((ord, i) => {
      if (skipped.has(ord)) return;
      const end = i + 1 < this.ords.length ? this.digestStarts[i + 1]! : text.length;
      if (more || fed) hash.update('\n');
      // The entry without its own LF.
      hash.update(text.subarray(this.digestStarts[i]!, end - 1));
      fed++;
    });
    return fed;
  }

  private seal(): void {
    const buffer = Buffer.from(this.write, 'utf8');
    this.staged.push(buffer);
    this.bytes += buffer.length;
    this.write = '';
  }

  get full(): boolean {
    return this.ords.length >= this.maxRows || this.bytes >= CHUNK_BYTES;
  }

  get size(): number {
    return this.ords.length;
  }

  /** The staging lines as COPY writes of about 64 KB. */
  writes(): Buffer[] {
    if (this.write) this.seal();
    return this.staged;
  }
}

/** A line the landing refused: a repeat of an earlier line, or a change the project refuses. */
export type RefuseLine = (line: number, pointer: string, reason: string) => void;

/** What a stream's chunks did, all told. */
export interface ChunkTotals {
  inserted: number;
  poolInserted: number;
  labelsImported: number;
  updated: number;
  skippedChanges: number;
  firstItemId: number | null;
  lastItemId: number | null;
  /** New items whose text the project had (on_duplicate_text), and of them those left out (skip). */
  duplicateTexts: number;
  skippedTexts: number;
  /** SHA-256 (hex) over the new items' external ids and content hashes in line (= id) order; null when none. */
  digest: string | null;
  /** The first updated item ids and the digest of every update; null when none. */
  updates: { itemIds: number[]; digest: string } | null;
}

/**
 * Lands a stream's chunks one after another in the stream's transaction while the next chunk is
 * being read: `land()` waits for the chunk before to have landed, then starts this one and
 * returns, so reading (node) and landing (Postgres) overlap, and at most two chunks are held.
 *
 * A chunk goes one of two ways. Copied: straight into items with COPY, in a savepoint, which is
 * about a third less work for Postgres than staging and inserting; a line whose external_id the
 * project has fails it (unique violation), the savepoint is rolled back and the chunk is staged
 * instead. Staged: COPY into a temp table and one INSERT ... ON CONFLICT DO NOTHING; the lines
 * that met a stored item are then told apart: an item this batch wrote is a repeated line
 * (refused, naming the first), any other is a re-send, updated, refused or counted by the
 * project's `on_resend`. After a chunk that met stored items the next is staged straight away
 * (a re-sent file meets them all along), and a project with overlap is always staged (Postgres
 * picks each item's annotations).
 */
export class ChunkLander {
  private pending: Promise<void> = Promise.resolve();
  private readonly totals = {
    inserted: 0,
    poolInserted: 0,
    labelsImported: 0,
    updated: 0,
    skippedChanges: 0,
    duplicateTexts: 0,
    skippedTexts: 0,
    firstItemId: null as number | null,
    lastItemId: null as number | null,
  };
  private readonly digest: Hash = createHash('sha256');
  private digested = 0;
  private readonly updatesDigest: Hash = createHash('sha256');
  private readonly updatedIds: number[] = [];
  private copiedChunks = 0;
  private lastMetStored = false;
  /** How the chunks went, for the log and the tests. */
  readonly ways = { copied: 0, staged: 0, copyRolledBack: 0 };

  constructor(
    private readonly client: PoolClient,
    private readonly batch: { projectId: string; batchId: string; apiKeyId: string | null; onResend: OnResend; onDuplicateText: OnDuplicateText; overlap: boolean },
    private readonly refuse: RefuseLine,
  ) {}

  /** Starts landing `chunk` once the chunk before it has landed (its failure is thrown here). */
  async land(chunk: StreamChunk): Promise<void> {
    await this.pending;
    if (!chunk.size) return;
    this.pending = this.landNow(chunk);
    // Heard by the next land() or finish(); never an unhandled rejection meanwhile.
    this.pending.catch(() => undefined);
  }

  /** Waits for the last chunk; what all the chunks did. */
  async finish(): Promise<ChunkTotals> {
    await this.pending;
    return {
      ...this.totals,
      digest: this.digested ? this.digest.digest('hex') : null,
      updates: this.totals.updated ? { itemIds: this.updatedIds, digest: this.updatesDigest.digest('hex') } : null,
    };
  }

  /** Waits for a landing under way, whatever its outcome (before a rollback). */
  async settle(): Promise<void> {
    await this.pending.catch(() => undefined);
  }

  private async landNow(chunk: StreamChunk): Promise<void> {
    const copy = !this.batch.overlap && !this.lastMetStored && !chunk.repeatsText && this.copiedChunks < MAX_COPIED_CHUNKS;
    if (copy && (await this.copyStraight(chunk))) return;
    await this.stage(chunk);
  }

  private addIds(first: number | null, last: number | null): void {
    const t = this.totals;
    if (first !== null) t.firstItemId = t.firstItemId === null ? first : Math.min(t.firstItemId, first);
    if (last !== null) t.lastItemId = t.lastItemId === null ? last : Math.max(t.lastItemId, last);
  }

  /** The chunk straight into items; false (and nothing written) when a line met a stored item. */
  private async copyStraight(chunk: StreamChunk): Promise<boolean> {
    const { client } = this;
    const { projectId, batchId, apiKeyId } = this.batch;
    const after = await itemIdsSoFar(client);
    await client.query('SAVEPOINT stream_chunk');
    try {
      await pipeline(Readable.from(chunk.writes()), streamItemsCopy(client));
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      await client.query('ROLLBACK TO SAVEPOINT stream_chunk');
      this.ways.copyRolledBack++;
      return false;
    }
    const last = await releaseCopiedChunk(client);
    this.copiedChunks++;
    this.ways.copied++;
    const t = this.totals;
    t.inserted += chunk.size;
    t.poolInserted += chunk.pool;
    if (chunk.labeled) t.labelsImported += await importCopiedLabels(client, { projectId, batchId, apiKeyId, after, last });
    this.addIds(t.firstItemId === null ? await firstBatchItemAfter(client, projectId, batchId, after) : null, last);
    this.digested += chunk.feedDigest(this.digest, this.digested > 0, new Set());
    this.lastMetStored = false;
    return true;
  }

  /** The chunk staged, inserted where new, and its lines that met stored items sorted out. */
  private async stage(chunk: StreamChunk): Promise<void> {
    const { client } = this;
    const { projectId, apiKeyId } = this.batch;
    await pipeline(Readable.from(chunk.writes()), await streamStagingCopy(client));
    const result = await insertStreamChunk(client, projectId, apiKeyId, this.batch.onDuplicateText);
    this.ways.staged++;
    this.count(result);
    this.totals.duplicateTexts += result.duplicateTexts;
    const landedLater = result.notInserted.length ? await this.sortOutConflicts(result.notInserted) : new Set<number>();
    this.digested += chunk.feedDigest(this.digest, this.digested > 0, new Set(result.notInserted.filter((ord) => !landedLater.has(ord))));
    this.lastMetStored = result.notInserted.length > 0;
  }

  private count(result: { inserted: number; poolInserted: number; labelsImported: number; firstItemId: number | null; lastItemId: number | null }): void {
    const t = this.totals;
    t.inserted += result.inserted;
    t.poolInserted += result.poolInserted;
    t.labelsImported += result.labelsImported;
    this.addIds(result.firstItemId, result.lastItemId);
  }

  /**
   * The staged lines that did not land, by what they met: a repeated line is refused; a re-send
   * is updated, refused or counted by on_resend; a repeated text lands naming its original
   * (report, link) or is counted (skip). The repeated texts that landed (their lines).
   */
  private async sortOutConflicts(ords: number[]): Promise<Set<number>> {
    const { projectId, batchId, apiKeyId, onResend, onDuplicateText } = this.batch;
    const t = this.totals;
    const toUpdate: number[] = [];
    const duplicates: { ord: number; original: number }[] = [];
    for (const conflict of await conflictsOf(this.client, projectId, batchId, ords)) {
      if (conflict.kind === 'text') duplicates.push(conflict);
      else if (conflict.repeat) this.refuse(conflict.ord, '/external_id', `repeats the external_id of line ${conflict.firstLine}`);
      else if (!conflict.changed) continue;
      else if (onResend === 'update') toUpdate.push(conflict.ord);
      else if (onResend === 'reject') {
        this.refuse(conflict.ord, '/text', 'differs from the stored item of this external_id (text or meta); the project refuses changes (on_resend: reject)');
      } else t.skippedChanges++;
    }
    t.duplicateTexts += duplicates.length;
    let landed = new Set<number>();
    if (duplicates.length && onDuplicateText === 'skip') t.skippedTexts += duplicates.length;
    else if (duplicates.length) {
      const result = await insertDuplicateTexts(this.client, { projectId, apiKeyId, link: onDuplicateText === 'link', duplicates });
      this.count(result);
      landed = new Set(result.lines);
    }
    if (toUpdate.length) {
      for (const update of await updateStaged(this.client, projectId, batchId, toUpdate)) {
        this.updatesDigest.update(`${t.updated++ ? '\n' : ''}${update.external_id}\t${update.old_hash}\t${update.new_hash}`);
        if (this.updatedIds.length < MAX_LISTED_UPDATES) this.updatedIds.push(update.id);
      }
    }
    return landed;
  }
}
