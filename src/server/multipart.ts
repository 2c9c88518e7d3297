import { PassThrough, type Readable } from 'node:stream';
import busboy from 'busboy';
import { DriftlineError } from '../errors.js';
import type { InputFormat } from '../stages/types.js';
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
      bb = busboy({ headers: { 'content-type': contentType }, limits: { fileSize: limits.maxFileBytes, fields: 64, fieldSize: 64 * 1024, parts: 128 } });
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
      stream.on('error', (err: Error) => out.destroy(malformed(err)));
      stream.on('limit', () => stream.destroy(new DriftlineError('DL_ERR_PAYLOAD_TOO_LARGE', `The file is larger than ${limits.maxFileBytes} bytes (MAX_UPLOAD_BYTES)`)));
      out.once('close', () => {
        if (!stream.destroyed) stream.destroy();
      });
      stream.pipe(out);
      found = { stream: out, format: fileFormat(info.filename, info.mimeType), filename: info.filename, ignored: () => ignored };
      resolve(found);
    });
    bb.on('error', (err: Error) => fail(err));
    bb.on('close', () => {
      if (found === undefined) reject(new DriftlineError('DL_ERR_NO_FILE', 'The multipart body has no "file" field: send the CSV as form field "file"'));
    });
    body.on('error', (err: Error) => fail(err));
    body.pipe(bb);
  });
}

function malformed(err: Error): DriftlineError {
  return err instanceof DriftlineError ? err : new DriftlineError('DL_ERR_BAD_INPUT', `Malformed multipart body: ${err.message}`, { cause: err });
}
