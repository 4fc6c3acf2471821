import type { TestResponse } from '@alder/http/testing';

/**
 * 5xx answers that are not failures: `tasks/next` before a project has a ranking answers 503
 * `ranking-pending` with Retry-After (sampling, not running here, would make one): a documented
 * "ask again", not an error of the server.
 */
const EXPECTED_5XX = new Set(['https://alder.dev/problems/ranking-pending']);

/** What is wrong with an answer: [] when it keeps the rules of "no 5xx on any input". */
export function brokenRules(method: string, res: TestResponse): string[] {
  const broken: string[] = [];
  const type = res.headers['content-type'] ?? '';
  let problem: Record<string, unknown> | null = null;
  if (res.statusCode >= 400 && method !== 'HEAD') {
    if (!/^application\/problem\+json(;|$)/.test(type)) broken.push(`a ${res.statusCode} answered as ${type || 'no content type'}, not application/problem+json`);
    try {
      problem = JSON.parse(res.body) as Record<string, unknown>;
    } catch {
      broken.push(`a ${res.statusCode} whose body is not JSON`);
    }
    if (problem && (typeof problem.type !== 'string' || typeof problem.title !== 'string' || problem.status !== res.statusCode)) {
      broken.push(`a ${res.statusCode} whose problem document lacks type, title or the status`);
    }
  }
  if (res.statusCode >= 500 && !(res.statusCode === 503 && EXPECTED_5XX.has(String(problem?.type)))) broken.push(`a ${res.statusCode}: ${res.body.slice(0, 300)}`);
  return broken;
}
