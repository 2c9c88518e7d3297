import type { Readable } from 'node:stream';
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
      const e = err instanceof DriftlineError ? err : new DriftlineError('DL_ERR_BAD_INPUT', `Malformed multipart body: ${err.message}`, { cause: err });
      if (found === undefined) reject(e);
      else found.stream.destroy(e);
    };
    bb.on('file', (name, stream, info) => {
      if (name !== 'file' || found !== undefined) {
        if (name === 'file') ignored++;
        stream.resume();
        return;
      }
      stream.on('limit', () => stream.destroy(new DriftlineError('DL_ERR_PAYLOAD_TOO_LARGE', `The file is larger than ${limits.maxFileBytes} bytes (MAX_UPLOAD_BYTES)`)));
      found = { stream, format: fileFormat(info.filename, info.mimeType), filename: info.filename, ignored: () => ignored };
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
