import { HttpProblem, problems } from '@alder/http';
import { fieldMapFromJson, FieldMapError, type FieldMap } from '@alder/item-mapping';
import type { BatchFile } from './batches.repository';
import type { FilePart } from './multipart-upload';

export type FileFormat = BatchFile['format'];

/** How a file import reads its file, from its fields and its part's headers. */
export interface ImportOptions {
  format: FileFormat;
  /** The part is gzip-compressed (inflated as it is read). */
  gzip: boolean;
  /** The form's mapping; null when it sent none. */
  mapping: FieldMap | null;
  /** What the batch records of the file. */
  file: BatchFile;
}

const FORMATS: readonly FileFormat[] = ['jsonl', 'csv'];
const TYPE_FORMATS: Record<string, FileFormat> = {
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
  'application/x-jsonlines': 'jsonl',
  'application/jsonlines': 'jsonl',
  'text/csv': 'csv',
  'application/csv': 'csv',
  'text/comma-separated-values': 'csv',
  'text/x-csv': 'csv',
};
const GZIP_TYPES = new Set(['application/gzip', 'application/x-gzip']);
/**
 * Types that say nothing of the format, as clients label a file they do not know: curl and most
 * libraries send application/octet-stream, browsers on Windows application/vnd.ms-excel for .csv.
 */
const GENERIC_TYPES = new Set(['application/octet-stream', 'binary/octet-stream', 'text/plain', 'application/json', 'application/vnd.ms-excel']);
const EXTENSION_FORMATS: Record<string, FileFormat> = { '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.csv': 'csv' };
/** The longest file name a batch keeps. */
const MAX_NAME_CHARS = 255;

const GZ = /\.gz$/i;

/** The file name as the batch can store it: no control characters or lone surrogates, at most 255 characters. */
export function storableFileName(name: string | null): string | null {
  if (name === null) return null;
  const clean = name.replace(/[\u0000-\u001f\u007f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '');
  return clean ? Array.from(clean).slice(0, MAX_NAME_CHARS).join('') : null;
}

function extensionFormat(name: string | null): FileFormat | null {
  const match = /\.[^./\\]+$/.exec(name ?? '');
  return match ? (EXTENSION_FORMATS[match[0].toLowerCase()] ?? null) : null;
}

function readMapping(text: string | undefined): FieldMap | null {
  if (text === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw problems.validation(`The mapping field is not JSON (${(error as Error).message}): send an object such as {"external_id": "id", "text": "body"}.`, [
      { path: 'body/mapping', message: 'is not JSON' },
    ]);
  }
  try {
    return fieldMapFromJson(value, 'mapping');
  } catch (error) {
    if (!(error instanceof FieldMapError)) throw error;
    throw problems.validation(`The mapping can not be used (${error.message}).`, [{ path: error.field ? `body/mapping/${error.field}` : 'body/mapping', message: error.message }]);
  }
}

/**
 * The format: the `format` field, else the part's content type, else its name's extension (after
 * `.gz`). gzip: the part's type says so, or its name ends in `.gz`. A type that names neither
 * format nor gzip nor nothing in particular is refused (415), and so is a format the field and
 * the type disagree on (422): the client is sending something else than it thinks.
 */
export function importOptions(part: FilePart): ImportOptions {
  const type = part.contentType ?? 'application/octet-stream';
  const typeFormat = TYPE_FORMATS[type] ?? null;
  if (!typeFormat && !GZIP_TYPES.has(type) && !GENERIC_TYPES.has(type)) {
    throw new HttpProblem(
      415,
      'unsupported-media-type',
      `The file part is ${type}: a file import reads JSONL (application/x-ndjson) or CSV (text/csv), either of them gzip-compressed (application/gzip).`,
      [{ path: 'body/file', message: `is ${type}` }],
    );
  }
  const gzip = GZIP_TYPES.has(type) || GZ.test(part.filename ?? '');
  const nameFormat = extensionFormat(part.filename?.replace(GZ, '') ?? null);
  const field = part.fields.get('format');
  let format: FileFormat;
  if (field !== undefined) {
    if (!(FORMATS as readonly string[]).includes(field)) {
      throw problems.validation(`The format field is ${JSON.stringify(field)}: it is jsonl or csv.`, [{ path: 'body/format', message: 'must be one of: jsonl, csv' }]);
    }
    format = field as FileFormat;
    if (typeFormat && typeFormat !== format) {
      throw problems.validation(`The format field says ${format} but the file part is ${type}: send the one that is true, or neither.`, [{ path: 'body/format', message: `contradicts the file part's ${type}` }]);
    }
  } else {
    const found = typeFormat ?? nameFormat;
    if (!found) {
      const named = part.filename ? `${type}, named "${part.filename}"` : `${type}, without a file name`;
      throw problems.validation(`Can not tell the file's format (the part is ${named}): send the field format=jsonl or format=csv before the file.`, [
        { path: 'body/format', message: 'is required for this file' },
      ]);
    }
    format = found;
  }
  return { format, gzip, mapping: readMapping(part.fields.get('mapping')), file: { name: storableFileName(part.filename), format } };
}
