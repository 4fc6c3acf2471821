import type { PoolClient } from '@alder/db';
import { unlabeledPage, type PoolItem } from './pool-items.repository';
import type { JobScorer } from './scoring-threads';

/** Lets the event loop run (job lock renewal, in the all-in-one HTTP) between synchronous stretches. */
export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Items read, scored and written with one COPY per page. */
export const RANK_CHUNK = 5_000;

/**
 * The project's unlabeled pool, page by page in id order (keyset pagination), each page with its
 * class probabilities. Up to `scorer.depth` pages are being scored at once, so scoring threads
 * work while the caller writes the previous page; pages still come out in id order, so whatever
 * the caller draws from a seeded stream per page draws the same way on every run.
 */
export async function* scoredPages(client: PoolClient, projectId: string, scorer: JobScorer): AsyncGenerator<{ page: PoolItem[]; probs: Float32Array }> {
  const inFlight: Promise<{ page: PoolItem[]; probs: Float32Array }>[] = [];
  let afterId = 0;
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && inFlight.length < scorer.depth) {
        const page = await unlabeledPage(client, projectId, afterId, RANK_CHUNK);
        if (page.length < RANK_CHUNK) exhausted = true;
        if (!page.length) break;
        afterId = page[page.length - 1]!.id;
        inFlight.push(scorer.score(page.map((item) => item.text)).then((probs) => ({ page, probs })));
      }
      const next = inFlight.shift();
      if (!next) return;
      yield await next;
      // Inline scoring is synchronous: let the event loop (job lock renewal) run between pages.
      await yieldToEventLoop();
    }
  } finally {
    // A failed or abandoned run leaves no unobserved rejections behind.
    for (const p of inFlight) p.catch(() => undefined);
  }
}
