import { DriftlineError } from '../errors.js';
import type { InputFormat, OutputFormat } from '../pipeline/index.js';

export const OUTPUT_TYPES: Record<OutputFormat, string> = {
  json: 'application/json',
  ndjson: 'application/x-ndjson',
  csv: 'text/csv; charset=utf-8',
};

const INPUT_TYPES: Record<string, InputFormat> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'text/plain': 'csv',
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'application/x-jsonlines': 'ndjson',
};

export type BodyKind = { kind: 'raw'; format: InputFormat } | { kind: 'multipart' };

// Bodies are read as UTF-8. A declared ASCII-compatible charset (latin1, windows-1252…) is
// let through, since the numbers a model needs read the same in it; these cannot be.
const NOT_ASCII_COMPATIBLE = /^(?:utf-?16|utf-?32|ucs-?2|ucs-?4)/;

/** Reads Content-Type; refuses a missing or unknown one, or a UTF-16/32 charset, with 415. */
export function bodyKind(contentType: string): BodyKind {
  const [type, ...params] = contentType.split(';');
  const mime = type!.trim().toLowerCase();
  const charset = params
    .map((p) => p.trim().toLowerCase())
    .find((p) => p.startsWith('charset='))
    ?.slice(8)
    .replace(/^"|"$/g, '');
  if (charset !== undefined && NOT_ASCII_COMPATIBLE.test(charset)) {
    throw new DriftlineError('DL_ERR_UNSUPPORTED_MEDIA_TYPE', `Unsupported charset "${charset}": send the body as UTF-8`);
  }
  if (mime === 'multipart/form-data') return { kind: 'multipart' };
  const format = INPUT_TYPES[mime];
  if (format !== undefined) return { kind: 'raw', format };
  throw new DriftlineError(
    'DL_ERR_UNSUPPORTED_MEDIA_TYPE',
    mime === ''
      ? 'Missing Content-Type: send multipart/form-data (field "file"), text/csv, application/json or application/x-ndjson'
      : `Unsupported Content-Type "${mime}": send multipart/form-data (field "file"), text/csv, application/json or application/x-ndjson`,
  );
}

/** The input format of an uploaded file part: by its name, else its declared type, else CSV. */
export function fileFormat(filename: string | undefined, mimeType: string | undefined): InputFormat {
  const name = (filename ?? '').toLowerCase();
  if (name.endsWith('.json')) return 'json';
  if (name.endsWith('.ndjson') || name.endsWith('.jsonl')) return 'ndjson';
  if (name.endsWith('.csv')) return 'csv';
  return INPUT_TYPES[(mimeType ?? '').toLowerCase()] ?? 'csv';
}

/** Picks the response format from Accept (q-values honoured); JSON when nothing is asked. */
export function negotiate(accept: string): OutputFormat {
  if (accept.trim() === '') return 'json';
  const ranges = accept.split(',').map((part, i) => {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return { type: type!.trim(), q: q === undefined ? 1 : Number(q.slice(2)), i };
  });
  const candidates: [OutputFormat, string[]][] = [
    ['json', ['application/json', 'application/*', '*/*']],
    ['ndjson', ['application/x-ndjson', 'application/ndjson', 'application/jsonl']],
    ['csv', ['text/csv', 'text/*']],
  ];
  let best: { f: OutputFormat; q: number; i: number } | undefined;
  for (const r of ranges) {
    if (!(r.q > 0)) continue;
    for (const [f, types] of candidates) {
      if (!types.includes(r.type)) continue;
      if (best === undefined || r.q > best.q || (r.q === best.q && r.i < best.i)) best = { f, q: r.q, i: r.i };
    }
  }
  if (best === undefined) {
    throw new DriftlineError(
      'DL_ERR_NOT_ACCEPTABLE',
      `Cannot produce ${accept}: ask for application/json, application/x-ndjson or text/csv`,
    );
  }
  return best.f;
}
