import type { FastifyInstance } from 'fastify';
import { refuseForeignCharset } from './body-charset';
import { HttpProblem, problems } from './problem';
import { unstorableStrings } from './storable-strings';

/** Refuses invalid UTF-8 (a BOM is dropped) instead of putting U+FFFD in its place. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

class UnsupportedMediaType extends Error {
  readonly code = 'FST_ERR_CTP_INVALID_MEDIA_TYPE';
  readonly statusCode = 415;
}

/**
 * Bodies are JSON only: any other content type is a 415 before a handler sees it. The bytes are
 * checked before they are parsed: a charset other than UTF-8 is a 415, bytes that are not UTF-8
 * a 400 (Buffer#toString would quietly make U+FFFD of them, so `["\xff", "\xfe"]` would be two
 * equal labels, stored as such). Once parsed, a string Postgres can not store as sent (a NUL, a
 * lone surrogate from a `\u` escape), as a value or a key, a number past a double, or nesting
 * past MAX_JSON_DEPTH, is a 422 naming its JSON pointer.
 */
export function acceptJsonOnly(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    // A signed operation keeps the bytes as they arrived: its signature is over them, and no
    // re-serialisation of the parsed value gives them back.
    if (request.routeOptions.config.rawBody === true) request.rawBody = bytes;
    let text: string;
    try {
      refuseForeignCharset(request);
      text = utf8.decode(bytes);
    } catch (error) {
      return done(error instanceof HttpProblem ? error : new HttpProblem(400, 'malformed-request', 'The body is not valid UTF-8.'), undefined);
    }
    // The default parser is synchronous and calls back inside its own try: what the callback
    // throws would come back as "not valid JSON", so the value is checked out here.
    let parsed: { error: Error | null; value: unknown } = { error: null, value: undefined };
    parseJson(request, text, (error, value) => {
      parsed = { error, value };
    });
    if (parsed.error) return done(parsed.error, undefined);
    const unstorable = unstorableStrings(parsed.value);
    if (unstorable.length) return done(problems.validation('The body holds text that can not be stored as sent.', unstorable), undefined);
    done(null, parsed.value);
  });
  // Listed because the spec's error responses use it (the router warns about a type it cannot
  // parse); a request body of this type is still refused.
  app.addContentTypeParser('application/problem+json', (_request, _payload, done) => done(new UnsupportedMediaType(), undefined));
}
