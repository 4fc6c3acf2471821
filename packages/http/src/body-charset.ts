import type { FastifyRequest } from 'fastify';
import { HttpProblem } from './problem';

/** The `charset` parameter of a Content-Type header, lowercased and unquoted; undefined without one. */
export function charsetOf(contentType: string | undefined): string | undefined {
  for (const parameter of (contentType ?? '').split(';').slice(1)) {
    const at = parameter.indexOf('=');
    if (at === -1 || parameter.slice(0, at).trim().toLowerCase() !== 'charset') continue;
    return parameter.slice(at + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
  }
  return undefined;
}

/** A label the Encoding Standard reads as UTF-8 (`utf-8`, `utf8`, `unicode-1-1-utf-8`, ...). */
function namesUtf8(label: string): boolean {
  try {
    return new TextDecoder(label).encoding === 'utf-8';
  } catch {
    return false;
  }
}

/**
 * Bodies are read as UTF-8, always (RFC 8259 makes JSON UTF-8; the NDJSON and CSV readers decode
 * UTF-8 too). A body declared in another charset would be read as something it is not, so it is
 * refused (415) rather than decoded wrongly; no charset, or a name of UTF-8, passes.
 */
export function refuseForeignCharset(request: FastifyRequest): void {
  const charset = charsetOf(request.headers['content-type']);
  if (charset === undefined || namesUtf8(charset)) return;
  throw new HttpProblem(415, 'unsupported-media-type', `The body is declared as charset "${charset}"; send it as UTF-8 (charset=utf-8, or no charset).`);
}
