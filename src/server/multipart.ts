import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { DriftlineError } from '../errors.js';
import type { InputFormat } from '../pipeline/index.js';
import { fileFormat } from './negotiate.js';

export interface FilePart {
  stream: Readable;
  format: InputFormat;
  filename: string | undefined;
  /** Further file parts skipped after the first `file` (reported in the response summary). */
  ignored: () => number;
}

/**
 * Finds the `file` field of a multipart/form-data body (as the original service's form) and
 * hands it over as a stream; busboy parses the parts without buffering the upload.
 */
export function multipartFile(body: Readable, contentType: string, limits: { maxFileBytes: number }): Promise<FilePart> {
  return new Promise<FilePart>((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: { 'content-type': contentType },
        limits: { fileSize: limits.maxFileBytes, fields: MAX_FIELDS, fieldSize: 64 * 1024, parts: MAX_PARTS },
      });
    } catch (err) {
      reject(new DriftlineError('DL_ERR_BAD_INPUT', `Malformed multipart request: ${(err as Error).message}`, { cause: err }));
      return;
    }
    let found: FilePart | undefined;
    let ignored = 0;
    const fail = (err: Error): void => {
      const e = malformed(err);
      if (found === undefined) reject(e);
      else found.stream.destroy(e);
    };
    bb.on('file', (name, stream, info) => {
      // busboy destroys a part's stream with its own error when the form breaks off (a
      // truncated body: "Unexpected end of form"), possibly before anyone is listening.
      if (name !== 'file' || found !== undefined) {
        if (name === 'file') ignored++;
        stream.on('error', () => {});
        stream.resume();
        return;
      }
      // The pipeline attaches to the part only after this promise settles, a tick or more
      // later, and busboy's errors are plain Errors. The PassThrough holds the part's errors,
      // as typed ones, until then: an unheard 'error' event would take the process down.
      const out = new PassThrough({ highWaterMark: 64 * 1024 });
      out.on('error', () => {});
      // Listening before pipeline() does: `out` is destroyed with the typed error first, and
      // pipeline()'s own teardown of it is then a no-op.
      stream.on('error', (err: Error) => out.destroy(malformed(err)));
      stream.on('limit', () =>
        stream.destroy(
          new DriftlineError('DL_ERR_PAYLOAD_TOO_LARGE', `The file is larger than ${limits.maxFileBytes} bytes (MAX_UPLOAD_BYTES)`),
        ),
      );
      // pipeline() tears the part down when its reader goes away; the error itself reaches
      // that reader through `out`.
      pipeline(stream, out).catch(() => {});
      found = { stream: out, format: fileFormat(info.filename, info.mimeType), filename: info.filename, ignored: () => ignored };
      resolve(found);
    });
    // busboy skips parts beyond its limits without a word: the form would then look as if it
    // had no file. Past the parts limit no `file` can follow, so that is the answer at once;
    // past the fields limit a `file` still can, so it is the answer only if none came.
    let fieldsHit = false;
    bb.on('partsLimit', () => {
      if (found === undefined) reject(tooManyParts('parts', MAX_PARTS));
    });
    bb.on('fieldsLimit', () => {
      fieldsHit = true;
    });
    bb.on('error', (err: Error) => fail(err));
    bb.on('close', () => {
      if (found !== undefined) return;
      reject(
        fieldsHit
          ? tooManyParts('fields', MAX_FIELDS)
          : new DriftlineError('DL_ERR_NO_FILE', 'The multipart body has no "file" field: send the CSV as form field "file"'),
      );
    });
    // Either side's error or early close tears the other down: busboy stops on a broken body,
    // and the body is not left open behind a form that failed.
    pipeline(body, bb).catch((err: unknown) => fail(err instanceof Error ? err : new Error(String(err))));
  });
}

/** busboy's limits on the parts of one form: a form holds a file and a few small fields. */
const MAX_PARTS = 128;
const MAX_FIELDS = 64;

const tooManyParts = (what: 'parts' | 'fields', max: number): DriftlineError =>
  new DriftlineError(
    'DL_ERR_MULTIPART_LIMIT',
    `The multipart body reached the limit of ${max} ${what === 'parts' ? 'parts' : 'non-file fields'} without a "file" field (the rest is not read): send the file first, or fewer fields`,
    {
      details: { limit: what, max },
    },
  );

function malformed(err: Error): DriftlineError {
  return err instanceof DriftlineError
    ? err
    : new DriftlineError('DL_ERR_BAD_INPUT', `Malformed multipart body: ${err.message}`, { cause: err });
}
