import { Transform, type Readable, type TransformCallback } from 'node:stream';
import Busboy from '@fastify/busboy';
import { HttpProblem, problems } from '@alder/http';

/** The fields a file import takes besides its file. */
export const UPLOAD_FIELDS = ['format', 'mapping'] as const;
/** The part that is the file. */
export const FILE_FIELD = 'file';

/** A field's longest value: a mapping is a few names. */
const MAX_FIELD_BYTES = 64 * 1024;

export interface FilePart {
  /** The fields sent before the file part. */
  fields: ReadonlyMap<string, string>;
  /** The name the client gave the file, or null. */
  filename: string | null;
  /** The part's content type, lowercased, without parameters (busboy says text/plain for a part that names none). */
  contentType: string | null;
  /** The file's bytes, as they arrive (read no faster than they are used); a failure of the form is raised after the bytes before it. */
  bytes: AsyncIterable<Buffer>;
}

export interface Upload {
  /** The file part, once its headers arrived; refused when the form ends without one. */
  file: Promise<FilePart>;
  /** The form's end, after the file: refused when another part follows the file. */
  end: Promise<void>;
}

/** A promise to settle later, whose refusal nobody may be waiting for (it is not an unhandled one). */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

const fieldError = (field: string, detail: string, message: string) => problems.validation(detail, [{ path: `body/${field}`, message }]);

/**
 * The file part's bytes, handed on as busboy reads them. A failure of the form (the client gone,
 * the body cut before its closing boundary) does not destroy them, which would drop what is
 * buffered unread: they end, and the failure is kept, for `chunksOf` to raise after the last
 * byte that came before it. So the reader sees the same rows and the same failure whether the
 * body came in one piece or many, and so does the batch.
 */
class FileBytes extends Transform {
  failure: Error | null = null;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    callback(null, chunk);
  }

  /** Ends the bytes with `error`, after those already written; nothing once they have ended. */
  failAfterData(error: Error): void {
    if (this.writableEnded || this.destroyed) return;
    this.failure = error;
    this.end();
  }
}

/** The bytes, then their failure if they had one. */
async function* chunksOf(bytes: FileBytes): AsyncGenerator<Buffer> {
  for await (const chunk of bytes) yield chunk as Buffer;
  if (bytes.failure) throw bytes.failure;
}

/** What the file's reader hears when the part fails: the client gone as it is, the parser's own complaint as a 400. */
function partFailure(error: Error & { code?: unknown }): Error {
  if (error instanceof HttpProblem || typeof error.code === 'string' || error.message === 'aborted') return error;
  return new HttpProblem(400, 'malformed-request', `The multipart body is malformed: ${error.message}.`);
}

/**
 * A multipart/form-data body as a file import reads it: the fields first (kept, at most 64 KiB
 * each), then the file part, handed over unread so it streams. Nothing after the file can be
 * seen before the file has been read, so what follows it (a field, a second file) is refused by
 * `end`, which the reader awaits before anything lands. A broken form is a 400; a body that
 * fails (the client gone) fails the file and both promises with its error.
 */
export function readUpload(body: Readable, contentType: string): Upload {
  const file = deferred<FilePart>();
  const end = deferred<void>();
  const fields = new Map<string, string>();
  let part: FilePart | null = null;
  /** Ends the file's bytes with a failure (set once the file part has come). */
  let stopFile: ((error: Error) => void) | null = null;
  let failed = false;
  /** The form failed while it was read (broken, cut off, the client gone): the file, if it is still coming, ends with the failure. */
  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    file.reject(error);
    end.reject(error);
    stopFile?.(error as Error);
  };
  /**
   * A part after the file: the file came whole and is read to its end as it is; the refusal is
   * `end`'s, heard once it has been (so the batch is aborted, however fast the body came).
   */
  const refuseAfterFile = (error: unknown) => {
    if (failed) return;
    failed = true;
    end.reject(error);
  };

  let form: ReturnType<typeof Busboy>;
  try {
    form = Busboy({
      headers: { 'content-type': contentType },
      limits: { fieldSize: MAX_FIELD_BYTES, fields: UPLOAD_FIELDS.length + 8, headerPairs: 100 },
      // The file part is a file whether or not it names a file name (`curl -F file=<items.csv`
      // sends none), and a field is a field even when sent from a file (`-F mapping=@map.json`).
      isPartAFile: (name, _type, filename) => name === FILE_FIELD || (filename !== undefined && !(UPLOAD_FIELDS as readonly string[]).includes(name ?? '')),
    });
  } catch (error) {
    // No boundary, or not multipart at all: nothing to read.
    fail(new HttpProblem(400, 'malformed-request', `The multipart body can not be read: ${(error as Error).message}.`));
    return { file: file.promise, end: end.promise };
  }

  form.on('field', (name, value, _nameTruncated, valueTruncated) => {
    if (part) return refuseAfterFile(fieldError(name, `The field "${name}" came after the file part: send every field (format, mapping) before the file, which is read as it arrives.`, 'comes after the file'));
    if (!(UPLOAD_FIELDS as readonly string[]).includes(name)) {
      return fail(fieldError(name, `The form has a field "${name}"; a file import takes ${UPLOAD_FIELDS.join(' and ')} before the file part.`, 'is not a field of a file import'));
    }
    if (fields.has(name)) return fail(fieldError(name, `The field "${name}" is sent twice.`, 'is sent twice'));
    if (valueTruncated) return fail(fieldError(name, `The field "${name}" is longer than ${MAX_FIELD_BYTES} bytes.`, 'is too long'));
    fields.set(name, value);
  });
  form.on('file', (name, stream, filename, _encoding, mimeType) => {
    if (part || name !== FILE_FIELD) {
      // Read past, unused: the form must be read to its end to see what else is wrong.
      stream.resume();
      if (part) return refuseAfterFile(fieldError(name, 'The form has more than one file part: send one file a request, as the last part.', 'is a second file'));
      return fail(fieldError(name, `The form has a file part named "${name}": name the file part "${FILE_FIELD}".`, 'is not the file part'));
    }
    // The reader gets its own stream, so that busboy's errors reach it as problems (a 400), in order.
    const bytes = new FileBytes();
    stopFile = (error) => {
      stream.unpipe(bytes);
      bytes.failAfterData(error);
    };
    stream.on('error', (error) => stopFile!(partFailure(error)));
    stream.pipe(bytes);
    part = { fields, filename: filename || null, contentType: mimeType || null, bytes: chunksOf(bytes) };
    if (!failed) file.resolve(part);
  });
  form.on('fieldsLimit', () => fail(problems.validation('The form has more fields than a file import takes (format, mapping, file).')));
  form.on('finish', () => {
    if (!part) fail(fieldError(FILE_FIELD, `The form has no file part: send the file as the part "${FILE_FIELD}" (curl -F file=@items.csv).`, 'is required'));
    else end.resolve();
  });
  form.on('error', (error) => fail(new HttpProblem(400, 'malformed-request', `The multipart body is malformed: ${(error as Error).message}.`)));
  body.on('error', (error) => {
    body.unpipe(form);
    fail(error);
  });
  body.pipe(form);
  return { file: file.promise, end: end.promise };
}
