import { Transform, type TransformCallback } from 'node:stream';
import { DriftlineError } from '../errors.js';

/** Bytes looked at before the body is let through: enough to see UTF-16 text, however chunked. */
export const SNIFF_BYTES = 1024;

const BOMS: [string, number[]][] = [
  ['UTF-32LE', [0xff, 0xfe, 0x00, 0x00]],
  ['UTF-32BE', [0x00, 0x00, 0xfe, 0xff]],
  ['UTF-16LE', [0xff, 0xfe]],
  ['UTF-16BE', [0xfe, 0xff]],
];

/**
 * Pure core: why the start of a body cannot be UTF-8 text, or undefined. UTF-16 and UTF-32 are
 * told by their byte-order mark or, without one, by NUL bytes (every other byte of UTF-16
 * ASCII), which no CSV, JSON or NDJSON text has. Other invalid UTF-8 is not refused: it decodes
 * to U+FFFD, so a bad byte in a feature cell rejects that row ("not a number") and one in a
 * passed-through column shows as U+FFFD.
 */
export function notUtf8(head: Buffer): string | undefined {
  for (const [name, bom] of BOMS) {
    if (head.length >= bom.length && bom.every((b, i) => head[i] === b)) {
      return `The body starts with a ${name} byte-order mark: send it as UTF-8`;
    }
  }
  const nul = head.indexOf(0);
  if (nul !== -1) return `The body has a NUL byte at offset ${nul} (UTF-16 or binary data?): send UTF-8 text`;
  return undefined;
}

/**
 * bytes → the same bytes, once the first SNIFF_BYTES (or the whole body, if shorter) have passed
 * `notUtf8`. Before the parsers, so every input format answers a UTF-16 file the same way
 * (DL_ERR_BAD_ENCODING) rather than with whatever its parser makes of the NUL bytes.
 */
export function createRequireUtf8(): Transform {
  let held: Buffer[] = [];
  let heldBytes = 0;
  let checked = false;
  const check = (stage: Transform): DriftlineError | undefined => {
    checked = true;
    const head = held.length === 1 ? held[0]! : Buffer.concat(held);
    held = [];
    const problem = notUtf8(head.subarray(0, SNIFF_BYTES));
    if (problem !== undefined) return new DriftlineError('DL_ERR_BAD_ENCODING', problem);
    if (head.length > 0) stage.push(head);
    return undefined;
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (checked) return cb(null, chunk);
      held.push(chunk);
      heldBytes += chunk.length;
      cb(heldBytes >= SNIFF_BYTES ? check(this) : undefined);
    },
    flush(cb: TransformCallback) {
      cb(checked ? undefined : check(this));
    },
  });
}
