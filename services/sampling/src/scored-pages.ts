import type { ModelHandle } from '@alder/compute';
import type { PoolClient } from '@alder/db';
import { unlabeledPage, type PoolItem } from './pool-items.repository';

/** Lets the event loop run (job lock renewal, in the all-in-one HTTP) between stretches of work. */
export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Items read, scored and written with one COPY per page. */
export const RANK_CHUNK = 5_000;

/** One page of the pool with what the model made of it. */
export interface ScoredPage {
  page: PoolItem[];
  /** page.length x numClasses. */
  probs: Float32Array;
  /** page.length x the model's representation width, when asked for. */
  embeddings?: Float32Array;
}

/**
 * The project's unlabeled pool, page by page in id order (keyset pagination), each page scored
 * on the compute threads. Up to `model.depth` pages are being scored at once, so the threads
 * work while the caller writes the previous page; pages still come out in id order, so whatever
 * the caller draws from a seeded stream per page draws the same way on every run.
 */
export async function* scoredPages(client: PoolClient, projectId: string, model: ModelHandle, options: { embeddings?: boolean } = {}): AsyncGenerator<ScoredPage> {
  const inFlight: Promise<ScoredPage>[] = [];
  let afterId = 0;
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && inFlight.length < model.depth) {
        const page = await unlabeledPage(client, projectId, afterId, RANK_CHUNK);
        if (page.length < RANK_CHUNK) exhausted = true;
        if (!page.length) break;
        afterId = page[page.length - 1]!.id;
        inFlight.push(model.score(page.map((item) => item.text), options).then((scored) => ({ page, ...scored })));
      }
      const next = inFlight.shift();
      if (!next) return;
      yield await next;
      await yieldToEventLoop();
    }
  } finally {
    // A failed or abandoned run leaves no unobserved rejections behind.
    for (const p of inFlight) p.catch(() => undefined);
  }
}
