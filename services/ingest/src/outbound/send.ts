import { Agent, request } from 'undici';
import { signWebhook } from '@alder/webhooks';
import { guardedLookup, TargetRefusedError, urlRefusal, type TargetPolicy } from './target-guard';

/** Hops followed after the first request; a longer chain is a failed attempt. */
export const MAX_REDIRECTS = 5;
/** The most of a receiver's answer kept in the delivery log. */
export const RESPONSE_EXCERPT_BYTES = 1024;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** One message to send: the event's body as stored, signed with each valid secret of the subscription. */
export interface Message {
  url: string;
  webhookId: string;
  body: string;
  secrets: readonly string[];
}

/** What one attempt came to, as the delivery log records it. */
export interface AttemptOutcome {
  startedAt: Date;
  durationMs: number;
  /** The final answer's status; null when none came. */
  statusCode: number | null;
  error: string | null;
  responseExcerpt: string | null;
  /** The last URL tried. */
  url: string;
  ok: boolean;
}

/** The HTTP client deliveries go through: connections checked by the target policy, kept alive. */
export function createSender(policy: TargetPolicy, options: { timeoutMs: number; connections?: number }) {
  const agent = new Agent({
    connect: { lookup: guardedLookup(policy) as never, timeout: options.timeoutMs },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connections: options.connections ?? 64,
    keepAliveTimeout: 10_000,
  });

  /**
   * Sends one attempt: signs it now, POSTs it, follows redirects by hand (each hop's URL and
   * resolved address checked again), all within the timeout. Never throws: failures are outcomes.
   */
  async function send(message: Message, now: () => Date = () => new Date()): Promise<AttemptOutcome> {
    const startedAt = now();
    const began = performance.now();
    const signal = AbortSignal.timeout(options.timeoutMs);
    const signatures = message.secrets.map((secret) => signWebhook({ secret, id: message.webhookId, timestamp: startedAt, body: message.body }));
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Alder-Webhooks/1',
      ...signatures[0]!,
      // During a secret rotation's overlap: one signature with each secret.
      'webhook-signature': signatures.map((s) => s['webhook-signature']).join(' '),
    };
    let url = new URL(message.url);
    const outcome = (fields: Pick<AttemptOutcome, 'statusCode' | 'error' | 'responseExcerpt'>): AttemptOutcome => ({
      startedAt,
      durationMs: Math.round(performance.now() - began),
      url: url.href,
      ok: fields.error === null,
      ...fields,
    });
    try {
      for (let hop = 0; ; hop++) {
        const refused = urlRefusal(url, policy);
        if (refused) return outcome({ statusCode: null, error: `target refused: ${refused}`, responseExcerpt: null });
        const res = await request(url, { method: 'POST', headers, body: message.body, dispatcher: agent, signal });
        const location = res.headers.location;
        if (REDIRECTS.has(res.statusCode) && typeof location === 'string') {
          await res.body.dump();
          if (hop === MAX_REDIRECTS) return outcome({ statusCode: res.statusCode, error: `more than ${MAX_REDIRECTS} redirects`, responseExcerpt: null });
          // The POST is kept on every redirect (a webhook has no GET form); 307/308 are what a moved receiver should answer.
          url = new URL(location, url);
          continue;
        }
        const excerpt = await readExcerpt(res.body);
        const ok = res.statusCode >= 200 && res.statusCode < 300;
        return outcome({ statusCode: res.statusCode, error: ok ? null : `HTTP ${res.statusCode}`, responseExcerpt: excerpt });
      }
    } catch (error) {
      return outcome({ statusCode: null, error: describe(error, signal, options.timeoutMs), responseExcerpt: null });
    }
  }

  return { send, close: () => agent.close() };
}

export type Sender = ReturnType<typeof createSender>;

/** The first RESPONSE_EXCERPT_BYTES of a body as text; the rest is drained so the connection can be reused. */
async function readExcerpt(body: AsyncIterable<Buffer> & { dump(options?: { limit: number }): Promise<void> }): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= RESPONSE_EXCERPT_BYTES) break;
  }
  await body.dump({ limit: 64 * 1024 }).catch(() => undefined);
  if (size === 0) return null;
  return Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8');
}

/** A failure in words for the log: a timeout, a refused target, or the network error's code. */
function describe(error: unknown, signal: AbortSignal, timeoutMs: number): string {
  if (signal.aborted) return `timed out after ${timeoutMs} ms`;
  for (let cause: unknown = error; cause; cause = (cause as { cause?: unknown }).cause) {
    if (cause instanceof TargetRefusedError) return `target refused: ${cause.message}`;
  }
  const e = error as { code?: string; message?: string; name?: string };
  if (e.name === 'HeadersTimeoutError' || e.name === 'BodyTimeoutError' || e.code === 'UND_ERR_CONNECT_TIMEOUT') return `timed out after ${timeoutMs} ms`;
  return [e.code, e.message].filter(Boolean).join(': ') || 'request failed';
}
