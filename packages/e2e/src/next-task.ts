import { setTimeout as sleep } from 'node:timers/promises';

const RANKING_PENDING = 'https://alder.dev/problems/ranking-pending';

/**
 * POST tasks/next. Right after the first items arrive the API answers 503 ranking-pending until
 * sampling has published the cold start; this asks again after each Retry-After, at most `tries`
 * times (a count, not a clock: a slow machine only takes longer). Any other answer is returned.
 */
export async function nextTaskWhenRanked(
  base: string,
  key: string,
  projectId: string,
  tries = 60,
): Promise<{ status: number; body: any }> {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${base}/v1/projects/${projectId}/tasks/next`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const text = await response.text();
    const body = text ? JSON.parse(text) : undefined;
    if (response.status !== 503 || body?.type !== RANKING_PENDING || attempt >= tries) return { status: response.status, body };
    await sleep(Number(response.headers.get('retry-after') ?? '1') * 1000);
  }
}
